// Package cli is kubegate's command line: it turns arguments into options
// for the loader, the engine and the reporters, runs them, and returns the
// exit code. Nothing here calls os.Exit.
package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// Exit codes, as the contract defines them.
const (
	ExitOK       = 0 // no finding at or above --fail-on
	ExitFindings = 1 // some finding at or above --fail-on
	ExitError    = 2 // input or configuration could not be evaluated
)

// Version is kubegate's version, set at release with -ldflags.
var Version = "0.1.0"

// Env is the process's world as the command sees it.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// WorkDir is where relative paths start; empty means the process's.
	WorkDir string
	// Now is the clock exceptions expire by; nil means time.Now.
	Now func() time.Time
	// HTTP is the client for GitHub's API (tests point it at a fake);
	// nil means a default one.
	HTTP *http.Client
}

// workDir is where relative paths start: WorkDir, else the process's.
func (e Env) workDir() string {
	if e.WorkDir != "" {
		return e.WorkDir
	}
	wd, _ := os.Getwd()
	return wd
}

func (e Env) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

func (e Env) getenv(k string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(k)
}

// isTerminal reports whether w is a terminal that should get colour.
func (e Env) isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb"
}

const usage = `kubegate: a policy gate for Kubernetes changes

Usage:
  kubegate check [flags] [PATH...]   render manifests, evaluate policies, report findings
  kubegate rules [-o text|json|markdown] [--policy DIR]
                                     list every rule with its severity, rationale and fix
  kubegate explain RULE              a rule's rationale, fix, docs and examples from its tests
  kubegate init [--github] [--gitlab]
                                     write a commented .kubegate.yaml (and a pipeline)
  kubegate completion bash|zsh|fish  print shell completion
  kubegate merge [flags] REPORT.json...
                                     merge the JSON reports of sharded runs (check --shard I/N)
  kubegate test [flags] [DIR...]     run the Rego tests of your policies (default policy/)
  kubegate sign --key FILE PATH...   sign every image the manifests name, with its SBOM attested
  kubegate verify-self [--image REF] check that this kubegate is a signed release image
  kubegate db update                 download the current grype vulnerability database (--vuln-db)
  kubegate version                   print the version

Run 'kubegate check --help' for the check flags.
`

// Main runs kubegate with args (without the program name) and returns the
// exit code. Cancelling ctx (main cancels it on SIGINT and SIGTERM, as a
// CI runner sends when a job is cancelled) stops the work in progress:
// registry requests, signing, evaluation; the command then exits 2
// without a report.
func Main(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return ExitError
	}
	switch args[0] {
	case "check":
		return runCheck(ctx, args[1:], env)
	case "rules":
		return runRules(args[1:], env)
	case "explain":
		return runExplain(args[1:], env)
	case "init":
		return runInit(args[1:], env)
	case "completion":
		return runCompletion(args[1:], env)
	case "merge":
		return runMerge(args[1:], env)
	case "test":
		return runTest(ctx, args[1:], env)
	case "sign":
		return runSign(ctx, args[1:], env)
	case "verify-self":
		return runVerifySelf(ctx, args[1:], env)
	case "db":
		return runDB(args[1:], env)
	case "action": // hidden: the GitHub Action's entry point (action.go)
		return runAction(ctx, args[1:], env)
	case "version", "--version":
		fmt.Fprintf(env.Stdout, "kubegate %s\n", Version)
		return ExitOK
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(env.Stderr, "kubegate: unknown command %q\n\n%s", args[0], usage)
	return ExitError
}

func errorf(env Env, format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(env.Stderr, "kubegate: %s\n", strings.TrimSuffix(msg, "\n"))
	return ExitError
}
