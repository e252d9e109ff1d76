// Command kubegate is a policy gate for Kubernetes changes.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/kubegate/kubegate/internal/cli"
)

func main() {
	// The collector is tuned for a short batch (gc.go): nothing collected
	// below a budget of a quarter of the memory available, at most 768 MiB;
	// above it, GOGC 400 with a soft limit at three quarters of it. GOGC and
	// GOMEMLIMIT in the environment win.
	switch {
	case os.Getenv("GOGC") != "":
	case os.Getenv("GOMEMLIMIT") != "":
		debug.SetGCPercent(proportionalGC)
	default:
		avail := available()
		tuneGC(min(gcBudget, avail/4), avail/4*3)
	}
	// A cancelled CI job sends SIGTERM (SIGINT at a terminal): the work in
	// progress stops and kubegate exits 2. A second signal kills at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	os.Exit(cli.Main(ctx, os.Args[1:], cli.Env{
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Getenv: os.Getenv,
	}))
}
