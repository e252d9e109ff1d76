package vm

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// Each case is evaluated by topdown, OPA's reference, and by the plan
// evaluator; their results (or the fact that both fail) must agree.
var cases = []struct {
	name   string
	module string
	query  string
	input  string
	data   string
}{
	{name: "else chain in a function", module: `package t
size(n) := "small" if n < 10
else := "medium" if n < 100
else := "large"
x := [size(1), size(50), size(500)]`, query: "data.t.x"},
	{name: "complete rule else and default", module: `package t
default mode := "none"
mode := "a" if input.a
else := "b" if input.b
y := mode`, query: "data.t.y", input: `{"b": true}`},
	{name: "default when undefined", module: `package t
default mode := "none"
mode := "a" if input.a`, query: "data.t.mode", input: `{}`},
	{name: "negation and nested negation", module: `package t
missing contains c.name if {
	some c in input.containers
	not c.resources.limits.memory
}
ok if not missing["x"]
flag_set if input.flag
unset if not flag_set
double if not unset
r := {"missing": missing, "ok": ok, "double": double}`, query: "data.t.r", input: `{"flag": true, "containers": [{"name": "a"}, {"name": "x", "resources": {"limits": {"memory": "1Gi"}}}, {"name": "b", "resources": {}}]}`},
	{name: "every", module: `package t
default all_named := false
default none_named := false
all_named if every c in input.containers { c.name != "" }
none_named if every c in input.containers { c.name == "" }
r := [all_named, none_named]`, query: "data.t.r", input: `{"containers": [{"name": "a"}, {"name": "b"}]}`},
	{name: "comprehensions keep OPA's order", module: `package t
s := {"b", "a", "c"}
o := {"z": 1, "y": 2, "x": 3}
arr := [x | some x in s]
keys := [k | some k, _ in o]
vals := [v | some v in o]
objs := {k: y | some k, v in o; y := v * 2}
firsts := [i | some i, x in input.xs; x > 1]
r := [arr, keys, vals, objs, firsts]`, query: "data.t.r", input: `{"xs": [1, 2, 3, 0, 5]}`},
	{name: "partial object and multi-level ref heads", module: `package t
by_name[c.name] := c.image if some c in input.containers
tree[c.name][c.image] := true if some c in input.containers
r := [by_name, tree]`, query: "data.t.r", input: `{"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}`},
	{name: "partial object conflict is an error", module: `package t
by_name[c.name] := c.image if some c in input.containers`, query: "data.t.by_name", input: `{"containers": [{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]}`},
	{name: "complete rule conflict is an error", module: `package t
x := c.name if some c in input.containers`, query: "data.t.x", input: `{"containers": [{"name": "a"}, {"name": "b"}]}`},
	{name: "function conflict is an error", module: `package t
f(x) := 1 if x > 0
f(x) := 2 if x > 1
y := f(5)`, query: "data.t.y"},
	{name: "built-in errors are undefined", module: `package t
default n := "undefined"
n := to_number(input.s)
default q := "undefined"
q := units.parse("12Qi")
out := [n, q]`, query: "data.t.out", input: `{"s": "not a number"}`},
	{name: "quantities and strings", module: `package t
r := [
	units.parse("1.5Gi"), units.parse("500m"), units.parse("0.5Gi") == units.parse("512Mi"),
	sprintf("%s has %d containers", [input.name, count(input.containers)]),
	regex.match("^[a-z]+$", input.name), trim_suffix("80%", "%"),
	array.concat(["spec"], ["containers", 0]), object.union({"a": 1}, {"b": 2}),
	substring("autoscaling/v2", 0, indexof("autoscaling/v2", "/")),
	1 / 3, 7 % 3, 2.5 * 4,
]`, query: "data.t.r", input: `{"name": "web", "containers": [{}, {}]}`},
	{name: "membership and sets", module: `package t
kinds := {"Deployment", "StatefulSet"}
r := ["Deployment" in kinds, "Job" in kinds, 2 in [1, 2], 1 in {"k": 1}, kinds | {"Job"}, kinds & {"Job"}, kinds - {"Deployment"}]`, query: "data.t.r"},
	{name: "base data and virtual documents", module: `package t
import data.config
limit := object.get(config, "limit", 10)
names := [n | some n, _ in data.config.teams]
r := [limit, names, data.config.teams.a.size]`, query: "data.t.r", data: `{"config": {"limit": 3, "teams": {"b": {"size": 2}, "a": {"size": 1}}}}`},
	{name: "a package as an object merges base and virtual documents", module: `package t.idx
computed := count(data.t.idx.base)`, query: "data.t.idx", data: `{"t": {"idx": {"base": [1, 2, 3]}}}`},
	{name: "undefined input", module: `package t
default r := "no input"
r := "input" if input`, query: "data.t.r"},
	{name: "deep paths and arrays of arrays", module: `package t
r := [x | some [kind, i, c] in input.items; x := sprintf("%s/%d/%s", [kind, i, c.name])]`, query: "data.t.r", input: `{"items": [["containers", 0, {"name": "a"}], ["initContainers", 1, {"name": "b"}], ["bad"]]}`},
	{name: "early exit in a set rule over a large loop", module: `package t
big if { some x in numbers.range(1, 20000); x == 15000 }`, query: "data.t.big"},
}

