package evaluate

// Examples of a rule, for kubegate explain: the inputs its own tests give
// it, evaluated with OPA as the tests evaluate them, so that they are real
// and stay right as the tests change.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/kubegate/kubegate/internal/k8s"
	kgrego "github.com/kubegate/kubegate/rego"
)

// Examples are the first input a test_fires_* test of a built-in rule
// gives it and the first a test_passes_* test gives it, as objects (nil
// where none could be read: kubegate's own rules have no Rego tests).
func Examples(ctx context.Context, r Rule) (fires, passes any, err error) {
	if r.File == "" || r.User {
		return nil, nil, nil
	}
	tm, err := testModules()
	if err != nil {
		return nil, nil, err
	}
	mods, compiler := tm.mods, tm.compiler
	test := mods[strings.TrimSuffix(r.File, ".rego")+"_test.rego"]
	if test == nil {
		return nil, nil, nil
	}
	fires, err = exampleOf(ctx, compiler, test, "test_fires_")
	if err != nil {
		return nil, nil, err
	}
	passes, err = exampleOf(ctx, compiler, test, "test_passes_")
	return fires, passes, err
}

// testModules are the built-in policies with their tests, compiled once.
type compiledTests struct {
	mods     map[string]*ast.Module
	compiler *ast.Compiler
}

var testModules = sync.OnceValues(func() (compiledTests, error) {
	mods := map[string]*ast.Module{}
	err := WalkRego(kgrego.FS, true, func(p string, src []byte) error {
		m, err := ast.ParseModuleWithOpts(p, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err == nil {
			mods[p] = m
		}
		return err
	})
	if err != nil {
		return compiledTests{}, err
	}
	compiler := ast.NewCompiler()
	if compiler.Compile(mods); compiler.Failed() {
		return compiledTests{}, compiler.Errors
	}
	return compiledTests{mods, compiler}, nil
})

// exampleOf evaluates the input of the first test named prefix*: the
// value of its `with input as X`, or the argument of a helper of the test
// module that evaluates the rule `with input as` that argument.
func exampleOf(ctx context.Context, compiler *ast.Compiler, test *ast.Module, prefix string) (any, error) {
	for _, rule := range test.Rules {
		if !strings.HasPrefix(rule.Head.Name.String(), prefix) {
			continue
		}
		for i, expr := range rule.Body {
			cand := inputOf(test, expr)
			if cand == nil {
				continue
			}
			query := append(ast.Body{}, rule.Body[:i]...)
			query.Append(ast.Equality.Expr(ast.VarTerm("__example"), cand))
			rs, err := rego.New(rego.ParsedQuery(query), rego.Compiler(compiler), rego.ParsedPackage(test.Package), rego.ParsedImports(test.Imports),
				rego.Store(inmem.NewFromObject(testData()))).Eval(ctx)
			if err != nil || len(rs) == 0 {
				continue
			}
			return roundTrip(rs[0].Bindings["__example"])
		}
	}
	return nil, nil
}

// inputOf is the term an expression evaluates the rule with as input.
func inputOf(test *ast.Module, expr *ast.Expr) *ast.Term {
	for _, w := range expr.With {
		if w.Target.String() == "input" {
			return w.Value
		}
	}
	var found *ast.Term
	ast.WalkTerms(expr, func(t *ast.Term) bool {
		call, ok := t.Value.(ast.Call)
		if !ok || found != nil {
			return found != nil
		}
		name := call[0].String()
		for _, fn := range test.Rules {
			if fn.Head.Name.String() != name || len(fn.Head.Args) != len(call)-1 {
				continue
			}
			for _, e := range fn.Body {
				for _, w := range e.With {
					if w.Target.String() != "input" {
						continue
					}
					for k, a := range fn.Head.Args {
						if a.Equal(w.Value) {
							found = call[k+1]
							return true
						}
					}
				}
			}
		}
		return false
	})
	return found
}

// testData is the data the engine gives the policies beside the input,
// as the Rego tests have it.
func testData() map[string]any {
	return map[string]any{"kubegate": map[string]any{"workloads": k8s.Workloads(), "apis": apisData(), "cluster": map[string]any{"minor": NewestPolicyMinor}}}
}

func roundTrip(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("example: %w", err)
	}
	var out any
	return out, json.Unmarshal(data, &out)
}
