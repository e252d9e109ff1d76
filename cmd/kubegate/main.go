// Command kubegate is a policy gate for Kubernetes changes.
package main

import (
	"os"
	"runtime/debug"

	"github.com/kubegate/kubegate/internal/cli"
)

func main() {
	// A short-lived batch process: trade memory for fewer collections
	// (GOGC 400: about a third less wall time than the default on 10,000
	// resources, peak about 500 MiB there). The soft memory limit, half of
	// the machine's memory, only makes the collector work harder near
	// exhaustion; set below the live heap it would make large inputs
	// collect continuously. GOGC and GOMEMLIMIT in the environment win.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(physicalMemory() / 2)
	}
	os.Exit(cli.Main(os.Args[1:], cli.Env{
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Getenv: os.Getenv,
	}))
}