func compile(t *testing.T, module string) *ast.Compiler {
	t.Helper()
	m, err := ast.ParseModuleWithOpts("t.rego", module, ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		t.Fatal(err)
	}
	c := ast.NewCompiler().WithEnablePrintStatements(false)
	if c.Compile(map[string]*ast.Module{"t.rego": m}); c.Failed() {
		t.Fatal(c.Errors)
	}
	return c
}

func term(t *testing.T, js string) *ast.Term {
	t.Helper()
	if js == "" {
		return nil
	}
	v, err := ast.ParseTerm(js)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPlanMatchesTopdown(t *testing.T) {
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := compile(t, tc.module)
			prog, err := Compile(c, tc.query)
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			input, data := term(t, tc.input), term(t, tc.data)
			if data == nil {
				data = ast.NewTerm(ast.NewObject())
			}
			var raw map[string]any
			if err := ast.As(data.Value, &raw); err != nil {
				t.Fatal(err)
			}
			opts := []func(*rego.Rego){rego.Query(tc.query), rego.Compiler(c), rego.Store(inmem.NewFromObject(raw)), rego.StrictBuiltinErrors(false)}
			if input != nil {
				opts = append(opts, rego.ParsedInput(input.Value))
			}
			rs, tdErr := rego.New(opts...).Eval(ctx)
			out, vmErr := prog.Eval(ctx, input, data)
			// The same data document made lazy (every value below the
			// first level a lazy one) must give the same result.
			lazyData, forced := lazify(data)
			lazyOut, lazyErr := prog.EvalData(ctx, input, lazyData)
			if (lazyErr != nil) != (vmErr != nil) || (vmErr == nil && !sameTerms(out, lazyOut)) {
				t.Errorf("with lazy data: %v %v, with plain data: %v %v", lazyOut, lazyErr, out, vmErr)
			}
			if tc.data != "" && *forced == 0 {
				t.Errorf("no lazy value was read: the case proves nothing about them")
			}
			if (tdErr != nil) != (vmErr != nil) {
				t.Fatalf("topdown error %v, plan error %v", tdErr, vmErr)
			}
			if tdErr != nil {
				// A conflict names the same place, as topdown words it.
				prefix := func(err error) string {
					s, _, _ := strings.Cut(err.Error(), " eval_conflict_error:")
					return s
				}
				if !strings.Contains(vmErr.Error(), "eval_conflict_error:") || prefix(vmErr) != prefix(tdErr) {
					t.Errorf("topdown error %q, plan error %q", tdErr, vmErr)
				}
				return
			}
			var want, got any
			if len(rs) > 0 {
				want = rs[0].Expressions[0].Value
			}
			if len(out) > 0 {
				obj := out[0].Value.(ast.Object)
				obj.Foreach(func(_, v *ast.Term) { got, _ = ast.JSON(v.Value) })
			}
			if len(rs) > 1 || len(out) > 1 {
				t.Fatalf("%d and %d results", len(rs), len(out))
			}
			if !reflect.DeepEqual(want, got) {
				t.Errorf("topdown %#v\nplan    %#v", want, got)
			}
			if want == nil {
				t.Errorf("the case is undefined: it proves little")
			}
		})
	}
}

