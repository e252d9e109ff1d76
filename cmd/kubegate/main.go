// Command kubegate is a policy gate for Kubernetes changes.
package main

import (
	"os"
	"runtime/debug"

	"github.com/kubegate/kubegate/internal/cli"
)

func main() {
	// GOGC and GOMEMLIMIT in the environment win.
	switch {
	case os.Getenv("GOGC") != "":
	case os.Getenv("GOMEMLIMIT") != "":
		debug.SetGCPercent(proportionalGC)
	default:
		tuneGC(gcBudget, physicalMemory()/2)
	}
	os.Exit(cli.Main(os.Args[1:], cli.Env{
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Getenv: os.Getenv,
	}))
}
