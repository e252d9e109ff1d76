package evaluate

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/internal/k8s"
)

// ruleMeta writes a self-contained rule module; an empty field leaves its
// METADATA key out.
type ruleMeta struct {
	Title, Description, Docs string
	ID, Severity, Level, Fix string
	// Kinds is the YAML value of custom.kinds, e.g. "[workloads]".
	Kinds string
	// Body is the Rego after the imports; empty means a rule that never fires.
	Body string
}

func (m ruleMeta) module(pkg string) string {
	var b strings.Builder
	b.WriteString("# METADATA\n")
	if m.Title != "" {
		fmt.Fprintf(&b, "# title: %s\n", m.Title)
	}
	if m.Description != "" {
		fmt.Fprintf(&b, "# description: %s\n", m.Description)
	}
	if m.Docs != "" {
		fmt.Fprintf(&b, "# related_resources:\n#   - ref: %s\n", m.Docs)
	}
	b.WriteString("# custom:\n")
	for _, kv := range [][2]string{{"id", m.ID}, {"severity", m.Severity}, {"level", m.Level}, {"fix", m.Fix}, {"kinds", m.Kinds}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "#   %s: %s\n", kv[0], kv[1])
		}
	}
	body := m.Body
	if body == "" {
		body = `violations contains {"msg": "never", "path": []} if input.never_set == true`
	}
	fmt.Fprintf(&b, "package %s\n\nimport rego.v1\n\n%s\n", pkg, body)
	return b.String()
}

// validMeta is complete; cases change one thing.
func validMeta() ruleMeta {
	return ruleMeta{
		Title:       "Example rule",
		Description: "Explains why it matters.",
		Docs:        "https://example.com/rule",
		ID:          "resources.example",
		Severity:    "warning",
		Fix:         "Do the right thing.",
		Kinds:       "[workloads]",
	}
}

func TestRuleMetadataValid(t *testing.T) {
	withKinds := func(k ...string) []string { return slices.Sorted(slices.Values(k)) }
	tests := []struct {
		name string
		meta func(m *ruleMeta)
		want Rule
	}{
		{
			name: "workloads",
			meta: func(m *ruleMeta) {},
			want: Rule{
				ID: "resources.example", Severity: finding.Warning, Title: "Example rule",
				Rationale: "Explains why it matters.", Fix: "Do the right thing.", Docs: "https://example.com/rule",
				Kinds: k8s.WorkloadKinds(),
			},
		},
		{
			name: "named kind",
			meta: func(m *ruleMeta) { m.Kinds = "[HorizontalPodAutoscaler]"; m.Severity = "error" },
			want: Rule{
				ID: "resources.example", Severity: finding.Error, Title: "Example rule",
				Rationale: "Explains why it matters.", Fix: "Do the right thing.", Docs: "https://example.com/rule",
				Kinds: []string{"HorizontalPodAutoscaler"},
			},
		},
		{
			name: "workloads, a named kind and a repeat",
			meta: func(m *ruleMeta) { m.Kinds = "[Service, workloads, Pod]" },
			want: Rule{
				ID: "resources.example", Severity: finding.Warning, Title: "Example rule",
				Rationale: "Explains why it matters.", Fix: "Do the right thing.", Docs: "https://example.com/rule",
				Kinds: withKinds(append(k8s.WorkloadKinds(), "Service")...),
			},
		},
		{
			name: "every kind, no docs",
			meta: func(m *ruleMeta) { m.Kinds = ""; m.Docs = ""; m.Severity = "notice" },
			want: Rule{
				ID: "resources.example", Severity: finding.Notice, Title: "Example rule",
				Rationale: "Explains why it matters.", Fix: "Do the right thing.",
			},
		},
		{
			name: "pss baseline",
			meta: func(m *ruleMeta) { m.ID = "pss.example"; m.Level = "baseline" },
			want: Rule{
				ID: "pss.example", Severity: finding.Warning, Title: "Example rule",
				Rationale: "Explains why it matters.", Fix: "Do the right thing.", Docs: "https://example.com/rule",
				Level: Baseline, Kinds: k8s.WorkloadKinds(),
			},
		},
		{
			name: "pss restricted",
			meta: func(m *ruleMeta) { m.ID = "pss.example"; m.Level = "restricted" },
			want: Rule{
				ID: "pss.example", Severity: finding.Warning, Title: "Example rule",
				Rationale: "Explains why it matters.", Fix: "Do the right thing.", Docs: "https://example.com/rule",
				Level: Restricted, Kinds: k8s.WorkloadKinds(),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validMeta()
			tt.meta(&m)
			e, err := New(Options{Policies: policyFS(map[string]string{
				"custom/example.rego":      m.module("kubegate.rules.custom.example"),
				"custom/example_test.rego": "this is not Rego: test modules are not read",
				"custom/README.md":         "not a module",
				"lib/helpers.rego":         "package kubegate.lib.helpers\n\nimport rego.v1\n\nanswer := 42\n",
			})})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			want := tt.want
			want.Package = "kubegate.rules.custom.example"
			want.Query = "data.kubegate.rules.custom.example.violations"
			want.File = "custom/example.rego"
			if got := policyRules(e); !reflect.DeepEqual(got, []Rule{want}) {
				t.Errorf("rules:\n got %+v\nwant %+v", got, []Rule{want})
			}
		})
	}
}