// lazify is data with every value at its second level lazy (vm.Lazy),
// objects made whole, and the objects of its first level holders; forced
// counts the values made.
func lazify(data *ast.Term) (*Data, *int) {
	var forced int
	var mu sync.Mutex
	d := NewData(data)
	var walk func(o ast.Object, depth int) ast.Object
	walk = func(o ast.Object, depth int) ast.Object {
		out := ast.NewObject()
		o.Foreach(func(k, v *ast.Term) {
			obj, isObj := v.Value.(ast.Object)
			switch {
			case isObj && depth != 1:
				out.Insert(k, ast.NewTerm(walk(obj, depth+1)))
			case depth == 0:
				out.Insert(k, v)
			default:
				out.Insert(k, Lazy(func() ast.Value {
					mu.Lock()
					forced++
					mu.Unlock()
					return v.Value
				}))
			}
		})
		if depth > 0 {
			d.Hold(out)
		}
		return out
	}
	root := walk(data.Value.(ast.Object), 0)
	d.Term = ast.NewTerm(root)
	d.Hold(root)
	return d, &forced
}

func sameTerms(a, b []*ast.Term) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if ast.Compare(a[i].Value, b[i].Value) != 0 {
			return false
		}
	}
	return true
}

// TestLazyData: policies that read the data document in every way a plan
// can (a lookup, a scan, a comparison, a built-in given a whole subtree,
// a value built of it, a base document merged with a virtual one) give
// topdown's results with a lazy document, and a lookup of one value makes
// that value alone.
func TestLazyData(t *testing.T) {
	data := `{"kubegate": {"resources": {
		"Deployment": {"ns1": {"web": {"spec": {"replicas": 2, "labels": {"app": "web"}}}, "api": {"spec": {"replicas": 1}}},
		               "ns2": {"db": {"spec": {"replicas": 3}}}},
		"HorizontalPodAutoscaler": {"ns1": {"web": {"spec": {"target": "web", "min": 2}}}}}}}`
	module := `package t
import data.kubegate.resources
lookup := resources.Deployment.ns1.web.spec.replicas
missing := object.get(resources.Deployment, ["ns1", "nope"], "none")
deep := object.get(resources, ["Deployment", "ns1", "web", "spec", "replicas"], 0)
one_key := object.get(resources.Deployment.ns2, "db", {})
empty_path := object.get(resources.HorizontalPodAutoscaler, [], {})
not_object := object.get(resources.Deployment.ns1, ["web", "spec", "replicas", "x"], "none")
names := sort([n | some n in object.keys(resources.Deployment.ns1)])
total := sum([d.spec.replicas | some ns, by_name in resources.Deployment; some _, d in by_name])
n := count(resources.Deployment.ns1)
marshalled := json.marshal(resources.HorizontalPodAutoscaler)
union := object.union(resources.Deployment.ns1, {"x": 1})
same if resources.Deployment.ns2 == {"db": {"spec": {"replicas": 3}}}
different if resources.Deployment.ns1 != resources.Deployment.ns2
copied := {ns: by_name | some ns, by_name in resources.Deployment}
as_set := {by_name | some by_name in resources.Deployment}
in_array := [resources.HorizontalPodAutoscaler]
member if {"web": {"spec": {"target": "web", "min": 2}}} in resources.HorizontalPodAutoscaler
filtered := object.filter(resources.Deployment.ns1, ["web"])
f(x) := count(x)
through_function := f(resources.Deployment)
whole := data.kubegate
r := [lookup, missing, deep, one_key, empty_path, not_object, names, total, n, marshalled, union, same, different, copied, as_set, in_array, member, filtered, through_function, whole]
`
	c := compile(t, module)
	ctx := context.Background()
	plain := term(t, data)
	var raw map[string]any
	if err := ast.As(plain.Value, &raw); err != nil {
		t.Fatal(err)
	}
	rs, err := rego.New(rego.Query("data.t.r"), rego.Compiler(c), rego.Store(inmem.NewFromObject(raw))).Eval(ctx)
	if err != nil || len(rs) != 1 {
		t.Fatalf("topdown: %v %v", rs, err)
	}
	want := rs[0].Expressions[0].Value
	prog, err := Compile(c, "data.t.r")
	if err != nil {
		t.Fatal(err)
	}
	lazyData, _ := lazify(plain)
	out, err := prog.EvalData(ctx, nil, lazyData)
	if err != nil || len(out) != 1 {
		t.Fatalf("plan: %v %v", out, err)
	}
	var got any
	out[0].Value.(ast.Object).Foreach(func(_, v *ast.Term) { got, err = ast.JSON(v.Value) })
	if err != nil || !reflect.DeepEqual(want, got) {
		t.Errorf("topdown %v\nplan    %v", want, got)
	}
	ast.WalkTerms(out[0], func(x *ast.Term) bool {
		if _, ok := x.Value.(*lazy); ok {
			t.Errorf("a lazy value in the result: %v", got)
		}
		return false
	})

	// One lookup makes one resource; the names of a namespace's
	// resources make none.
	for query, wantForced := range map[string]int{"data.t.lookup": 1, "data.t.deep": 1, "data.t.one_key": 1, "data.t.missing": 0, "data.t.names": 0, "data.t.n": 0} {
		prog, err := Compile(c, query)
		if err != nil {
			t.Fatal(err)
		}
		d, forced := lazifyResources(plain)
		if _, err := prog.EvalData(ctx, nil, d); err != nil {
			t.Fatal(err)
		}
		if *forced != wantForced {
			t.Errorf("%s made %d resources, want %d", query, *forced, wantForced)
		}
	}
}

