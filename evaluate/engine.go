// Package evaluate runs kubegate's policies over loaded resources: the
// embedded Rego is compiled once, one prepared query evaluates every rule
// for a resource, and resources are evaluated in parallel.
package evaluate

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/kubegate/kubegate/evaluate/internal/vm"
	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/internal/k8s"
	"github.com/kubegate/kubegate/load"
	kgrego "github.com/kubegate/kubegate/rego"
)

// Options configure an Engine. The engine reads nothing else: no flags, no
// environment.
type Options struct {
	// PSS are the default Pod Security modes; a Namespace in the input
	// with pod-security.kubernetes.io labels overrides them for its
	// resources.
	PSS PSSModes
	// PSSExemptNamespaces and PSSExemptRuntimeClasses exempt resources
	// from the Pod Security checks, as the admission controller's
	// exemptions do.
	PSSExemptNamespaces     []string
	PSSExemptRuntimeClasses []string
	// Parallelism bounds concurrent evaluations; 0 means GOMAXPROCS.
	Parallelism int
	// Policies is the policy file system; nil means the embedded policies.
	Policies fs.FS
	// UserPolicies are the user's own policies, beside the built-in ones:
	// kubegate-style rules (package kubegate.rules.*, with METADATA) and
	// conftest-style deny/violation/warn rules in the Namespaces packages
	// (default main; "*" for every package).
	UserPolicies []PolicyDir
	Namespaces   []string
	// RegoVersion forces how user policies are parsed (default: per file).
	RegoVersion RegoVersion
	// Data is merged into data for the policies (--data); its top-level
	// keys must not be "kubegate".
	Data map[string]any
	// Facts are kubegate's own findings about the input, merged into
	// data.kubegate (for example "images", what the image checks learnt
	// about each reference); "resources", "cache" and "workloads" are
	// reserved.
	Facts map[string]any
	// Timeout bounds the evaluation of one resource (default 10s), so a
	// policy that explodes stops with an error naming the resource.
	Timeout time.Duration
	// AllowNetwork lets policies use http.send, net.lookup_ip_addr and
	// opa.runtime; off, they do not compile.
	AllowNetwork bool
	// Evaluator is EvaluatorPlan (the default) or EvaluatorTopdown.
	Evaluator Evaluator
}

// workloadsTerm is data.kubegate.workloads: where each workload kind has its
// pod spec (internal/k8s), the one table the policies and Go share.
var workloadsTerm = ast.NewTerm(ast.MustInterfaceToValue(k8s.Workloads()))

// DefaultTimeout bounds the evaluation of one resource.
const DefaultTimeout = 10 * time.Second

// Engine holds the compiled policies.
type Engine struct {
	opts     Options
	rules    []Rule
	byPkg    map[string]*Rule
	compiler *ast.Compiler
	pss      *pssRules
	// groups are the aggregating packages, one per distinct set of rules;
	// groupOf maps a kind to its group, otherKinds is for unnamed kinds.
	groups     []string
	groupOf    map[string]int
	otherKinds int
	// groupRules are each group's rule ids. A group's package has the
	// sets "planned" and "unplanned" of [rule id, violation]: planned
	// gathers the rules for the plan evaluator (all of them, unless one
	// cannot be planned), unplanned the others, for topdown.
	groupRules [][]string
	planned    []bool // the group has a planned set
	unplanned  []bool // the group has an unplanned set
	// plans are the groups' planned queries for the plan evaluator, nil
	// where topdown evaluates them; cachePlan is the lookup tables'.
	plans     []*vm.Program
	cachePlan *vm.Program
	// onTopdown says, for what topdown evaluates, why (--debug).
	onTopdown []string
	// runPlan evaluates a plan (a seam for the tests of the fallback).
	runPlan func(context.Context, *vm.Program, *ast.Term, *ast.Term) ([]*ast.Term, error)
}

