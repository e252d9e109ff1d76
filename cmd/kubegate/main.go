// Command kubegate is a policy gate for Kubernetes changes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/kubegate/kubegate/internal/cli"
)

func main() {
	// The collector runs at Go's default pace with a soft limit at three
	// quarters of the memory available (gc.go); GOMEMLIMIT in the
	// environment wins, and GOGC is Go's own.
	if os.Getenv("GOMEMLIMIT") == "" {
		tuneGC(available() / 4 * 3)
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
