package main

import (
	"runtime/debug"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

func TestTuneGC(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	tuneGC(3 << 30)
	if limit := debug.SetMemoryLimit(-1); limit != 3<<30 {
		t.Errorf("soft limit %d, want 3 GiB", limit)
	}
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