// compile generates the groups' packages, the rules in unplannable going
// to the unplanned sets, and compiles them with the policies.
func (e *Engine) compile(mods map[string]*ast.Module, unplannable map[string]bool) error {
	e.planned = make([]bool, len(e.groups))
	e.unplanned = make([]bool, len(e.groups))
	for g, pkg := range e.groups {
		var b strings.Builder
		fmt.Fprintf(&b, "package %s\n\nimport rego.v1\n\n", pkg)
		for _, id := range e.groupRules[g] {
			set := "planned"
			if unplannable[id] {
				set = "unplanned"
				e.unplanned[g] = true
			} else {
				e.planned[g] = true
			}
			fmt.Fprintf(&b, "%s contains [%q, v] if some v in %s\n\n", set, id, e.byPkg[id].Query)
		}
		file := fmt.Sprintf("kubegate/engine/g%d.rego", g)
		m, err := ast.ParseModuleWithOpts(file, b.String(), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			panic(err) // generated from validated package names
		}
		mods[file] = m
	}
	c := ast.NewCompiler().WithEnablePrintStatements(false).WithCapabilities(sandboxed(e.opts.AllowNetwork))
	if c.Compile(mods); c.Failed() {
		return fmt.Errorf("compiling policies: %v", c.Errors)
	}
	e.compiler = c
	return nil
}

// enginePackage holds the generated modules that gather the violations of a
// group of rules under one query (two when a rule cannot be planned), each
// tagged with its rule's package.
const enginePackage = "kubegate.engine"