func TestRuleMetadataInvalid(t *testing.T) {
	const file = "custom/bad.rego"
	const pkg = "kubegate.rules.custom.bad"
	bad := func(change func(m *ruleMeta)) map[string]string {
		m := validMeta()
		change(&m)
		return map[string]string{file: m.module(pkg)}
	}
	tests := []struct {
		name    string
		modules map[string]string
		want    []string // each must appear in the error
	}{
		{
			name:    "missing id",
			modules: bad(func(m *ruleMeta) { m.ID = "" }),
			want:    []string{file, "lacks custom.id"},
		},
		{
			name:    "missing fix",
			modules: bad(func(m *ruleMeta) { m.Fix = "" }),
			want:    []string{file, "lacks custom.fix"},
		},
		{
			name:    "missing title and description",
			modules: bad(func(m *ruleMeta) { m.Title = ""; m.Description = "" }),
			want:    []string{file, "lacks description, title"},
		},
		{
			name:    "no metadata",
			modules: map[string]string{file: "package " + pkg + "\n\nimport rego.v1\n\nviolations := set()\n"},
			want:    []string{file, "no package-scoped METADATA"},
		},
		{
			name:    "bad severity",
			modules: bad(func(m *ruleMeta) { m.Severity = "critical" }),
			want:    []string{file, "custom.severity", `"critical"`},
		},
		{
			name:    "missing severity",
			modules: bad(func(m *ruleMeta) { m.Severity = "" }),
			want:    []string{file, "custom.severity"},
		},
		{
			name:    "severity never",
			modules: bad(func(m *ruleMeta) { m.Severity = "never" }),
			want:    []string{file, "custom.severity", `"never"`},
		},
		{
			name: "duplicate id across modules",
			modules: map[string]string{
				"one/first.rego":  validMeta().module("kubegate.rules.one.first"),
				"two/second.rego": validMeta().module("kubegate.rules.two.second"),
			},
			want: []string{"one/first.rego", "two/second.rego", "resources.example"},
		},
		{
			name:    "pss rule without level",
			modules: bad(func(m *ruleMeta) { m.ID = "pss.example" }),
			want:    []string{file, "custom.level"},
		},
		{
			name:    "non-pss rule with level",
			modules: bad(func(m *ruleMeta) { m.Level = "baseline" }),
			want:    []string{file, "custom.level"},
		},
		{
			name:    "invalid level",
			modules: bad(func(m *ruleMeta) { m.ID = "pss.example"; m.Level = "strict" }),
			want:    []string{file, "custom.level", `"strict"`},
		},
		{
			name:    "privileged level",
			modules: bad(func(m *ruleMeta) { m.ID = "pss.example"; m.Level = "privileged" }),
			want:    []string{file, "custom.level", `"privileged"`},
		},
		{
			name:    "kinds not a list",
			modules: bad(func(m *ruleMeta) { m.Kinds = "Deployment" }),
			want:    []string{file, "custom.kinds must be a non-empty list"},
		},
		{
			name:    "kinds empty",
			modules: bad(func(m *ruleMeta) { m.Kinds = "[]" }),
			want:    []string{file, "custom.kinds must be a non-empty list"},
		},
		{
			name:    "kinds null",
			modules: bad(func(m *ruleMeta) { m.Kinds = "null" }),
			want:    []string{file, "custom.kinds must be a non-empty list"},
		},
		{
			name:    "lowercase kind",
			modules: bad(func(m *ruleMeta) { m.Kinds = "[Pod, deployment]" }),
			want:    []string{file, `custom.kinds: "deployment" is not a kind`},
		},
		{
			name:    "kind not a string",
			modules: bad(func(m *ruleMeta) { m.Kinds = "[42]" }),
			want:    []string{file, "custom.kinds", "is not a kind"},
		},
		{
			name: "every problem is reported",
			modules: map[string]string{
				"a.rego": ruleMeta{Title: "A", Description: "A.", ID: "resources.a", Severity: "error"}.module("kubegate.rules.a"),
				"b.rego": ruleMeta{Title: "B", Description: "B.", ID: "resources.b", Severity: "fatal", Fix: "B."}.module("kubegate.rules.b"),
			},
			want: []string{"a.rego: METADATA lacks custom.fix", "b.rego: custom.severity"},
		},
		{
			name:    "syntax error",
			modules: map[string]string{file: "package " + pkg + "\n\nviolations contains {\n"},
			want:    []string{file},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(Options{Policies: policyFS(tt.modules)})
			if err == nil {
				t.Fatalf("New succeeded with rules %+v", e.Rules())
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error does not contain %q:\n%v", s, err)
				}
			}
		})
	}
}

