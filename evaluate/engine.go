// Package evaluate runs kubegate's policies over loaded resources: the
// embedded Rego is compiled once, one prepared query evaluates every rule
// for a resource, and resources are evaluated in parallel.
package evaluate

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/kubegate/kubegate/evaluate/internal/vm"
	kgrego "github.com/kubegate/kubegate/rego"
	"github.com/kubegate/kubegate/schema"
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
	// Timeout bounds the evaluation of one resource (default 10s), so a
	// policy that explodes stops with an error naming the resource.
	Timeout time.Duration
	// AllowNetwork lets policies use http.send, net.lookup_ip_addr and
	// opa.runtime; off, they do not compile.
	AllowNetwork bool
	// Evaluator is EvaluatorPlan (the default) or EvaluatorTopdown.
	Evaluator Evaluator
	// Skip are rules not to evaluate, by id: disabled ones, whose findings
	// would be dropped. A skipped rule costs nothing; its package still
	// compiles, and other rules may use its helpers.
	Skip map[string]bool
	// Schemas validates every resource against its kind's schema, with
	// the input's CRDs added; nil checks no schema.
	Schemas *schema.Catalog
	// KubeMinor is the target cluster's Kubernetes minor (1.KubeMinor),
	// data.kubegate.cluster.minor for the api.* rules; 0 means
	// NewestPolicyMinor.
	KubeMinor int
}

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
	runPlan func(context.Context, *vm.Program, *ast.Term, *vm.Data) ([]*ast.Term, error)
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
	if opts.KubeMinor <= 0 {
		opts.KubeMinor = NewestPolicyMinor
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
			if (len(r.Kinds) == 0 || slices.Contains(r.Kinds, kind)) && !opts.Skip[r.ID] {
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
	// The groups are planned once when every rule can be; else again,
	// recompiled with those rules in the unplanned sets.
	unplannable := map[string]bool{}
	failed := make([]error, len(e.groups))
	for g, pkg := range e.groups {
		if e.plans[g], failed[g] = vm.Compile(e.compiler, "data."+pkg+".planned"); failed[g] != nil {
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
		for g, pkg := range e.groups {
			e.plans[g], failed[g] = nil, nil
			if e.planned[g] {
				e.plans[g], failed[g] = vm.Compile(e.compiler, "data."+pkg+".planned")
			}
		}
	}
	for g, err := range failed {
		if err != nil {
			e.onTopdown = append(e.onTopdown, fmt.Sprintf("the rules of %s together: %v", strings.Join(e.groupRules[g], ", "), err))
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