// New parses and compiles the policies and reads their metadata.
func New(opts Options) (*Engine, error) {
	if opts.Policies == nil {
		opts.Policies = kgrego.FS
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = runtime.GOMAXPROCS(0)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if len(opts.Namespaces) == 0 {
		opts.Namespaces = DefaultNamespaces
	}
	if _, ok := opts.Data["kubegate"]; ok {
		return nil, fmt.Errorf("policy data: the top-level key \"kubegate\" is reserved for kubegate's own data")
	}
	mods, err := parseModules(opts.Policies)
	if err != nil {
		return nil, err
	}
	user, err := ParsePolicyDirs(opts.UserPolicies, false, opts.RegoVersion)
	if err != nil {
		return nil, fmt.Errorf("reading policies:\n%v", err)
	}
	for name, m := range user {
		mods[name] = m
	}
	rules, err := rulesOf(mods)
	if err != nil {
		return nil, err
	}
	for i := range rules {
		if _, ok := user[rules[i].File]; ok {
			rules[i].User = true
		}
	}
	conftest, err := conftestRules(user, opts.Namespaces)
	if err != nil {
		return nil, fmt.Errorf("reading policies:\n%v", err)
	}
	for _, c := range conftest {
		for _, r := range rules {
			if r.ID == c.ID {
				return nil, fmt.Errorf("%s: rule id %s is also used by %s", c.File, c.ID, r.File)
			}
		}
	}
	rules = append(rules, conftest...)
	slices.SortFunc(rules, func(a, b Rule) int { return strings.Compare(a.ID, b.ID) })
	e := &Engine{opts: opts, rules: rules, byPkg: map[string]*Rule{}, groupOf: map[string]int{}}
	if e.pss, err = newPSSRules(e.rules); err != nil {
		return nil, err
	}
	for i := range e.rules {
		e.byPkg[e.rules[i].ID] = &e.rules[i]
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
		var ids []string
		for _, r := range e.rules {
			if len(r.Kinds) == 0 || slices.Contains(r.Kinds, kind) {
				ids = append(ids, r.ID)
			}
		}
		if len(ids) == 0 {
			return -1
		}
		key := strings.Join(ids, ",")
		if g, ok := groups[key]; ok {
			return g
		}
		g := len(e.groups)
		groups[key] = g
		e.groups = append(e.groups, fmt.Sprintf("%s.g%d", enginePackage, g))
		e.groupRules = append(e.groupRules, ids)
		return g
	}
	e.otherKinds = addGroup("")
	for _, k := range slices.Sorted(maps.Keys(named)) {
		e.groupOf[k] = addGroup(k)
	}
	if err := e.compile(mods, nil); err != nil {
		return nil, err
	}
	e.plans = make([]*vm.Program, len(e.groups))
	e.runPlan = runPlan
	if opts.Evaluator == EvaluatorTopdown {
		e.onTopdown = []string{"every rule: --evaluator topdown"}
		return e, nil
	}
	// A rule the plan evaluator cannot run (a user's rule that reads the
	// clock, say) moves to its group's topdown query; the others stay.
	unplannable := map[string]bool{}
	for g, pkg := range e.groups {
		if _, err := vm.Compile(e.compiler, "data."+pkg+".planned"); err != nil {
			for _, id := range e.groupRules[g] {
				if _, err := vm.Compile(e.compiler, e.byPkg[id].Query); err != nil && !unplannable[id] {
					unplannable[id] = true
					e.onTopdown = append(e.onTopdown, fmt.Sprintf("%s: %v", id, err))
				}
			}
		}
	}
	if len(unplannable) > 0 {
		if err := e.compile(mods, unplannable); err != nil {
			return nil, err
		}
	}
	for g, pkg := range e.groups {
		if e.planned[g] {
			var err error
			if e.plans[g], err = vm.Compile(e.compiler, "data."+pkg+".planned"); err != nil {
				e.onTopdown = append(e.onTopdown, fmt.Sprintf("the rules of %s together: %v", strings.Join(e.groupRules[g], ", "), err))
			}
		}
	}
	if e.hasCache() {
		var err error
		if e.cachePlan, err = vm.Compile(e.compiler, "data."+cachePackage); err != nil {
			e.onTopdown = append(e.onTopdown, fmt.Sprintf("the lookup tables (%s): %v", cachePackage, err))
		}
	}
	slices.Sort(e.onTopdown)
	return e, nil
}

// OnTopdown lists what OPA's topdown evaluates rather than the plan
// evaluator, and why (a built-in outside its allow-list, a with
// statement): for --debug. Empty when the plan evaluator takes every rule.
func (e *Engine) OnTopdown() []string { return e.onTopdown }

// group returns the query group for a kind, or -1 when no rule applies.
func (e *Engine) group(kind string) int {
	if g, ok := e.groupOf[kind]; ok {
		return g
	}
	return e.otherKinds
}

// Rules lists every rule, sorted by id: the policies' and kubegate's own
// (see hostrules.go).
func (e *Engine) Rules() []Rule { return withHostRules(e.rules) }

// SetFacts replaces Options.Facts for the next Evaluate: facts such as the
// image checks' are learnt after the engine is built.
func (e *Engine) SetFacts(facts map[string]any) { e.opts.Facts = facts }

// Result is what an evaluation found.
type Result struct {
	Findings []finding.Finding
	Errors   []finding.InputError
	// Retried says which resources the plan evaluator failed on and
	// topdown evaluated instead (a bug in the plan evaluator to report).
	Retried []string
}

// Evaluate runs every rule over every resource. Each policy sees one
// resource as input and all of them as data.kubegate.resources, indexed by
// kind, namespace and name.
//
// A chart rendered with other values (a ci/*-values.yaml variant) is a
// deployment of its own: its resources are evaluated together, with the
// input's Namespaces (their Pod Security labels apply to it too), apart
// from everything else. A finding a variant shares with an earlier
// rendering (the same rule, resource, field, place and message) is
// reported once, for the earlier one: the line to fix is the same.
func (e *Engine) Evaluate(ctx context.Context, resources []*load.Resource) (*Result, error) {
	scopes := byScope(resources)
	if len(scopes) == 1 {
		return e.evaluate(ctx, scopes[0])
	}
	var namespaces []*load.Resource
	for _, r := range scopes[0] {
		if id := r.ID(); id.Kind == "Namespace" && r.Scope() == "" {
			namespaces = append(namespaces, r)
		}
	}
	res := &Result{}
	seen := map[string]bool{}
	for i, group := range scopes {
		if i > 0 {
			group = append(slices.Clip(group), namespaces...)
		}
		r, err := e.evaluate(ctx, group)
		if err != nil {
			return nil, err
		}
		var keys []string
		for _, f := range r.Findings {
			k := sharedKey(f)
			if seen[k] {
				continue
			}
			keys = append(keys, k)
			res.Findings = append(res.Findings, f)
		}
		for _, k := range keys {
			seen[k] = true
		}
		for _, x := range r.Errors {
			if !slices.Contains(res.Errors, x) {
				res.Errors = append(res.Errors, x)
			}
		}
		res.Retried = append(res.Retried, r.Retried...)
	}
	return res, ctx.Err()
}

// byScope groups resources by Resource.Scope, the shared scope first,
// then in the order they came.
func byScope(resources []*load.Resource) [][]*load.Resource {
	index := map[string]int{"": 0}
	out := [][]*load.Resource{nil}
	for _, r := range resources {
		s := r.Scope()
		i, ok := index[s]
		if !ok {
			i = len(out)
			index[s] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], r)
	}
	if len(out[0]) == 0 && len(out) > 1 {
		out = out[1:]
	}
	return out
}

// sharedKey is what makes two findings of different renderings the same.
func sharedKey(f finding.Finding) string {
	id := f.Resource
	return strings.Join([]string{f.Rule, id.APIVersion, id.Kind, id.Namespace, id.Name, f.Field, f.Location.String(), f.Message}, "\x00")
}

