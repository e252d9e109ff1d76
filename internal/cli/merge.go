package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/kubegate/kubegate/baseline"
	"github.com/kubegate/kubegate/evaluate"
	"github.com/kubegate/kubegate/finding"
)

// runMerge merges the JSON reports of sharded runs (check --shard I/N -o
// json=FILE) into one report, written in any format as check writes it:
// one set of annotations, one SARIF, one summary for the whole matrix.
// Findings and input errors are concatenated and put in canonical order
// (an input error every shard repeats, such as a missing path, appears
// once); resources and images add up. The exit code follows --fail-on as
// in check.
func runMerge(args []string, env Env) int {
	fs := pflag.NewFlagSet("kubegate merge", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	outputs := fs.StringArrayP("output", "o", nil, "output `FORMAT[=FILE]`, repeatable, as for check")
	failOn := fs.String("fail-on", "error", "exit 1 when a finding is at or above `SEVERITY`: error, warning, notice or never")
	failOnExisting := fs.Bool("fail-on-existing", false, "for reports made with --baseline, let --fail-on judge existing findings too, not only new ones")
	comment, checkName := addGitHubFlags(fs)
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		return errorf(env, "merge: %v (see kubegate merge --help)", err)
	}
	if *help {
		fmt.Fprintf(env.Stdout, "Usage: kubegate merge [flags] REPORT.json...\n\nMerges the JSON reports of sharded runs (kubegate check --shard I/N -o json=FILE).\n\nFlags:\n%s", fs.FlagUsages())
		return ExitOK
	}
	if fs.NArg() == 0 {
		return errorf(env, "merge: no reports given (see kubegate merge --help)")
	}
	fail, err := finding.ParseSeverity(*failOn, true)
	if err != nil {
		return errorf(env, "merge: --fail-on: %v", err)
	}
	outs, err := parseOutputs(*outputs, env)
	if err != nil {
		return errorf(env, "merge: %v", err)
	}
	merged := &finding.Report{Tool: finding.Tool{Name: "kubegate", Version: Version}}
	for _, name := range fs.Args() {
		r, err := readReport(name, env)
		if err != nil {
			merged.Errors = append(merged.Errors, finding.InputError{File: name, Message: "cannot merge: " + err.Error()})
			continue
		}
		merged.Findings = append(merged.Findings, r.Findings...)
		merged.Errors = append(merged.Errors, r.Errors...)
		merged.Suppressed = append(merged.Suppressed, r.Suppressed...)
		merged.Images = append(merged.Images, r.Images...)
		merged.Summary.Resources += r.Summary.Resources
		merged.Summary.Images += r.Summary.Images
		if r.Summary.BaselineCounts != nil {
			// Shards of a run with a baseline: their fixed findings and
			// changes add up (Normalize recounts).
			if merged.Summary.BaselineCounts == nil {
				merged.Summary.BaselineCounts = &finding.BaselineCounts{}
			}
			merged.Fixed = append(merged.Fixed, r.Fixed...)
			merged.Changes = append(merged.Changes, r.Changes...)
		}
	}
	if engine, err := evaluate.New(evaluate.Options{PSS: evaluate.DefaultPSSModes}); err == nil {
		merged.Rules = ruleInfo(engine.Rules())
	}
	merged.Findings = onePerRun(merged.Findings)
	merged.Normalize()
	code := ExitOK
	if fail != finding.SeverityNone && baseline.Gate(merged, merged.Summary.BaselineCounts == nil || *failOnExisting) >= fail {
		code = ExitFindings
	}
	if len(merged.Errors) > 0 {
		code = ExitError
	}
	return finish(context.Background(), outs, githubOptions{comment: *comment, checkName: *checkName}, merged, code, env)
}

// readReport reads one JSON report of kubegate check.
func readReport(name string, env Env) (*finding.Report, error) {
	path := resolve(env.workDir(), name)
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, err
	}
	var r finding.Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("not a kubegate JSON report: %v", err)
	}
	if r.Tool.Name != "kubegate" {
		return nil, fmt.Errorf("not a kubegate JSON report (tool %q)", r.Tool.Name)
	}
	return &r, nil
}

// onePerRun keeps, of each rule about the whole run (evaluate.OncePerRun),
// the finding that comes first in report order: every shard makes one, at
// its own first place, and the first of them is the one run's.
func onePerRun(fs []finding.Finding) []finding.Finding {
	first := map[string]int{}
	for i, f := range fs {
		if j, seen := first[f.Rule]; evaluate.OncePerRun(f.Rule) && (!seen || finding.Before(f, fs[j])) {
			first[f.Rule] = i
		}
	}
	out := fs[:0]
	for i, f := range fs {
		if j, ok := first[f.Rule]; !ok || i == j {
			out = append(out, f)
		}
	}
	return out
}
