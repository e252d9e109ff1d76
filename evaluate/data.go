package evaluate

// The data the policies read beside their input: the --data documents,
// kubegate's facts, data.kubegate.resources and workloads, and the lookup
// tables of kubegate.index, built once per run.

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"

	"github.com/kubegate/kubegate/evaluate/internal/vm"
	"github.com/kubegate/kubegate/internal/k8s"
	"github.com/kubegate/kubegate/load"
	"github.com/kubegate/kubegate/schema"
)

// workloadsTerm is data.kubegate.workloads: where each workload kind has its
// pod spec (internal/k8s), the one table the policies and Go share.
var workloadsTerm = ast.NewTerm(ast.MustInterfaceToValue(k8s.Workloads()))

// apisData is data.kubegate.apis, the upstream lifecycle of every built-in
// apiVersion and kind (schema.Lifecycle), for the api.* rules.
var apisData = sync.OnceValue(func() map[string]any {
	var out map[string]any
	data, err := json.Marshal(schema.Lifecycle())
	if err == nil {
		err = json.Unmarshal(data, &out)
	}
	if err != nil {
		panic(err) // generated data, tested
	}
	return out
})

var apisTerm = sync.OnceValue(func() *ast.Term { return ast.NewTerm(ast.MustInterfaceToValue(apisData())) })

// planData is the data document the plan evaluator reads: the --data
// documents, the facts and data.kubegate.resources. Lookup tables are added
// by buildCache.
//
// Each resource in data.kubegate.resources is a lazy value (vm.Lazy), made
// from the resource when a policy reads it (values.of) and not kept: a
// run's resources are never all OPA values at once, only those being
// evaluated, those a policy is reading and the latest few (issue 18).
func (e *Engine) planData(resources []*load.Resource, values *madeValues, facts map[string]any) (*vm.Data, error) {
	root := ast.NewObject()
	for k, v := range e.opts.Data {
		t, err := ast.InterfaceToValue(v)
		if err != nil {
			return nil, fmt.Errorf("policy data %q: %w", k, err)
		}
		root.Insert(ast.StringTerm(k), ast.NewTerm(t))
	}
	kg := ast.NewObject()
	for k, v := range facts {
		t, err := ast.InterfaceToValue(v)
		if err != nil {
			return nil, fmt.Errorf("facts %q: %w", k, err)
		}
		kg.Insert(ast.StringTerm(k), ast.NewTerm(t))
	}
	data := vm.NewData(ast.NewTerm(root))
	idx := ast.NewObject()
	child := func(parent ast.Object, key string) ast.Object {
		k := ast.StringTerm(key)
		if t := parent.Get(k); t != nil {
			return t.Value.(ast.Object)
		}
		o := ast.NewObject()
		data.Hold(o)
		parent.Insert(k, ast.NewTerm(o))
		return o
	}
	for _, r := range resources {
		id := r.ID()
		child(child(idx, id.Kind), id.Namespace).Insert(ast.StringTerm(id.Name), vm.Lazy(func() ast.Value { return values.of(r) }))
	}
	for _, o := range []ast.Object{idx, kg, root} {
		data.Hold(o)
	}
	kg.Insert(ast.StringTerm("resources"), ast.NewTerm(idx))
	kg.Insert(ast.StringTerm("workloads"), workloadsTerm)
	kg.Insert(ast.StringTerm("apis"), apisTerm())
	root.Insert(ast.StringTerm("kubegate"), ast.NewTerm(kg))
	return data, nil
}

// madeValues makes resources' OPA values, and keeps the
// madeValuesKept that policies looked up last: a resource a policy reads
// again and again (a user's policy scanning a namespace for each of its
// Services, when the namespaces scanned hold up to that many) is made
// once. Inputs are not kept: each is evaluated once.
type madeValues struct {
	kept *lru.Cache[*load.Resource, ast.Value]
	// indexing is set while the lookup tables are built, by one goroutine
	// before the evaluations begin (buildCache): a resource read then is
	// made only as far as the tables' rules read it (ast.LazyObject), and
	// not kept.
	indexing bool
}

// madeValuesKept bounds the values kept: about 15 MB of them for the
// yardstick's resources.
const madeValuesKept = 2048

func newMadeValues() *madeValues {
	kept, err := lru.New[*load.Resource, ast.Value](madeValuesKept)
	if err != nil {
		panic(err) // a positive size
	}
	return &madeValues{kept: kept}
}

// of is a resource as an OPA value, its value in data.kubegate.resources;
// nil if it has none (a value that is not JSON, which the loader does not
// make). Values are shared by concurrent evaluations, as OPA's values may
// be: nothing changes them.
func (m *madeValues) of(r *load.Resource) ast.Value {
	if m.indexing {
		return ast.LazyObject(r.Object)
	}
	if v, ok := m.kept.Get(r); ok {
		return v
	}
	v := m.input(r)
	if v != nil {
		m.kept.Add(r, v)
	}
	return v
}

// input is a resource as the input of its evaluation: made, or the value
// kept from a lookup.
func (m *madeValues) input(r *load.Resource) ast.Value {
	if v, ok := m.kept.Peek(r); ok {
		return v
	}
	v, err := ast.InterfaceToValue(r.Object)
	if err != nil {
		return nil
	}
	return v
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
func (e *Engine) buildCache(ctx context.Context, store storage.Store, data *vm.Data, values *madeValues) error {
	if !e.hasCache() {
		return nil
	}
	var cache *ast.Term
	if e.cachePlan != nil {
		rs, err := e.indexPlan(ctx, data, values)
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
		data.Term.Value.(ast.Object).Get(ast.StringTerm("kubegate")).Value.(ast.Object).Insert(ast.StringTerm("cache"), cache)
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

// indexPlan evaluates the lookup tables' plan. The tables read a few
// fields of many resources (the labels of every workload's pods, the
// target of every HPA): each resource is made only as far as they read it
// (madeValues.indexing). A lazy object converts what is read of it as it
// is read, without a lock, and is then not safe to share; but OPA hashes
// every value put in an object, array or set, which makes a lazy object
// whole, and a whole one is only read: what the tables keep of a resource
// is whole before the evaluations share it (TestIndexReadsResourcesLazily).
// If a resource cannot be made that way (ast.LazyObject panics on a value
// that is not JSON, which the loader does not make), the tables are built
// again from whole values.
func (e *Engine) indexPlan(ctx context.Context, data *vm.Data, values *madeValues) (rs []*ast.Term, err error) {
	values.indexing = true
	defer func() {
		values.indexing = false
		if x := recover(); x != nil {
			rs, err = e.cachePlan.EvalData(ctx, nil, data)
		}
	}()
	return e.cachePlan.EvalData(ctx, nil, data)
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