// upstreamCheck is what k8s.io/pod-security-admission says of a check.
type upstreamCheck struct {
	level      Level
	minVersion int
	overrides  []string
}

// psaChecks reads every check of the upstream evaluator: its level, the
// first version it exists in, and the checks it overrides.
func psaChecks() map[string]upstreamCheck {
	out := map[string]upstreamCheck{}
	for _, c := range policy.DefaultChecks() {
		u := upstreamCheck{level: Baseline, minVersion: c.Versions[0].MinimumVersion.Minor()}
		if c.Level == api.LevelRestricted {
			u.level = Restricted
		}
		for _, v := range c.Versions {
			for _, o := range v.OverrideCheckIDs {
				if id := "pss." + string(o); !slices.Contains(u.overrides, id) {
					u.overrides = append(u.overrides, id)
				}
			}
		}
		slices.Sort(u.overrides)
		out[string(c.ID)] = u
	}
	return out
}

// TestEveryUpstreamCheckHasARule: one pss.* rule per upstream check, with
// upstream's level, first version and overrides.
func TestEveryUpstreamCheckHasARule(t *testing.T) {
	e := newEngine(t, Options{PSS: DefaultPSSModes})
	have := map[string]Rule{}
	for _, r := range e.Rules() {
		have[r.ID] = r
	}
	for id, u := range psaChecks() {
		r, ok := have["pss."+id]
		if !ok {
			t.Errorf("upstream check %s has no rule pss.%s", id, id)
			continue
		}
		overrides := slices.Sorted(slices.Values(r.Overrides))
		if r.Level != u.level || r.MinVersion != u.minVersion || !slices.Equal(overrides, u.overrides) {
			t.Errorf("pss.%s: level %v, min_version %d, overrides %v; upstream: %v, %d, %v", id, r.Level, r.MinVersion, overrides, u.level, u.minVersion, u.overrides)
		}
	}
}

