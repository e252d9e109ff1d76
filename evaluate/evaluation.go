package evaluate

// Evaluation: resources by scope (chart variants apart), in parallel,
// each by the plan evaluator or topdown, a plan failure retried on topdown.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/kubegate/kubegate/evaluate/internal/vm"
	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/internal/k8s"
	"github.com/kubegate/kubegate/load"
)

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
// kind, namespace and name. Facts are what kubegate learnt about the input
// before evaluating it, merged into data.kubegate (for example "images",
// what the image checks found about each reference); "resources", "cache",
// "workloads", "apis" and "cluster" are reserved.
//
// A chart rendered with other values (a ci/*-values.yaml variant) is a
// deployment of its own: its resources are evaluated together, with the
// input's Namespaces (their Pod Security labels apply to it too), apart
// from everything else. A finding a variant shares with an earlier
// rendering (the same rule, resource, field, place and message) is
// reported once, for the earlier one: the line to fix is the same.
//
// With Options.Schemas, every resource is also validated against its
// kind's schema (see checkSchemas).
func (e *Engine) Evaluate(ctx context.Context, resources []*load.Resource, facts map[string]any) (*Result, error) {
	res, err := e.evaluateScopes(ctx, resources, e.withCluster(facts))
	if err != nil || e.opts.Schemas == nil {
		return res, err
	}
	fs, errs := e.checkSchemas(resources)
	seen := map[string]bool{}
	for _, f := range fs {
		// A finding variants share is reported once, as for policies.
		if k := sharedKey(f); !seen[k] {
			seen[k] = true
			res.Findings = append(res.Findings, f)
		}
	}
	for _, x := range errs {
		if !slices.Contains(res.Errors, x) {
			res.Errors = append(res.Errors, x)
		}
	}
	return res, ctx.Err()
}

// withCluster adds data.kubegate.cluster, the target cluster, to the
// facts: {"minor": N} for Kubernetes 1.N.
func (e *Engine) withCluster(facts map[string]any) map[string]any {
	out := make(map[string]any, len(facts)+1)
	for k, v := range facts {
		out[k] = v
	}
	out["cluster"] = map[string]any{"minor": e.opts.KubeMinor}
	return out
}

// Progress counts the resources evaluated (a chart variant's evaluation
// counts the input's Namespaces again, in the total too).
type Progress interface {
	SetTotal(n int)
	Add(n int)
}

type progressKey struct{}

// WithProgress is a context under which Evaluate reports to p.
func WithProgress(ctx context.Context, p Progress) context.Context {
	return context.WithValue(ctx, progressKey{}, p)
}

func progressOf(ctx context.Context) Progress {
	p, _ := ctx.Value(progressKey{}).(Progress)
	return p
}

func (e *Engine) evaluateScopes(ctx context.Context, resources []*load.Resource, facts map[string]any) (*Result, error) {
	scopes := byScope(resources)
	if p := progressOf(ctx); p != nil {
		total := 0
		for i, group := range scopes {
			total += len(group)
			if i > 0 {
				total += len(sharedNamespaces(scopes[0]))
			}
		}
		p.SetTotal(total)
	}
	if len(scopes) == 1 {
		return e.evaluate(ctx, scopes[0], facts)
	}
	namespaces := sharedNamespaces(scopes[0])
	res := &Result{}
	seen := map[string]bool{}
	for i, group := range scopes {
		if i > 0 {
			group = append(slices.Clip(group), namespaces...)
		}
		r, err := e.evaluate(ctx, group, facts)
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

// sharedNamespaces are the Namespaces of the shared scope, which every
// chart variant is evaluated with.
func sharedNamespaces(shared []*load.Resource) []*load.Resource {
	var out []*load.Resource
	for _, r := range shared {
		if id := r.ID(); id.Kind == "Namespace" && r.Scope() == "" {
			out = append(out, r)
		}
	}
	return out
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

func (e *Engine) evaluate(ctx context.Context, resources []*load.Resource, facts map[string]any) (*Result, error) {
	res := &Result{}
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
		for k, v := range facts {
			kg[k] = v
		}
		kg["resources"] = index(resources)
		kg["workloads"] = k8s.Workloads()
		kg["apis"] = apisData()
		root["kubegate"] = kg
		store = inmem.NewFromObjectWithOpts(root, inmem.OptRoundTripOnWrite(false))
	}
	var data *vm.Data
	values := newMadeValues()
	if usesPlans || e.cachePlan != nil {
		var err error
		if data, err = e.planData(resources, values, facts); err != nil {
			return nil, err
		}
	}
	if err := e.buildCache(ctx, store, data, values); err != nil {
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
	// Each resource's findings and errors, gathered in the resources'
	// order at the end (one allocation, not a slice grown under a lock).
	found := make([][]finding.Finding, len(resources))
	failed := make([][]finding.InputError, len(resources))
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
		// The resource as an OPA value, made here (or kept from a policy's
		// lookup) and dropped after.
		var input *ast.Term
		if v := values.input(r); v != nil {
			input = ast.NewTerm(v)
		}
		found[i], failed[i] = e.evaluateOne(ctx, eval, r, input, nsModes, byID)
		if p := progressOf(ctx); p != nil {
			p.Add(1)
		}
	})
	res.Findings = slices.Concat(found...)
	res.Errors = slices.Concat(append([][]finding.InputError{res.Errors}, failed...)...)
	return res, ctx.Err()
}

// runPlan evaluates a plan; a panic in the plan evaluator is an error.
func runPlan(ctx context.Context, p *vm.Program, input *ast.Term, data *vm.Data) (rs []*ast.Term, err error) {
	defer func() {
		if x := recover(); x != nil {
			err = fmt.Errorf("plan evaluator panic: %v", x)
		}
	}()
	return p.EvalData(ctx, input, data)
}

// topdownFallback evaluates a group's planned rules with topdown, for a
// resource the plan evaluator failed on. Its store and queries are made on
// first use: the plan evaluator does not fail on any input we know.
type topdownFallback struct {
	e       *Engine
	data    *vm.Data
	mu      sync.Mutex
	store   storage.Store
	queries map[int]rego.PreparedEvalQuery
}

func (f *topdownFallback) eval(ctx context.Context, g int, input *ast.Term) (ast.Set, error) {
	f.mu.Lock()
	q, ok := f.queries[g]
	if !ok {
		if f.store == nil {
			doc, err := ast.JSON(f.data.Materialize(f.data.Term).Value)
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
