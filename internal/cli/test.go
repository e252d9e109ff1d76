package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/spf13/pflag"

	"github.com/kubegate/kubegate/evaluate"
	"github.com/kubegate/kubegate/internal/k8s"
)

// runTest runs the Rego tests (test_* rules in *_test.rego) of the user's
// policy directories, as opa test and conftest verify do: the policies and
// their tests compiled together, with the data files, in the same sandbox
// as check. Exit 0 when every test passes, 1 when one fails, 2 when a file
// does not parse or compile.
func runTest(ctx context.Context, args []string, env Env) int {
	fs := pflag.NewFlagSet("kubegate test", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dataFiles := fs.StringArray("data", nil, "JSON or YAML `FILE` whose top-level keys the tests read as data.KEY; repeatable")
	coverage := fs.Bool("coverage", false, "report the lines of the policies the tests cover")
	verbose := fs.BoolP("verbose", "v", false, "list every test, not only the failures")
	regoVersion := fs.String("rego-version", "auto", "parse files as `VERSION`: v0, v1 or auto")
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		return errorf(env, "test: %v (see kubegate test --help)", err)
	}
	if *help {
		fmt.Fprintf(env.Stdout, "Usage: kubegate test [flags] [DIR...]\n\nRuns the Rego tests of the policies in DIR (default policy/).\n\nFlags:\n%s", fs.FlagUsages())
		return ExitOK
	}
	rv, err := parseRegoVersion(*regoVersion)
	if err != nil {
		return errorf(env, "test: %v", err)
	}
	wd := env.workDir()
	dirs := fs.Args()
	if len(dirs) == 0 {
		dirs = []string{"policy"}
	}
	var pdirs []evaluate.PolicyDir
	for _, d := range dirs {
		root := resolve(wd, d)
		pdirs = append(pdirs, evaluate.PolicyDir{Name: display(env, root), FS: os.DirFS(root)})
	}
	mods, err := evaluate.ParsePolicyDirs(pdirs, true, rv)
	if err != nil {
		return errorf(env, "test:\n%v", err)
	}
	data := map[string]any{}
	for _, f := range *dataFiles {
		if err := readData(workTree{}, resolve(wd, f), f, data); err != nil {
			return errorf(env, "test: %v", err)
		}
	}
	if _, ok := data["kubegate"]; ok {
		return errorf(env, "test: data: the top-level key \"kubegate\" is reserved for kubegate's own data")
	}
	// What check gives the policies besides the resources: the workload
	// table (data.kubegate.workloads).
	data["kubegate"] = map[string]any{"workloads": k8s.Workloads()}
	compiler := ast.NewCompiler().WithCapabilities(evaluate.SandboxCapabilities()).WithEnablePrintStatements(true)
	runner := tester.NewRunner().SetCompiler(compiler).SetStore(inmem.NewFromObject(data)).CapturePrintOutput(true)
	var cov *cover.Cover
	if *coverage {
		cov = cover.New()
		runner.SetCoverageQueryTracer(cov)
	}
	ch, err := runner.Run(ctx, mods)
	if err != nil {
		return errorf(env, "test: %v", err)
	}
	var passed, failed, errored int
	for r := range ch {
		name := fmt.Sprintf("%s: %s.%s", r.Location.File, strings.TrimPrefix(r.Package, "data."), r.Name)
		switch {
		case r.Error != nil:
			errored++
			fmt.Fprintf(env.Stdout, "ERROR %s: %v\n", name, r.Error)
		case r.Fail:
			failed++
			fmt.Fprintf(env.Stdout, "FAIL  %s (%s:%d)\n", name, r.Location.File, r.Location.Row)
		case r.Skip:
			if *verbose {
				fmt.Fprintf(env.Stdout, "SKIP  %s\n", name)
			}
			continue
		default:
			passed++
			if *verbose {
				fmt.Fprintf(env.Stdout, "PASS  %s\n", name)
			}
		}
		if len(r.Output) > 0 && (r.Fail || r.Error != nil || *verbose) {
			fmt.Fprintf(env.Stdout, "      %s\n", strings.ReplaceAll(strings.TrimSpace(string(r.Output)), "\n", "\n      "))
		}
	}
	total := passed + failed + errored
	if total == 0 {
		return errorf(env, "test: no tests found in %s (tests are rules named test_* in *_test.rego files)", strings.Join(dirs, ", "))
	}
	fmt.Fprintf(env.Stdout, "%d/%d tests passed", passed, total)
	if cov != nil {
		policyOnly := map[string]*ast.Module{}
		for n, m := range mods {
			if !strings.HasSuffix(n, "_test.rego") {
				policyOnly[n] = m
			}
		}
		rep := cov.Report(policyOnly)
		fmt.Fprintf(env.Stdout, "; coverage %.1f%% (%d of %d lines)", rep.Coverage, rep.CoveredLines, rep.CoveredLines+rep.NotCoveredLines)
		for _, f := range slices.Sorted(maps.Keys(rep.Files)) {
			for _, rg := range rep.Files[f].NotCovered {
				fmt.Fprintf(env.Stdout, "\n  not covered: %s:%d-%d", f, rg.Start.Row, rg.End.Row)
			}
		}
	}
	fmt.Fprintln(env.Stdout)
	if failed+errored > 0 {
		return ExitFindings
	}
	return ExitOK
}
