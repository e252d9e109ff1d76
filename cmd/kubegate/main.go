// Command kubegate is a policy gate for Kubernetes changes.
package main

import (
	"os"

	"github.com/kubegate/kubegate/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Env{
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Getenv: os.Getenv,
	}))
}