func TestEmbeddedRules(t *testing.T) {
	e := newEngine(t, Options{PSS: DefaultPSSModes})
	rules := e.Rules()
	if len(rules) == 0 {
		t.Fatal("no embedded rules")
	}
	upstream := psaChecks()
	var ids []string
	for _, r := range rules {
		ids = append(ids, r.ID)
		host := slices.ContainsFunc(hostRules, func(h Rule) bool { return h.ID == r.ID })
		for field, v := range map[string]string{"ID": r.ID, "Title": r.Title, "Rationale": r.Rationale, "Fix": r.Fix, "Docs": r.Docs, "Package": r.Package, "File": r.File} {
			if v == "" && !(host && (field == "Package" || field == "File")) {
				t.Errorf("%s (%s): empty %s", r.ID, r.File, field)
			}
		}
		if !strings.HasPrefix(r.Docs, "https://") {
			t.Errorf("%s: docs %q is not an https URL", r.ID, r.Docs)
		}
		if r.Severity < finding.Notice || r.Severity > finding.Error {
			t.Errorf("%s: severity %v", r.ID, r.Severity)
		}
		area, check, _ := strings.Cut(r.ID, ".")
		if len(r.Kinds) == 0 && area != "api" && area != "schema" {
			t.Errorf("%s: applies to every kind; the built-in rules other than api.* and schema.* should name theirs", r.ID)
		}
		switch area {
		case "pss":
			if _, ok := upstream[check]; !ok {
				t.Errorf("%s: %q is not a pod-security-admission check ID", r.ID, check)
			}
		case "charts", "kubegate", "schema":
			if !host {
				t.Errorf("%s: %s.* are kubegate's own rules (hostrules.go)", r.ID, area)
			}
		case "resources", "hpa", "images", "api":
			if r.Level != Privileged {
				t.Errorf("%s: only pss.* rules carry a level, got %v", r.ID, r.Level)
			}
		default:
			t.Errorf("%s: id is not under pss., resources., hpa., images., api., schema., charts. or kubegate.", r.ID)
		}
		if check == "" {
			t.Errorf("%s: nothing after the area prefix", r.ID)
		}
	}
	if !slices.IsSorted(ids) {
		t.Errorf("rules are not sorted by id: %v", ids)
	}
	if c := slices.Compact(slices.Clone(ids)); len(c) != len(ids) {
		t.Errorf("duplicate rule ids: %v", ids)
	}
	for _, id := range []string{"pss.privileged", "pss.runAsNonRoot", "hpa.min-exceeds-max", "resources.memory-limit-missing"} {
		if !slices.Contains(ids, id) {
			t.Errorf("rule %s is missing from %v", id, ids)
		}
	}
}

// TestRuleJSON checks how `kubegate rules` would show a rule: names, not
// numbers, and no level on rules outside pss.*.
func TestRuleJSON(t *testing.T) {
	e := newEngine(t, Options{PSS: DefaultPSSModes})
	tests := []struct {
		id       string
		severity string
		level    any // nil: no "level" key
	}{
		{id: "pss.privileged", severity: "error", level: "baseline"},
		{id: "pss.runAsNonRoot", severity: "warning", level: "restricted"},
		{id: "hpa.min-exceeds-max", severity: "error"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			i := slices.IndexFunc(e.Rules(), func(r Rule) bool { return r.ID == tt.id })
			if i < 0 {
				t.Fatalf("no rule %s", tt.id)
			}
			b, err := json.Marshal(e.Rules()[i])
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if m["id"] != tt.id || m["severity"] != tt.severity || m["level"] != tt.level {
				t.Errorf("got %s, want id %s, severity %s, level %v", b, tt.id, tt.severity, tt.level)
			}
		})
	}
}

// policyRules are the engine's rules without kubegate's own.
func policyRules(e *Engine) []Rule {
	return slices.DeleteFunc(e.Rules(), func(r Rule) bool {
		return slices.ContainsFunc(hostRules, func(h Rule) bool { return h.ID == r.ID })
	})
}
