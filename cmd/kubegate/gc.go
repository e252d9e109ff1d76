package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// The collector runs at Go's default pace (GOGC 100) under a soft memory
// limit that keeps a run within a small CI runner's memory while its data
// allows, and gives way when the data grows:
//
//   - the limit starts at heapFloor (768 MiB): a run whose live heap stays
//     under about half of it runs exactly as at GOGC 100, one above is
//     collected more often instead of doubling its heap;
//   - after each collection the limit is raised to 1.5 times the live heap
//     when that is more, so that a monorepo's run is not collected without
//     end (an effective GOGC of 50 from there);
//   - it never exceeds three quarters of the memory available (the
//     container's limit), so that a large input in a small container is
//     collected harder instead of killed.
//
// GOMEMLIMIT in the environment turns all of this off; GOGC is Go's own.
//
// Measured on the 40,000-resource yardstick (2 cores): peak RSS 1.10 GB at
// GOGC 100 alone, 0.91 GB with the floor, in the same time (7.8 to 8.2 s);
// faulting in fresh pages for a larger heap costs about what collecting a
// smaller one does. The 10,000-resource yardstick never reaches the floor.
// (Until 2026-12 kubegate collected nothing below 768 MiB and then ran at
// GOGC 400: 0.9 GB and 10% slower at 10,000 resources, 2.4 GB at 40,000.)
const heapFloor = 768 << 20

// gcLimit is the soft limit for a live heap of live bytes: at least
// floor, at most max (three quarters of the memory available).
func gcLimit(live, floor, max int64) int64 {
	return min(max, int64(math.Max(float64(floor), float64(live)*1.5)))
}

// tuneGC sets the soft limit for an empty heap, then again after each
// collection (a cleanup of an object made for the purpose runs once the
// collector has found it unreachable, and makes the next one).
func tuneGC(max int64) {
	t := &gcTuner{floor: heapFloor, max: max}
	debug.SetMemoryLimit(gcLimit(0, t.floor, t.max))
	t.arm()
}

type gcTuner struct {
	floor, max int64
	// adjusted, when set (tests), receives each limit set.
	adjusted chan int64
}

// sentinel is the object whose collection marks a cycle's end: a pointer
// field keeps it out of the tiny allocator, which would batch it with
// other objects.
type sentinel struct {
	_ *int
	_ [8]byte
}

func (t *gcTuner) arm() {
	runtime.AddCleanup(new(sentinel), func(t *gcTuner) {
		t.adjust()
		t.arm()
	}, t)
}

var liveSample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}

func (t *gcTuner) adjust() {
	s := make([]metrics.Sample, 1)
	copy(s, liveSample)
	metrics.Read(s)
	var live int64
	if s[0].Value.Kind() == metrics.KindUint64 {
		live = int64(min(s[0].Value.Uint64(), math.MaxInt64))
	}
	limit := gcLimit(live, t.floor, t.max)
	debug.SetMemoryLimit(limit)
	if t.adjusted != nil {
		select { // never block the goroutine that runs every cleanup
		case t.adjusted <- limit:
		default:
		}
	}
}

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
