package vm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	opacases "github.com/open-policy-agent/opa/v1/test/cases"
	"github.com/open-policy-agent/opa/v1/test/cases/testdata"
	"github.com/open-policy-agent/opa/v1/util"
)

// conformanceCases are OPA's own evaluation test cases (v1/test/cases,
// published for implementations of the IR): every Rego construct and
// built-in, with the results topdown gives.
func conformanceCases(t *testing.T) []opacases.TestCase {
	t.Helper()
	var out []opacases.TestCase
	err := fs.WalkDir(testdata.V1, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(testdata.V1, p)
		if err != nil {
			return err
		}
		var set opacases.Set
		if err := util.Unmarshal(data, &set); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for _, c := range set.Cases {
			c.Filename = p
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b opacases.TestCase) int { return strings.Compare(a.Note, b.Note) })
	return out
}

// TestConformance holds the plan evaluator to OPA's conformance suite: every
// case it can plan must give exactly the expected results (or the expected
// conflict). A case it cannot take is skipped, for a reason it says: a
// statement or built-in Prepare refuses (the engine evaluates such rules
// with topdown), built-in errors in strict mode (the engine evaluates with
// StrictBuiltinErrors off), an error other than a conflict, or a query the
// planner itself refuses. The counts are logged and must not shrink
// silently: the test fails when fewer cases run than minConformanceRun.
func TestConformance(t *testing.T) {
	const minConformanceRun = 1772
	skipped := map[string]int{}
	run, failed := 0, 0
	all := conformanceCases(t)
	for _, tc := range all {
		reason, err := conformanceCase(tc)
		switch {
		case err != nil:
			failed++
			t.Errorf("%s (%s): %v", tc.Note, tc.Filename, err)
		case reason != "":
			skipped[reason]++
		default:
			run++
		}
	}
	var reasons []string
	for _, r := range slices.Sorted(maps.Keys(skipped)) {
		reasons = append(reasons, fmt.Sprintf("%d %s", skipped[r], r))
	}
	t.Logf("OPA conformance: %d cases: %d run (%d failed), skipped: %s", len(all), run, failed, strings.Join(reasons, "; "))
	if run < minConformanceRun {
		t.Errorf("only %d cases run, want at least %d", run, minConformanceRun)
	}
}

// conformanceCase runs one case: a reason when it is skipped, an error
// when the plan evaluator's result differs.
func conformanceCase(tc opacases.TestCase) (skip string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	switch {
	case tc.StrictError:
		return "expect built-in errors in strict mode", nil
	case len(tc.Env) > 0:
		return "read the environment", nil
	}
	opts := ast.CompileOpts{ParserOptions: ast.ParserOptions{RegoVersion: ast.RegoV1}}
	if tc.ExperimentalKeywords {
		opts.ParserOptions.Capabilities = ast.CapabilitiesForThisVersion(ast.CapabilitiesExperimentalKeywords(true))
	}
	modules := map[string]string{}
	for i, m := range tc.Modules {
		modules[fmt.Sprintf("test-%d.rego", i)] = m
	}
	compiler, cerr := ast.CompileModulesWithOpt(modules, opts)
	if cerr != nil {
		return "do not compile", nil
	}
	prog, perr := Compile(compiler, tc.Query)
	switch {
	case errors.Is(perr, ErrUnsupported):
		return "need what Prepare refuses (" + refusal(perr) + ")", nil
	case perr != nil:
		return "are refused by the planner", nil
	}
	data := ast.NewTerm(ast.NewObject())
	if tc.Data != nil {
		data = ast.NewTerm(ast.MustInterfaceToValue(*tc.Data))
	}
	var input *ast.Term
	switch {
	case tc.InputTerm != nil:
		input = ast.MustParseTerm(*tc.InputTerm)
	case tc.Input != nil:
		input = ast.NewTerm(ast.MustInterfaceToValue(*tc.Input))
	}
	rs, eerr := prog.Eval(context.Background(), input, data)
	wantCode := ""
	if tc.WantErrorCode != nil {
		wantCode = *tc.WantErrorCode
	}
	if tc.WantError != nil || wantCode != "" {
		var c *Conflict
		if wantCode != "eval_conflict_error" {
			return "expect an error other than a conflict", nil
		}
		if !errors.As(eerr, &c) {
			return "", fmt.Errorf("want a conflict, got %v (results %v)", eerr, rs)
		}
		if tc.WantError != nil && !strings.Contains(eerr.Error(), *tc.WantError) {
			return "", fmt.Errorf("want an error containing %q, got %q", *tc.WantError, eerr)
		}
		return "", nil
	}
	if eerr != nil {
		return "", fmt.Errorf("unexpected error: %v", eerr)
	}
	if tc.WantResult == nil {
		return "have no expected result", nil
	}
	want := ast.NewSet()
	for _, b := range *tc.WantResult {
		obj := ast.NewObject()
		for k, v := range b {
			obj.Insert(ast.StringTerm(k), ast.NewTerm(ast.MustInterfaceToValue(v)))
		}
		want.Add(ast.NewTerm(obj))
	}
	got := ast.NewSet()
	for _, r := range rs {
		bindings, ok := r.Value.(ast.Object)
		if !ok {
			return "", fmt.Errorf("a result that is not an object of bindings: %v", r)
		}
		obj := ast.NewObject()
		var ferr error
		bindings.Foreach(func(k, v *ast.Term) {
			name, _ := k.Value.(ast.String)
			if tc.IgnoreGeneratedVars && strings.HasPrefix(string(name), "__localq") {
				return
			}
			x, err := ast.JSON(v.Value)
			if err != nil {
				ferr = err
				return
			}
			if tc.SortBindings {
				if l, ok := x.([]any); ok {
					slices.SortFunc(l, util.Compare)
				}
			}
			obj.Insert(k, ast.NewTerm(ast.MustInterfaceToValue(x)))
		})
		if ferr != nil {
			return "", ferr
		}
		got.Add(ast.NewTerm(obj))
	}
	if want.Compare(got) != 0 {
		return "", fmt.Errorf("query %s:\nwant %v\ngot  %v", tc.Query, want, got)
	}
	return "", nil
}

// refusal names the kind of thing Prepare refused, for the counts.
func refusal(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "built-in function"):
		return "a built-in outside the pure ones"
	case strings.Contains(msg, "number key"):
		return "a number key into data, OPA issue 3711"
	case strings.Contains(msg, "statement"):
		_, stmt, _ := strings.Cut(msg, "statement ")
		return "statement " + strings.TrimPrefix(stmt, "*ir.")
	}
	return msg
}
