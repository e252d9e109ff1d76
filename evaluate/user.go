package evaluate

import (
	_ "embed"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/kubegate/kubegate/evaluate/internal/vm"
	"github.com/kubegate/kubegate/finding"
)

// PolicyDir is a directory of the user's own policies (--policy).
type PolicyDir struct {
	// Name is how messages name the directory (as the user wrote it).
	Name string
	FS   fs.FS
}

// RegoVersion selects how user policy files are parsed.
type RegoVersion int

const (
	// RegoAuto parses each file as Rego v1 and, when that fails and it
	// parses as v0, as v0.
	RegoAuto RegoVersion = iota
	RegoV0
	RegoV1
)

// DefaultNamespaces are the packages whose deny, violation and warn rules
// are conftest-style rules, as conftest's default.
var DefaultNamespaces = []string{"main"}

// conftestKinds are the rule names conftest reads, with the severity each
// gives: deny and violation fail, warn warns. A name may carry a suffix
// after an underscore (deny_privileged), as conftest allows.
var conftestKinds = []struct {
	prefix string
	sev    finding.Severity
}{{"deny", finding.Error}, {"violation", finding.Error}, {"warn", finding.Warning}}

// ParsePolicyDirs reads every .rego file of the user's policy directories
// (with the *_test.rego files when tests is set), named "<dir>/<path>".
func ParsePolicyDirs(dirs []PolicyDir, tests bool, version RegoVersion) (map[string]*ast.Module, error) {
	mods := map[string]*ast.Module{}
	var errs []string
	for _, d := range dirs {
		err := WalkRego(d.FS, tests, func(p string, src []byte) error {
			name := path.Join(d.Name, p)
			m, err := ParseUserModule(name, string(src), version)
			if err != nil {
				errs = append(errs, err.Error())
				return nil
			}
			mods[name] = m
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", d.Name, err))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return mods, nil
}

// ParseUserModule parses a user's policy file: as Rego v1 and, failing
// that, as v0 (the syntax of conftest policies written before OPA 1.0),
// unless version forces one.
func ParseUserModule(name, src string, version RegoVersion) (*ast.Module, error) {
	opts := func(v ast.RegoVersion) ast.ParserOptions {
		return ast.ParserOptions{ProcessAnnotation: true, RegoVersion: v}
	}
	switch version {
	case RegoV0:
		return ast.ParseModuleWithOpts(name, src, opts(ast.RegoV0))
	case RegoV1:
		return ast.ParseModuleWithOpts(name, src, opts(ast.RegoV1))
	}
	m, err1 := ast.ParseModuleWithOpts(name, src, opts(ast.RegoV1))
	if err1 == nil {
		return m, nil
	}
	m, err0 := ast.ParseModuleWithOpts(name, src, opts(ast.RegoV0))
	if err0 == nil {
		return m, nil
	}
	return nil, fmt.Errorf("%v\n(the file is not valid Rego v0 either: %v)", err1, err0)
}

// conftestRules finds the conftest-style rules of the user's modules: in a
// package of namespaces (or any package but kubegate's when namespaces is
// ["*"]), every rule named deny, violation or warn, or starting with one
// of those and an underscore. Each is a rule with id "<package>.<name>".
// A rule's METADATA (title, description, custom.id, custom.severity,
// custom.fix) refines it.
func conftestRules(mods map[string]*ast.Module, namespaces []string) ([]Rule, error) {
	all := slices.Contains(namespaces, "*")
	byID := map[string]*Rule{}
	var errs []string
	for _, file := range slices.Sorted(maps.Keys(mods)) {
		m := mods[file]
		pkg := strings.TrimPrefix(m.Package.Path.String(), "data.")
		if strings.HasPrefix(pkg, "kubegate.") || pkg == "kubegate" {
			continue
		}
		if !all && !slices.Contains(namespaces, pkg) {
			continue
		}
		for _, r := range m.Rules {
			name := r.Head.Name.String()
			if name == "" && len(r.Head.Reference) > 0 {
				name = r.Head.Reference[0].String()
			}
			sev, ok := conftestSeverity(name)
			if !ok {
				continue
			}
			query := "data." + pkg + "." + name
			id := pkg + "." + name
			rule, seen := byID[id]
			if !seen {
				rule = &Rule{
					ID: id, Severity: sev, Title: fmt.Sprintf("%s (user policy)", id),
					Rationale: fmt.Sprintf("A %s rule of the user's policy package %s.", name, pkg),
					Package:   pkg, File: file, Query: query, User: true,
				}
				byID[id] = rule
			}
			for _, a := range r.Annotations {
				if a.Title != "" {
					rule.Title = a.Title
				}
				if a.Description != "" {
					rule.Rationale = strings.TrimSpace(a.Description)
				}
				if s, ok := a.Custom["id"].(string); ok && s != "" {
					rule.ID = s
				}
				if s, ok := a.Custom["fix"].(string); ok {
					rule.Fix = strings.TrimSpace(s)
				}
				if s, ok := a.Custom["severity"].(string); ok {
					sv, err := finding.ParseSeverity(s, false)
					if err != nil {
						errs = append(errs, fmt.Sprintf("%s: custom.severity: %v", file, err))
					}
					rule.Severity = sv
				}
			}
		}
	}
	var rules []Rule
	seen := map[string]string{}
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		r := byID[id]
		if other, dup := seen[r.ID]; dup {
			errs = append(errs, fmt.Sprintf("%s: rule id %s is also used by %s", r.File, r.ID, other))
		}
		seen[r.ID] = r.File
		rules = append(rules, *r)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return rules, nil
}

func conftestSeverity(name string) (finding.Severity, bool) {
	for _, k := range conftestKinds {
		if name == k.prefix || strings.HasPrefix(name, k.prefix+"_") {
			return k.sev, true
		}
	}
	return finding.SeverityNone, false
}

// sandboxed are the capabilities policies compile against: OPA's, with
// only the built-ins of sandbox.txt, a reviewed allow-list that leaves out
// those that reach the network or the process's environment, so that a
// policy from a pull request can neither exfiltrate nor read secrets. A
// built-in an OPA upgrade adds is not admitted until someone adds it there
// (TestSandboxAllowList lists what is refused).
func sandboxed(allowNetwork bool) *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	if allowNetwork {
		return caps
	}
	caps.Builtins = slices.DeleteFunc(slices.Clone(caps.Builtins), func(b *ast.Builtin) bool { return !sandboxAllowed[b.Name] })
	return caps
}

//go:embed sandbox.txt
var sandboxList string

var sandboxAllowed = vm.NameList(sandboxList)

// SandboxCapabilities are the capabilities user policies compile against
// (see sandboxed): for kubegate test, so tests see what check sees.
func SandboxCapabilities() *ast.Capabilities { return sandboxed(false) }