func (e *Engine) evaluate(ctx context.Context, resources []*load.Resource) (*Result, error) {
	res := &Result{}
	// Every resource as an OPA value, once: the input of its own
	// evaluation and, for the plan evaluator, its entry in data.
	inputs := make([]*ast.Term, len(resources))
	e.parallel(len(resources), func(i int) {
		if v, err := ast.InterfaceToValue(resources[i].Object); err == nil {
			inputs[i] = ast.NewTerm(v)
		}
	})
	usesTopdown := e.hasCache() && e.cachePlan == nil
	for g := range e.groups {
		usesTopdown = usesTopdown || e.unplanned[g] || (e.planned[g] && e.plans[g] == nil)
	}
	usesPlans := slices.ContainsFunc(e.plans, func(p *vm.Program) bool { return p != nil })
	var store storage.Store
	if usesTopdown {
		root := map[string]any{}
		for k, v := range e.opts.Data {
			root[k] = v
		}
		kg := map[string]any{}
		for k, v := range e.opts.Facts {
			kg[k] = v
		}
		kg["resources"] = index(resources)
		kg["workloads"] = k8s.Workloads()
		root["kubegate"] = kg
		store = inmem.NewFromObjectWithOpts(root, inmem.OptRoundTripOnWrite(false))
	}
	var data *ast.Term
	if usesPlans || e.cachePlan != nil {
		var err error
		if data, err = e.planData(resources, inputs); err != nil {
			return nil, err
		}
	}
	if err := e.buildCache(ctx, store, data); err != nil {
		return nil, err
	}
	// The topdown queries of each group: its unplanned set, and its planned
	// set where the plan evaluator cannot take it.
	queries := make([][]rego.PreparedEvalQuery, len(e.groups))
	for g, pkg := range e.groups {
		var sets []string
		if e.planned[g] && e.plans[g] == nil {
			sets = append(sets, "planned")
		}
		if e.unplanned[g] {
			sets = append(sets, "unplanned")
		}
		for _, set := range sets {
			pq, err := rego.New(
				rego.Query("data."+pkg+"."+set),
				rego.Compiler(e.compiler),
				rego.Store(store),
				rego.StrictBuiltinErrors(false),
				// The findings as OPA values: evaluateOne reads what it
				// needs from them, without converting every violation to
				// Go first.
				rego.GenerateJSON(func(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }),
			).PrepareForEval(ctx)
			if err != nil {
				return nil, fmt.Errorf("preparing policies: %w", err)
			}
			queries[g] = append(queries[g], pq)
		}
	}
	byID := make(map[resourceKey]*load.Resource, len(resources))
	for _, r := range resources {
		id := r.ID()
		byID[resourceKey{id.Kind, id.Namespace, id.Name}] = r
	}
	nsModes, labelErrs := e.namespaceModes(resources)
	res.Errors = append(res.Errors, labelErrs...)
	var mu sync.Mutex
	fallback := &topdownFallback{e: e, data: data}
	e.parallel(len(resources), func(i int) {
		r := resources[i]
		g := e.group(r.ID().Kind)
		if g < 0 {
			return
		}
		eval := func(ctx context.Context, input *ast.Term) (ast.Set, error) {
			var all ast.Set
			if p := e.plans[g]; p != nil {
				rs, err := e.runPlan(ctx, p, input, data)
				var conflict *vm.Conflict
				switch {
				case err == nil:
					if t := planResult(rs); t != nil {
						set, _ := t.Value.(ast.Set)
						all = set
					}
				case errors.As(err, &conflict) || ctx.Err() != nil:
					return nil, err // a policy's conflict, or the timeout: topdown's too
				default:
					// The plan evaluator failed where topdown would not
					// have: evaluate this resource with topdown, and say so.
					set, terr := fallback.eval(ctx, g, input)
					if terr != nil {
						return nil, terr
					}
					all = set
					mu.Lock()
					id := r.ID()
					res.Retried = append(res.Retried, fmt.Sprintf("%s: %v", id, err))
					mu.Unlock()
				}
			}
			for _, q := range queries[g] {
				rs, err := q.Eval(ctx, rego.EvalParsedInput(input.Value))
				if err != nil {
					return nil, err
				}
				if len(rs) > 0 && len(rs[0].Expressions) > 0 {
					if t, _ := rs[0].Expressions[0].Value.(*ast.Term); t != nil {
						if set, ok := t.Value.(ast.Set); ok && all == nil {
							all = set
						} else if ok {
							all = all.Union(set)
						}
					}
				}
			}
			return all, nil
		}
		fs, errs := e.evaluateOne(ctx, eval, r, inputs[i], nsModes, byID)
		mu.Lock()
		res.Findings = append(res.Findings, fs...)
		res.Errors = append(res.Errors, errs...)
		mu.Unlock()
	})
	return res, ctx.Err()
}

