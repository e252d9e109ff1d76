package main

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// gcPercent reads the collector's setting.
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// collectUntil collects until the finalizer goroutine has run the hook and
// cond holds, for at most 50 collections (no clock involved).
func collectUntil(cond func() bool) bool {
	for range 50 {
		runtime.GC()
		runtime.Gosched()
		if cond() {
			return true
		}
	}
	return false
}

func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))

	// A small live heap: nothing is collected until the budget.
	tuneGC(256<<20, 1<<30)
	if p := gcPercent(); p != -1 {
		t.Fatalf("GC percent %d, want -1 (off until the budget)", p)
	}
	if collectUntil(func() bool { return gcPercent() != -1 }) {
		t.Fatalf("switched to GC percent %d with a small live heap", gcPercent())
	}

	// A live heap above half the budget: proportional collection, with the
	// ceiling as the soft limit.
	tuneGC(8<<20, 1<<30)
	live := make([][]byte, 0, 64)
	for range 64 {
		live = append(live, make([]byte, 1<<20))
	}
	if !collectUntil(func() bool { return gcPercent() == proportionalGC }) {
		t.Fatalf("GC percent %d after collections with 64 MiB live over an 8 MiB budget, want %d", gcPercent(), proportionalGC)
	}
	if limit := debug.SetMemoryLimit(-1); limit != 1<<30 {
		t.Errorf("soft limit %d, want the ceiling", limit)
	}
	runtime.KeepAlive(live)
}

// available never exceeds the machine's memory and is never zero.
func TestAvailable(t *testing.T) {
	n := available()
	if n <= 0 {
		t.Fatalf("available %d", n)
	}
	if sys, err := memlimit.FromSystem(); err == nil && uint64(n) > sys {
		t.Errorf("available %d exceeds the machine's %d", n, sys)
	}
}
