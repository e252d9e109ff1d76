// Package evaluate runs kubegate's policies over loaded resources: the
// embedded Rego is compiled once, one prepared query evaluates every rule
// for a resource, and resources are evaluated in parallel.
package evaluate

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/kubegate/kubegate/load"
	kgrego "github.com/kubegate/kubegate/rego"
	"github.com/kubegate/kubegate/report"
)

// Options configure an Engine. The engine reads nothing else: no flags, no
// environment.
type Options struct {
	PSS PSSModes
	// Parallelism bounds concurrent evaluations; 0 means GOMAXPROCS.
	Parallelism int
	// Policies is the policy file system; nil means the embedded policies.
	Policies fs.FS
}

// Engine holds the compiled policies.
type Engine struct {
	opts     Options
	rules    []Rule
	byPkg    map[string]*Rule
	compiler *ast.Compiler
	// groups are the aggregating packages, one per distinct set of rules;
	// groupOf maps a kind to its group, otherKinds is for unnamed kinds.
	groups     []string
	groupOf    map[string]int
	otherKinds int
}

// enginePackage holds the generated modules that gather the violations of a
// group of rules under one query, each tagged with its rule's package.
const enginePackage = "kubegate.engine"

// New parses and compiles the policies and reads their metadata.
func New(opts Options) (*Engine, error) {
	if opts.Policies == nil {
		opts.Policies = kgrego.FS
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = runtime.GOMAXPROCS(0)
	}
	mods, err := parseModules(opts.Policies)
	if err != nil {
		return nil, err
	}
	rules, err := rulesOf(mods)
	if err != nil {
		return nil, err
	}
	e := &Engine{opts: opts, rules: rules, byPkg: map[string]*Rule{}, groupOf: map[string]int{}}
	for i := range e.rules {
		e.byPkg[e.rules[i].Package] = &e.rules[i]
	}
	// Group kinds by the rules that apply to them: one aggregating module,
	// and one prepared query, per distinct set of rules. Kinds that no
	// rule names share the group of the rules that apply to every kind.
	named := map[string]bool{}
	for _, r := range e.rules {
		for _, k := range r.Kinds {
			named[k] = true
		}
	}
	groups := map[string]int{}
	addGroup := func(kind string) int {
		var pkgs []string
		for _, r := range e.rules {
			if len(r.Kinds) == 0 || slices.Contains(r.Kinds, kind) {
				pkgs = append(pkgs, r.Package)
			}
		}
		if len(pkgs) == 0 {
			return -1
		}
		key := strings.Join(pkgs, ",")
		if g, ok := groups[key]; ok {
			return g
		}
		g := len(e.groups)
		groups[key] = g
		e.groups = append(e.groups, fmt.Sprintf("%s.g%d", enginePackage, g))
		var b strings.Builder
		fmt.Fprintf(&b, "package %s\n\nimport rego.v1\n\n", e.groups[g])
		for _, pkg := range pkgs {
			fmt.Fprintf(&b, "findings contains [%q, v] if some v in data.%s.violations\n\n", pkg, pkg)
		}
		file := fmt.Sprintf("kubegate/engine/g%d.rego", g)
		m, err := ast.ParseModuleWithOpts(file, b.String(), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			panic(err) // generated from validated package names
		}
		mods[file] = m
		return g
	}
	e.otherKinds = addGroup("")
	for _, k := range slices.Sorted(maps.Keys(named)) {
		e.groupOf[k] = addGroup(k)
	}
	c := ast.NewCompiler().WithEnablePrintStatements(false)
	if c.Compile(mods); c.Failed() {
		return nil, fmt.Errorf("compiling policies: %v", c.Errors)
	}
	e.compiler = c
	return e, nil
}

// group returns the query group for a kind, or -1 when no rule applies.
func (e *Engine) group(kind string) int {
	if g, ok := e.groupOf[kind]; ok {
		return g
	}
	return e.otherKinds
}

// Rules lists every rule, sorted by id.
func (e *Engine) Rules() []Rule { return e.rules }

// Result is what an evaluation found.
type Result struct {
	Findings []report.Finding
	Errors   []report.InputError
}