// runPlan evaluates a plan; a panic in the plan evaluator is an error.
func runPlan(ctx context.Context, p *vm.Program, input, data *ast.Term) (rs []*ast.Term, err error) {
	defer func() {
		if x := recover(); x != nil {
			err = fmt.Errorf("plan evaluator panic: %v", x)
		}
	}()
	return p.Eval(ctx, input, data)
}

// topdownFallback evaluates a group's planned rules with topdown, for a
// resource the plan evaluator failed on. Its store and queries are made on
// first use: the plan evaluator does not fail on any input we know.
type topdownFallback struct {
	e       *Engine
	data    *ast.Term
	mu      sync.Mutex
	store   storage.Store
	queries map[int]rego.PreparedEvalQuery
}

func (f *topdownFallback) eval(ctx context.Context, g int, input *ast.Term) (ast.Set, error) {
	f.mu.Lock()
	q, ok := f.queries[g]
	if !ok {
		if f.store == nil {
			doc, err := ast.JSON(f.data.Value)
			if err != nil {
				f.mu.Unlock()
				return nil, err
			}
			root, _ := doc.(map[string]any)
			f.store = inmem.NewFromObjectWithOpts(root, inmem.OptRoundTripOnWrite(false))
			f.queries = map[int]rego.PreparedEvalQuery{}
		}
		var err error
		q, err = rego.New(
			rego.Query("data."+f.e.groups[g]+".planned"),
			rego.Compiler(f.e.compiler),
			rego.Store(f.store),
			rego.StrictBuiltinErrors(false),
			rego.GenerateJSON(func(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }),
		).PrepareForEval(ctx)
		if err != nil {
			f.mu.Unlock()
			return nil, err
		}
		f.queries[g] = q
	}
	f.mu.Unlock()
	rs, err := q.Eval(ctx, rego.EvalParsedInput(input.Value))
	if err != nil || len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, err
	}
	t, _ := rs[0].Expressions[0].Value.(*ast.Term)
	if t == nil {
		return nil, nil
	}
	set, _ := t.Value.(ast.Set)
	return set, nil
}

