//go:build !linux

package main

// physicalMemory is unknown here: assume 8 GiB.
func physicalMemory() int64 { return 8 << 30 }