// Evaluate runs every rule over every resource. Each policy sees one
// resource as input and all of them as data.kubegate.resources, indexed by
// kind, namespace and name.
func (e *Engine) Evaluate(ctx context.Context, resources []*load.Resource) (*Result, error) {
	store := inmem.NewFromObjectWithOpts(map[string]any{
		"kubegate": map[string]any{"resources": index(resources)},
	}, inmem.OptRoundTripOnWrite(false))
	queries := make([]rego.PreparedEvalQuery, len(e.groups))
	for g, pkg := range e.groups {
		pq, err := rego.New(
			rego.Query("data."+pkg+".findings"),
			rego.Compiler(e.compiler),
			rego.Store(store),
			rego.StrictBuiltinErrors(false),
		).PrepareForEval(ctx)
		if err != nil {
			return nil, fmt.Errorf("preparing policies: %w", err)
		}
		queries[g] = pq
	}
	res := &Result{}
	var mu sync.Mutex
	work := make(chan *load.Resource)
	var wg sync.WaitGroup
	for range e.opts.Parallelism {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				g := e.group(r.ID().Kind)
				if g < 0 {
					continue
				}
				fs, errs := e.evaluateOne(ctx, queries[g], r)
				mu.Lock()
				res.Findings = append(res.Findings, fs...)
				res.Errors = append(res.Errors, errs...)
				mu.Unlock()
			}
		}()
	}
	for _, r := range resources {
		work <- r
	}
	close(work)
	wg.Wait()
	return res, ctx.Err()
}

// index arranges resources as kind -> namespace -> name -> object.
func index(resources []*load.Resource) map[string]any {
	idx := map[string]any{}
	for _, r := range resources {
		id := r.ID()
		byNS, _ := idx[id.Kind].(map[string]any)
		if byNS == nil {
			byNS = map[string]any{}
			idx[id.Kind] = byNS
		}
		byName, _ := byNS[id.Namespace].(map[string]any)
		if byName == nil {
			byName = map[string]any{}
			byNS[id.Namespace] = byName
		}
		byName[id.Name] = r.Object
	}
	return idx
}

func (e *Engine) evaluateOne(ctx context.Context, pq rego.PreparedEvalQuery, r *load.Resource) (findings []report.Finding, errs []report.InputError) {
	id := r.ID()
	fail := func(msg string) {
		loc := r.Locate(nil)
		errs = append(errs, report.InputError{File: loc.File, Line: loc.Line, Message: fmt.Sprintf("%s: %s", id, msg)})
	}
	defer func() {
		if p := recover(); p != nil {
			fail(fmt.Sprintf("internal error while evaluating policies (please report it): %v", p))
		}
	}()
	input, err := ast.InterfaceToValue(r.Object)
	if err != nil {
		fail(err.Error())
		return nil, errs
	}
	rs, err := pq.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		fail("evaluating policies: " + err.Error())
		return nil, errs
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, nil
	}
	all, _ := rs[0].Expressions[0].Value.([]any)
	for _, x := range all {
		pair, _ := x.([]any)
		if len(pair) != 2 {
			continue
		}
		pkg, _ := pair[0].(string)
		rule := e.byPkg[pkg]
		v, _ := pair[1].(map[string]any)
		msg, _ := v["msg"].(string)
		if rule == nil || msg == "" {
			fail(fmt.Sprintf("policy %s returned a violation without a msg: %v", pkg, pair[1]))
			continue
		}
		sev := rule.Severity
		if rule.Level != Privileged {
			if sev = e.opts.PSS.severity(rule.Level); sev == report.SeverityNone {
				continue
			}
		}
		path := toPath(v["path"])
		findings = append(findings, report.Finding{
			Rule:     rule.ID,
			Severity: sev,
			Message:  msg,
			Resource: id,
			Field:    path.String(),
			Location: r.Locate(path),
		})
	}
	return findings, errs
}

// toPath reads a policy's field path: strings and integer indices.
func toPath(v any) load.Path {
	arr, _ := v.([]any)
	p := make(load.Path, 0, len(arr))
	for _, s := range arr {
		switch s := s.(type) {
		case string:
			p = append(p, s)
		case json.Number:
			if i, err := s.Int64(); err == nil {
				p = append(p, int(i))
			}
		case float64:
			p = append(p, int(s))
		case int:
			p = append(p, s)
		case int64:
			p = append(p, int(s))
		}
	}
	return p
}