// parallel calls fn(0) ... fn(n-1) on Parallelism goroutines.
func (e *Engine) parallel(n int, fn func(i int)) {
	work := make(chan int, 64)
	var wg sync.WaitGroup
	for range min(e.opts.Parallelism, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				fn(i)
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

// planData is the data document the plan evaluator reads: the --data
// documents, the facts and data.kubegate.resources, made of the same
// values as the inputs. Lookup tables are added by buildCache.
func (e *Engine) planData(resources []*load.Resource, inputs []*ast.Term) (*ast.Term, error) {
	root := ast.NewObject()
	for k, v := range e.opts.Data {
		t, err := ast.InterfaceToValue(v)
		if err != nil {
			return nil, fmt.Errorf("policy data %q: %w", k, err)
		}
		root.Insert(ast.StringTerm(k), ast.NewTerm(t))
	}
	kg := ast.NewObject()
	for k, v := range e.opts.Facts {
		t, err := ast.InterfaceToValue(v)
		if err != nil {
			return nil, fmt.Errorf("facts %q: %w", k, err)
		}
		kg.Insert(ast.StringTerm(k), ast.NewTerm(t))
	}
	idx := ast.NewObject()
	child := func(parent ast.Object, key string) ast.Object {
		k := ast.StringTerm(key)
		if t := parent.Get(k); t != nil {
			return t.Value.(ast.Object)
		}
		o := ast.NewObject()
		parent.Insert(k, ast.NewTerm(o))
		return o
	}
	for i, r := range resources {
		if inputs[i] == nil {
			continue
		}
		id := r.ID()
		child(child(idx, id.Kind), id.Namespace).Insert(ast.StringTerm(id.Name), inputs[i])
	}
	kg.Insert(ast.StringTerm("resources"), ast.NewTerm(idx))
	kg.Insert(ast.StringTerm("workloads"), workloadsTerm)
	root.Insert(ast.StringTerm("kubegate"), ast.NewTerm(kg))
	return ast.NewTerm(root), nil
}

// cachePackage holds rules over data.kubegate.resources alone (no input):
// lookup tables such as "the HPAs that target each workload". They are
// evaluated once per run and stored as data.kubegate.cache, so that a rule
// evaluated for each resource looks its neighbours up instead of scanning
// every resource of a namespace.
//
// Build them in one linear pass. Beware that OPA checks each key of a rule
// with a multi-level ref head (t[a][b][c] contains x) against every key
// already made, which is quadratic: 32,000 HPAs indexed that way took
// about 20 s. A flat set of tuples, or an object comprehension over a
// single level, stays linear.
const cachePackage = "kubegate.index"

func (e *Engine) hasCache() bool {
	return len(e.compiler.GetRulesWithPrefix(ast.MustParseRef("data."+cachePackage))) > 0
}

// buildCache evaluates the lookup tables and adds them to both data
// documents in use: the topdown store and the plan evaluator's data.
func (e *Engine) buildCache(ctx context.Context, store storage.Store, data *ast.Term) error {
	if !e.hasCache() {
		return nil
	}
	var cache *ast.Term
	if e.cachePlan != nil {
		rs, err := e.cachePlan.Eval(ctx, nil, data)
		if err != nil {
			return fmt.Errorf("building the policies' lookup tables: %w", err)
		}
		cache = planResult(rs)
	} else {
		rs, err := rego.New(
			rego.Query("data."+cachePackage),
			rego.Compiler(e.compiler),
			rego.Store(store),
			rego.GenerateJSON(func(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }),
		).Eval(ctx)
		if err != nil {
			return fmt.Errorf("building the policies' lookup tables: %w", err)
		}
		if len(rs) > 0 && len(rs[0].Expressions) > 0 {
			cache, _ = rs[0].Expressions[0].Value.(*ast.Term)
		}
	}
	if cache == nil {
		cache = ast.NewTerm(ast.NewObject())
	}
	if data != nil {
		data.Value.(ast.Object).Get(ast.StringTerm("kubegate")).Value.(ast.Object).Insert(ast.StringTerm("cache"), cache)
	}
	if store == nil {
		return nil
	}
	v, err := ast.JSON(cache.Value)
	if err != nil {
		return fmt.Errorf("building the policies' lookup tables: %w", err)
	}
	return storage.WriteOne(ctx, store, storage.AddOp, storage.Path{"kubegate", "cache"}, v)
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

// namespaceModes reads the Pod Security modes of every Namespace in the
// input that carries pod-security.kubernetes.io labels.
func (e *Engine) namespaceModes(resources []*load.Resource) (map[string]PSSModes, []finding.InputError) {
	out := map[string]PSSModes{}
	var errs []finding.InputError
	for _, r := range resources {
		id := r.ID()
		if id.Kind != "Namespace" || id.APIVersion != "v1" {
			continue
		}
		meta, _ := r.Object["metadata"].(map[string]any)
		raw, _ := meta["labels"].(map[string]any)
		labels := map[string]string{}
		for k, v := range raw {
			if s, ok := v.(string); ok && strings.HasPrefix(k, labelPrefix) {
				labels[k] = s
			}
		}
		if len(labels) == 0 {
			continue
		}
		modes, bad := ModesFromLabels(labels, e.opts.PSS)
		for _, le := range bad {
			loc := r.Locate(load.Path{"metadata", "labels", le.Label})
			errs = append(errs, finding.InputError{File: loc.File, Line: loc.Line, Message: fmt.Sprintf("%s: %v (the admission controller would use %s)", id, le, modes)})
		}
		out[id.Name] = modes
	}
	return out, errs
}

// String describes the modes as the report shows them.
func (m PSSModes) String() string {
	return fmt.Sprintf("enforce %s, warn %s, audit %s", m.Enforce, m.Warn, m.Audit)
}

// pssExempt reports whether a resource is exempt from Pod Security checks.
func (e *Engine) pssExempt(r *load.Resource, id finding.Resource) bool {
	if slices.Contains(e.opts.PSSExemptNamespaces, id.Namespace) && id.Namespace != "" {
		return true
	}
	if len(e.opts.PSSExemptRuntimeClasses) == 0 {
		return false
	}
	spec, _ := load.Lookup(r.Object, load.PodSpecPath(id.Kind)).(map[string]any)
	rc, _ := spec["runtimeClassName"].(string)
	return rc != "" && slices.Contains(e.opts.PSSExemptRuntimeClasses, rc)
}

// pssViolation is one violation of a Pod Security check, before the
// violations of a check in one resource become one finding.
type pssViolation struct {
	sev     finding.Severity
	msg     string
	path    load.Path
	loc     finding.Location
	related []finding.Location
}

// resourceKey is how data.kubegate.resources keys a resource.
type resourceKey struct{ kind, namespace, name string }

// lookupResource reads a violation's reference to another resource of the
// run, {"kind", "namespace", "name"}.
func lookupResource(v any, byID map[resourceKey]*load.Resource) (*load.Resource, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	kind, _ := m["kind"].(string)
	ns, _ := m["namespace"].(string)
	name, _ := m["name"].(string)
	r, ok := byID[resourceKey{kind, ns, name}]
	return r, ok
}

// evaluateOne evaluates the rules of r's kind group with r as input. A
// violation is {"msg", "path"} with, optionally:
//   - "versions": [lo, hi], the Kubernetes minors for which a Pod Security
//     violation holds;
//   - "resource": {"kind", "namespace", "name"} of another resource of the
//     run that the finding is about and that path belongs to, for
//     cross-resource rules whose fix lies elsewhere (an HPA's metric that
//     needs a request in the Deployment it scales);
//   - "related": [{"path", "resource"?}], further places the author should
//     see, in the input (or the named resource).
func (e *Engine) evaluateOne(ctx context.Context, eval func(context.Context, *ast.Term) (ast.Set, error), r *load.Resource, input *ast.Term, nsModes map[string]PSSModes, byID map[resourceKey]*load.Resource) (findings []finding.Finding, errs []finding.InputError) {
	id := r.ID()
	fail := func(msg string) {
		loc := r.Locate(nil)
		errs = append(errs, finding.InputError{File: loc.File, Line: loc.Line, Message: fmt.Sprintf("%s: %s", id, msg)})
	}
	defer func() {
		if p := recover(); p != nil {
			fail(fmt.Sprintf("internal error while evaluating policies (please report it): %v", p))
		}
	}()
	if input == nil {
		_, err := ast.InterfaceToValue(r.Object)
		fail(fmt.Sprint(err))
		return nil, errs
	}
	ectx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	set, err := eval(ectx, input)
	if err != nil {
		if ectx.Err() != nil && ctx.Err() == nil {
			fail(fmt.Sprintf("evaluating policies took longer than %v and was stopped: a policy loops over a huge set or builds a huge value (%v)", e.opts.Timeout, err))
		} else {
			fail("evaluating policies: " + err.Error())
		}
		return nil, errs
	}
	if set == nil {
		return nil, nil
	}
	modes, ok := nsModes[id.Namespace]
	if !ok {
		modes = e.opts.PSS
	}
	exempt := e.pssExempt(r, id)
	pss := map[*Rule][]pssViolation{}
	one := func(pkg string, rule *Rule, x *ast.Term) {
		v, _ := x.Value.(ast.Object)
		var msg string
		if t := field(v, "msg"); t != nil {
			if s, ok := t.Value.(ast.String); ok {
				msg = string(s)
			}
		}
		if s, ok := x.Value.(ast.String); ok && rule != nil && !strings.HasSuffix(rule.Query, ".violations") {
			msg, v = string(s), nil // conftest-style: the message itself
		}
		if rule == nil || msg == "" {
			where := pkg
			if rule != nil {
				where = fmt.Sprintf("%s (%s, package %s)", rule.ID, rule.File, rule.Package)
			}
			fail(fmt.Sprintf("rule %s returned a violation without a msg: %v", where, toInterface(x)))
			return
		}
		path := termPath(field(v, "path"))
		if rule.Level != Privileged {
			if exempt {
				return
			}
			versions := toInterface(field(v, "versions"))
			lo, hi, ok := versionRange(versions)
			if !ok {
				fail(fmt.Sprintf("policy %s returned a violation whose versions is not [lo, hi]: %v", pkg, versions))
				return
			}
			if sev := e.pss.severity(rule, modes, lo, hi); sev != finding.SeverityNone {
				loc, related := r.Where(path)
				pss[rule] = append(pss[rule], pssViolation{sev: sev, msg: msg, path: path, loc: loc, related: related})
			}
			return
		}
		subject := r
		if t := field(v, "resource"); t != nil {
			ref := toInterface(t)
			if subject, ok = lookupResource(ref, byID); !ok {
				fail(fmt.Sprintf("policy %s returned a violation about a resource that is not in the input: %v", pkg, ref))
				return
			}
		}
		loc, also := subject.Where(path)
		f := finding.Finding{
			Rule:     rule.ID,
			Severity: rule.Severity,
			Message:  msg,
			Resource: subject.ID(),
			Field:    path.String(),
			Location: loc,
			Related:  also,
		}
		related, _ := toInterface(field(v, "related")).([]any)
		for _, x := range related {
			rel, _ := x.(map[string]any)
			at := r
			if ref, ok := rel["resource"]; ok {
				if at, ok = lookupResource(ref, byID); !ok {
					continue
				}
			}
			if loc := at.Locate(toPath(rel["path"])); loc != f.Location && !slices.Contains(f.Related, loc) {
				f.Related = append(f.Related, loc)
			}
		}
		findings = append(findings, f)
	}
	set.Foreach(func(x *ast.Term) {
		pair, _ := x.Value.(*ast.Array)
		if pair == nil || pair.Len() != 2 {
			return
		}
		pkg, _ := pair.Elem(0).Value.(ast.String)
		one(string(pkg), e.byPkg[string(pkg)], pair.Elem(1))
	})
	for rule, vs := range pss {
		findings = append(findings, mergePSS(rule, id, vs))
	}
	return findings, errs
}

// mergePSS makes the violations of one Pod Security check in one resource
// one finding, as the admission controller gives one verdict per check: at
// the highest severity, located at the first place written, the other
// places as related locations, every message kept.
func mergePSS(rule *Rule, id finding.Resource, vs []pssViolation) finding.Finding {
	slices.SortStableFunc(vs, func(a, b pssViolation) int {
		return cmp.Or(cmp.Compare(b.sev, a.sev), strings.Compare(a.loc.File, b.loc.File), cmp.Compare(a.loc.Line, b.loc.Line), cmp.Compare(a.loc.Column, b.loc.Column), strings.Compare(a.msg, b.msg))
	})
	f := finding.Finding{Rule: rule.ID, Severity: vs[0].sev, Resource: id, Field: vs[0].path.String(), Location: vs[0].loc}
	var msgs []string
	for i, v := range vs {
		if !slices.Contains(msgs, v.msg) {
			msgs = append(msgs, v.msg)
		}
		if i > 0 && v.loc != f.Location && !slices.Contains(f.Related, v.loc) {
			f.Related = append(f.Related, v.loc)
		}
	}
	// Then the places behind each (the template line of a value a chart
	// copied from its values).
	for _, v := range vs {
		for _, l := range v.related {
			if l != f.Location && !slices.Contains(f.Related, l) {
				f.Related = append(f.Related, l)
			}
		}
	}
	f.Message = strings.Join(msgs, "; ")
	return f
}

// versionRange reads a violation's optional versions: [lo, hi].
func versionRange(v any) (lo, hi int, ok bool) {
	if v == nil {
		return 0, 9999, true
	}
	arr, _ := v.([]any)
	if len(arr) != 2 {
		return 0, 0, false
	}
	p := toPath(arr)
	if len(p) != 2 {
		return 0, 0, false
	}
	lo, ok1 := p[0].(int)
	hi, ok2 := p[1].(int)
	return lo, hi, ok1 && ok2 && lo <= hi
}

// field returns the value of key in a violation, nil when absent.
func field(v ast.Object, key string) *ast.Term {
	if v == nil {
		return nil
	}
	return v.Get(ast.InternedTerm(key))
}

// toInterface converts a policy's value to Go as OPA's results are (numbers
// as json.Number); nil for nil.
func toInterface(t *ast.Term) any {
	if t == nil {
		return nil
	}
	x, err := ast.JSON(t.Value)
	if err != nil {
		return nil
	}
	return x
}

// termPath is toPath for a path as OPA gives it.
func termPath(t *ast.Term) load.Path {
	var arr *ast.Array
	if t != nil {
		arr, _ = t.Value.(*ast.Array)
	}
	if arr == nil {
		return make(load.Path, 0)
	}
	p := make(load.Path, 0, arr.Len())
	arr.Foreach(func(x *ast.Term) {
		switch s := x.Value.(type) {
		case ast.String:
			p = append(p, string(s))
		case ast.Number:
			if i, err := json.Number(s).Int64(); err == nil {
				p = append(p, int(i))
			}
		}
	})
	return p
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
