package main

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

func TestGCLimit(t *testing.T) {
	for _, tc := range []struct {
		live, max, want int64
	}{
		{0, 3 << 30, heapFloor},                   // an empty heap: the floor
		{300 << 20, 3 << 30, heapFloor},           // under half the floor: as at GOGC 100
		{512 << 20, 3 << 30, heapFloor},           // the floor binds
		{1 << 30, 3 << 30, 3 << 29},               // 1.5 times the live heap beyond
		{4 << 30, 3 << 30, 3 << 30},               // never above three quarters available
		{0, 256 << 20, 256 << 20},                 // a small container's limit wins
		{int64(1) << 62, 1 << 40, int64(1) << 40}, // no overflow
	} {
		if got := gcLimit(tc.live, heapFloor, tc.max); got != tc.want {
			t.Errorf("gcLimit(%d, %d) = %d, want %d", tc.live, tc.max, got, tc.want)
		}
	}
}

// After a collection the limit follows the live heap: with a floor of
// 1 MiB, a live heap of 64 MiB raises it to about 96 MiB. The test waits
// for the tuner's report of the cycle, not for a time.
func TestTuneGCFollowsTheLiveHeap(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	tuneGC(3 << 30)
	if limit := debug.SetMemoryLimit(-1); limit != heapFloor {
		t.Errorf("soft limit %d at start, want the floor %d", limit, heapFloor)
	}
	tuner := &gcTuner{floor: 1 << 20, max: 3 << 30, adjusted: make(chan int64, 8)}
	tuner.arm()
	live := make([]byte, 64<<20) // noscan: only its size matters
	// A collection the allocation started may report first: the limit
	// must follow within a few.
	if limit := waitLimit(tuner, func(l int64) bool { return l >= 96<<20 }); limit < 96<<20 || limit > 128<<20 {
		t.Errorf("soft limit %d MiB with a live heap of 64 MiB, want 96 to 128 (the test binary's own heap besides)", limit>>20)
	}
	runtime.KeepAlive(live)
	// With the heap released, it falls back towards the floor.
	live = nil
	if limit := waitLimit(tuner, func(l int64) bool { return l < 20<<20 }); limit >= 20<<20 {
		t.Errorf("soft limit %d MiB with the heap released", limit>>20)
	}
}

// waitLimit collects until the tuner sets a limit that ok accepts (at
// most four collections), and returns the last limit set.
func waitLimit(tuner *gcTuner, ok func(int64) bool) int64 {
	var limit int64
	for range 4 {
		runtime.GC()
		if limit = <-tuner.adjusted; ok(limit) {
			break
		}
	}
	return limit
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
