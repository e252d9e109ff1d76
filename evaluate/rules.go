package evaluate

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"path"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/internal/k8s"
)

// Rule is one policy's metadata, read from the METADATA block of its module:
// the single source for `kubegate rules`, every output format and the
// rule table of docs/rules.md.
type Rule struct {
	ID        string           `json:"id"`
	Severity  finding.Severity `json:"severity"`
	Title     string           `json:"title"`
	Rationale string           `json:"rationale"`
	Fix       string           `json:"fix"`
	Docs      string           `json:"docs,omitempty"`
	// Level is the Pod Security level a pss.* check belongs to; its
	// severity then follows the --pss-* modes rather than Severity.
	Level Level `json:"level,omitempty"`
	// MinVersion is the first Pod Security policy minor (v1.N) in which a
	// pss.* check exists.
	MinVersion int `json:"minVersion,omitempty"`
	// Overrides are the pss.* checks this one replaces where it applies
	// (upstream's OverrideCheckIDs).
	Overrides []string `json:"overrides,omitempty"`
	// OncePerRun says the rule's finding is about the whole run (a host
	// rule such as images.vulnerability-db): each shard of a sharded run
	// makes it, and a merged report keeps one.
	OncePerRun bool `json:"-"`
	// Kinds are the resource kinds the rule applies to; empty means every
	// kind. METADATA may say "workloads" for every kind with a pod spec.
	Kinds []string `json:"kinds,omitempty"`
	// Package is the Rego package, e.g. kubegate.rules.pss.privileged.
	Package string `json:"package"`
	// Query is the set of violations the engine reads: data.<package>.violations,
	// or a conftest-style rule such as data.main.deny.
	Query string `json:"-"`
	// User marks a rule from the user's policies (--policy).
	User bool `json:"user,omitempty"`
	// File is the module's path in the policy file system.
	File string `json:"file"`
}

// rulePackagePrefix is where every rule's package lives.
const rulePackagePrefix = "data.kubegate.rules."

// WalkRego calls fn with the path and source of every .rego file of fsys,
// in lexical order; test modules (*_test.rego) only when tests is set. An
// error from fn stops the walk.
func WalkRego(fsys fs.FS, tests bool, fn func(p string, src []byte) error) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".rego" || (!tests && strings.HasSuffix(p, "_test.rego")) {
			return err
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		return fn(p, src)
	})
}

// parseModules reads every .rego module of fsys except tests.
func parseModules(fsys fs.FS) (map[string]*ast.Module, error) {
	mods := map[string]*ast.Module{}
	err := WalkRego(fsys, false, func(p string, src []byte) error {
		m, err := ast.ParseModuleWithOpts(p, string(src), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			return err
		}
		mods[p] = m
		return nil
	})
	return mods, err
}

// rulesOf reads the metadata of every rule module (a module whose package is
// under kubegate.rules), checking that each is complete and ids are unique.
func rulesOf(mods map[string]*ast.Module) ([]Rule, error) {
	var rules []Rule
	var errs []string
	seen := map[string]string{}
	for _, file := range slices.Sorted(maps.Keys(mods)) {
		m := mods[file]
		pkg := m.Package.Path.String()
		if !strings.HasPrefix(pkg, rulePackagePrefix) {
			continue
		}
		r, err := ruleOf(file, m)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if other, dup := seen[r.ID]; dup {
			errs = append(errs, fmt.Sprintf("%s: rule id %s is also used by %s", file, r.ID, other))
			continue
		}
		seen[r.ID] = file
		rules = append(rules, r)
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return nil, fmt.Errorf("invalid rule metadata:\n  %s", strings.Join(errs, "\n  "))
	}
	slices.SortFunc(rules, func(a, b Rule) int { return strings.Compare(a.ID, b.ID) })
	return rules, nil
}

func ruleOf(file string, m *ast.Module) (Rule, error) {
	r := Rule{File: file, Package: strings.TrimPrefix(m.Package.Path.String(), "data.")}
	r.Query = "data." + r.Package + ".violations"
	var a *ast.Annotations
	for _, x := range m.Annotations {
		if x.Scope == "package" {
			a = x
		}
	}
	if a == nil {
		return r, fmt.Errorf("%s: no package-scoped METADATA block", file)
	}
	str := func(k string) string { s, _ := a.Custom[k].(string); return strings.TrimSpace(s) }
	r.ID, r.Fix, r.Title, r.Rationale = str("id"), str("fix"), strings.TrimSpace(a.Title), strings.TrimSpace(a.Description)
	if len(a.RelatedResources) > 0 && a.RelatedResources[0].Ref.String() != "" {
		r.Docs = a.RelatedResources[0].Ref.String()
	}
	var missing []string
	for k, v := range map[string]string{"custom.id": r.ID, "custom.fix": r.Fix, "title": r.Title, "description": r.Rationale} {
		if v == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return r, fmt.Errorf("%s: METADATA lacks %s", file, strings.Join(missing, ", "))
	}
	sev, err := finding.ParseSeverity(str("severity"), false)
	if err != nil {
		return r, fmt.Errorf("%s: custom.severity: %v", file, err)
	}
	r.Severity = sev
	if raw, ok := a.Custom["level"]; ok {
		lv, _ := raw.(string)
		if r.Level, err = ParseLevel(lv); err != nil || r.Level == Privileged {
			return r, fmt.Errorf("%s: custom.level must be baseline or restricted, not %q", file, lv)
		}
	}
	if ks, ok := a.Custom["kinds"]; ok {
		list, _ := ks.([]any)
		if len(list) == 0 {
			return r, fmt.Errorf("%s: custom.kinds must be a non-empty list of kinds", file)
		}
		for _, k := range list {
			switch ks, _ := k.(string); {
			case ks == "workloads":
				r.Kinds = append(r.Kinds, k8s.WorkloadKinds()...)
			case ks != "" && ks[0] >= 'A' && ks[0] <= 'Z':
				r.Kinds = append(r.Kinds, ks)
			default:
				return r, fmt.Errorf("%s: custom.kinds: %#v is not a kind (want e.g. Deployment, or workloads)", file, k)
			}
		}
		slices.Sort(r.Kinds)
		r.Kinds = slices.Compact(r.Kinds)
	}
	if raw, ok := a.Custom["min_version"]; ok {
		v, isNum := wholeNumber(raw)
		if !isNum || v < 0 || v > NewestPolicyMinor {
			return r, fmt.Errorf("%s: custom.min_version must be a policy minor from 0 to %d, not %v", file, NewestPolicyMinor, raw)
		}
		r.MinVersion = int(v)
	}
	if raw, ok := a.Custom["overrides"]; ok {
		list, _ := raw.([]any)
		for _, o := range list {
			id, _ := o.(string)
			if !strings.HasPrefix(id, "pss.") {
				return r, fmt.Errorf("%s: custom.overrides: %#v is not a pss.* rule id", file, o)
			}
			r.Overrides = append(r.Overrides, id)
		}
		if len(list) == 0 {
			return r, fmt.Errorf("%s: custom.overrides must be a non-empty list", file)
		}
	}
	if strings.HasPrefix(r.ID, "pss.") != (r.Level != Privileged) {
		return r, fmt.Errorf("%s: pss.* rules and only they carry custom.level", file)
	}
	return r, nil
}

// wholeNumber reads an integer from METADATA, whatever numeric type the
// YAML decoder chose.
func wholeNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		return int64(n), n == math.Trunc(n)
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}
