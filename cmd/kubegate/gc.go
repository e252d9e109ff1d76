package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// gcBudget is the heap below which nothing is collected, where memory
// allows (see main): about 820 MB of resident memory for the 10,000
// resources of the speed yardstick, which then run without a single
// collection (a fifth less wall time than GOGC 400).
const gcBudget = 768 << 20

// available is the memory kubegate may use: its container's limit (cgroup
// v1 or v2, as GitLab's Kubernetes executor and docker --memory set it),
// else the machine's memory, else 4 GiB.
func available() int64 {
	n, err := memlimit.ApplyFallback(memlimit.FromCgroup, memlimit.FromSystem)()
	if err != nil || n == 0 || n > math.MaxInt64 {
		return 4 << 30
	}
	return int64(n)
}

// proportionalGC is the collector's setting once the live heap is large:
// collect when the heap has grown by 400% since the last collection.
const proportionalGC = 400

// tuneGC sets the collector for a short-lived batch. Until the heap reaches
// budget bytes nothing is collected: a check of some thousands of resources
// then never pauses to collect memory it is about to exit with. After a
// collection, a live heap above half the budget (a large input) switches
// to proportional collection, with the soft limit at ceiling, so that a
// large input is not collected continuously against the budget.
func tuneGC(budget, ceiling int64) {
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(budget)
	hook := &gcHook{budget: budget, ceiling: ceiling}
	runtime.SetFinalizer(hook, (*gcHook).collected)
}

// gcHook's finalizer runs after every collection, for as long as it
// re-arms itself.
type gcHook struct {
	budget, ceiling int64
	sample          []metrics.Sample
}

func (h *gcHook) collected() {
	if h.sample == nil {
		h.sample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	}
	metrics.Read(h.sample)
	if h.sample[0].Value.Kind() == metrics.KindUint64 && int64(h.sample[0].Value.Uint64()) > h.budget/2 {
		debug.SetGCPercent(proportionalGC)
		debug.SetMemoryLimit(h.ceiling)
		return
	}
	runtime.SetFinalizer(h, (*gcHook).collected)
}