// lazifyResources makes each resource of data.kubegate.resources (kind,
// namespace, name) lazy, as the engine does.
func lazifyResources(data *ast.Term) (*Data, *int) {
	var forced int
	d := NewData(data)
	kg := data.Value.(ast.Object).Get(ast.StringTerm("kubegate")).Value.(ast.Object)
	idx := kg.Get(ast.StringTerm("resources")).Value.(ast.Object)
	for _, o := range []ast.Object{data.Value.(ast.Object), kg, idx} {
		d.Hold(o)
	}
	out := ast.NewObject()
	idx.Foreach(func(kind, byNS *ast.Term) {
		nsOut := ast.NewObject()
		byNS.Value.(ast.Object).Foreach(func(ns, byName *ast.Term) {
			names := ast.NewObject()
			byName.Value.(ast.Object).Foreach(func(name, r *ast.Term) {
				names.Insert(name, Lazy(func() ast.Value { forced++; return r.Value }))
			})
			d.Hold(names)
			nsOut.Insert(ns, ast.NewTerm(names))
		})
		d.Hold(nsOut)
		out.Insert(kind, ast.NewTerm(nsOut))
	})
	d.Hold(out)
	newKG := ast.NewObject([2]*ast.Term{ast.StringTerm("resources"), ast.NewTerm(out)})
	root := ast.NewObject([2]*ast.Term{ast.StringTerm("kubegate"), ast.NewTerm(newKG)})
	d.Hold(newKG)
	d.Hold(root)
	d.Term = ast.NewTerm(root)
	return d, &forced
}

func TestUnsupportedPlansAreRefused(t *testing.T) {
	for name, module := range map[string]string{
		"with":        "package t\nf := input.x\nr if { f == 1 with input.x as 1 }",
		"clock":       "package t\nr := time.now_ns()",
		"network":     "package t\nr := http.send({\"method\": \"GET\", \"url\": \"http://127.0.0.1:1\"})",
		"randomness":  "package t\nr := rand.intn(\"k\", 10)",
		"uuid":        "package t\nr := uuid.rfc4122(\"k\")",
		"jwt":         "package t\nr := io.jwt.decode_verify(\"x\", {})",
		"json schema": "package t\nr := json.match_schema({}, {})",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Compile(compile(t, module), "data.t.r")
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("got %v, want ErrUnsupported", err)
			}
		})
	}
}

// A cancelled context (the engine's per-resource timeout) stops a loop.
func TestCancelledContextStopsLoops(t *testing.T) {
	c := compile(t, "package t\nn := count([x | some x in numbers.range(1, 100000); x % 7 == 0])")
	prog, err := Compile(c, "data.t.n")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out, err := prog.Eval(ctx, nil, ast.NewTerm(ast.NewObject()))
	if err != nil || len(out) != 1 {
		t.Fatalf("live context: %v %v", out, err)
	}
	cancel()
	if _, err := prog.Eval(ctx, nil, ast.NewTerm(ast.NewObject())); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v, want context.Canceled", err)
	}
}

// Programs are shared by the engine's workers.
func TestConcurrentEvaluations(t *testing.T) {
	c := compile(t, "package t\nr := {c.name: sprintf(\"%s:%d\", [c.name, i]) | some i, c in input.containers}")
	prog, err := Compile(c, "data.t.r")
	if err != nil {
		t.Fatal(err)
	}
	in := term(t, `{"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}`)
	want, err := prog.Eval(context.Background(), in, ast.NewTerm(ast.NewObject()))
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for range 200 {
				got, err := prog.Eval(context.Background(), in, ast.NewTerm(ast.NewObject()))
				if err != nil || len(got) != 1 || got[0].Value.Compare(want[0].Value) != 0 {
					errs <- errors.New("a concurrent evaluation differs")
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
