package evaluate

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/load"
)

// loadFiles writes files into a temporary directory and loads them as the
// CLI would, with that directory as the working directory.
func loadFiles(t *testing.T, files map[string]string) []*load.Resource {
	t.Helper()
	dir := t.TempDir()
	var names []string
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	res := load.Load(names, load.Options{WorkDir: dir})
	if len(res.Errors) > 0 {
		t.Fatalf("loading %v: %v", names, res.Errors)
	}
	return res.Resources
}

// newEngine builds an engine and fails the test when it cannot.
func newEngine(t *testing.T, opts Options) *Engine {
	t.Helper()
	e, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// evaluate runs the engine and sorts what it found into the canonical order.
func evaluate(t *testing.T, e *Engine, resources []*load.Resource) *Result {
	t.Helper()
	res, err := e.Evaluate(context.Background(), resources, nil)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	rep := finding.Report{Findings: res.Findings, Errors: res.Errors}
	rep.Normalize()
	return &Result{Findings: rep.Findings, Errors: rep.Errors}
}

// byRule returns the findings of one rule.
func byRule(fs []finding.Finding, rule string) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// privilegedPod has its privileged key at line 11, column 9; it sets no
// runAsNonRoot and no resources.
const privilegedPod = `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: prod
spec:
  containers:
    - name: web
      image: nginx:1.27
      securityContext:
        privileged: true
`

// privilegedDeployment's second container is privileged: line 15, column 11.
const privilegedDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: app
          image: app:1.0
        - name: debug
          image: busybox:1.36
          securityContext:
            runAsNonRoot: true
            privileged: true
`

func TestEvaluatePrivileged(t *testing.T) {
	e := newEngine(t, Options{PSS: DefaultPSSModes})
	tests := []struct {
		name     string
		file     string
		src      string
		resource finding.Resource
		field    string
		location finding.Location
		message  string
	}{
		{
			name:     "pod",
			file:     "pod.yaml",
			src:      privilegedPod,
			resource: finding.Resource{APIVersion: "v1", Kind: "Pod", Namespace: "prod", Name: "web"},
			field:    "spec.containers[0].securityContext.privileged",
			location: finding.Location{File: "pod.yaml", Line: 11, Column: 9},
			message:  `container "web"`,
		},
		{
			name:     "second container of a deployment",
			file:     "deploy.yaml",
			src:      privilegedDeployment,
			resource: finding.Resource{APIVersion: "apps/v1", Kind: "Deployment", Name: "api"},
			field:    "spec.template.spec.containers[1].securityContext.privileged",
			location: finding.Location{File: "deploy.yaml", Line: 15, Column: 13},
			message:  `container "debug"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := evaluate(t, e, loadFiles(t, map[string]string{tt.file: tt.src}))
			if len(res.Errors) > 0 {
				t.Errorf("unexpected errors: %v", res.Errors)
			}
			got := byRule(res.Findings, "pss.privileged")
			if len(got) != 1 {
				t.Fatalf("got %d pss.privileged findings, want 1: %+v", len(got), got)
			}
			f := got[0]
			if f.Severity != finding.Error {
				t.Errorf("severity = %v, want error", f.Severity)
			}
			if f.Resource != tt.resource {
				t.Errorf("resource = %+v, want %+v", f.Resource, tt.resource)
			}
			if f.Field != tt.field {
				t.Errorf("field = %q, want %q", f.Field, tt.field)
			}
			if f.Location != tt.location {
				t.Errorf("location = %v, want %v", f.Location, tt.location)
			}
			if !strings.Contains(f.Message, tt.message) {
				t.Errorf("message %q does not name %s", f.Message, tt.message)
			}
		})
	}
}

func TestEvaluatePSSModes(t *testing.T) {
	resources := loadFiles(t, map[string]string{"pod.yaml": privilegedPod})
	lv := func(l Level) LevelVersion { return LevelVersion{Level: l, Minor: -1} }
	// SeverityNone means the rule must not report anything.
	tests := []struct {
		name  string
		modes PSSModes
		want  map[string]finding.Severity
	}{
		{
			name:  "defaults",
			modes: DefaultPSSModes,
			want:  map[string]finding.Severity{"pss.privileged": finding.Error, "pss.runAsNonRoot": finding.Warning},
		},
		{
			name:  "enforce restricted",
			modes: PSSModes{Enforce: lv(Restricted), Warn: lv(Restricted), Audit: lv(Privileged)},
			want:  map[string]finding.Severity{"pss.privileged": finding.Error, "pss.runAsNonRoot": finding.Error},
		},
		{
			name:  "enforce privileged, warn baseline",
			modes: PSSModes{Enforce: lv(Privileged), Warn: lv(Baseline), Audit: lv(Privileged)},
			want:  map[string]finding.Severity{"pss.privileged": finding.Warning, "pss.runAsNonRoot": finding.SeverityNone},
		},
		{
			name:  "audit restricted",
			modes: PSSModes{Enforce: lv(Privileged), Warn: lv(Privileged), Audit: lv(Restricted)},
			want:  map[string]finding.Severity{"pss.privileged": finding.Notice, "pss.runAsNonRoot": finding.Notice},
		},
		{
			name:  "all privileged",
			modes: PSSModes{Enforce: lv(Privileged), Warn: lv(Privileged), Audit: lv(Privileged)},
			want:  map[string]finding.Severity{"pss.privileged": finding.SeverityNone, "pss.runAsNonRoot": finding.SeverityNone},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := evaluate(t, newEngine(t, Options{PSS: tt.modes}), resources)
			for rule, sev := range tt.want {
				got := byRule(res.Findings, rule)
				if sev == finding.SeverityNone {
					if len(got) > 0 {
						t.Errorf("%s: got %d findings, want none: %+v", rule, len(got), got)
					}
					continue
				}
				if len(got) == 0 {
					t.Errorf("%s: no finding, want one with severity %v", rule, sev)
				}
				for _, f := range got {
					if f.Severity != sev {
						t.Errorf("%s: severity %v, want %v", rule, f.Severity, sev)
					}
				}
			}
			// With every mode at privileged, no pss.* rule reports at all.
			if max(tt.modes.Enforce.Level, tt.modes.Warn.Level, tt.modes.Audit.Level) == Privileged {
				for _, f := range res.Findings {
					if strings.HasPrefix(f.Rule, "pss.") {
						t.Errorf("every mode is privileged, but got %s: %s", f.Rule, f.Message)
					}
				}
			}
			// Other rules keep their own severity whatever the modes.
			for rule, sev := range map[string]finding.Severity{
				"resources.memory-limit-missing": finding.Error,
				"resources.requests-missing":     finding.Warning,
			} {
				got := byRule(res.Findings, rule)
				if len(got) == 0 {
					t.Errorf("%s: no finding", rule)
				}
				for _, f := range got {
					if f.Severity != sev {
						t.Errorf("%s: severity %v, want %v", rule, f.Severity, sev)
					}
				}
			}
		})
	}
}

func TestEvaluateKinds(t *testing.T) {
	e := newEngine(t, Options{PSS: DefaultPSSModes})
	tests := []struct {
		name string
		src  string
		want []finding.Finding
	}{
		{
			name: "configmap",
			src:  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: b\n",
		},
		{
			name: "custom resource",
			src:  "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  privileged: true\n",
		},
		{
			name: "hpa min above max",
			src: `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: prod
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 5
  maxReplicas: 2
`,
			want: []finding.Finding{{
				Rule:     "hpa.min-exceeds-max",
				Severity: finding.Error,
				Message:  "spec.minReplicas is 5 but spec.maxReplicas is 2; lower minReplicas to at most 2 or raise maxReplicas to at least 5",
				Resource: finding.Resource{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Namespace: "prod", Name: "web"},
				Field:    "spec.minReplicas",
				Location: finding.Location{File: "r.yaml", Line: 8, Column: 3},
			}},
		},
		{
			name: "hpa min below max",
			src: `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 5
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := evaluate(t, e, loadFiles(t, map[string]string{"r.yaml": tt.src}))
			if len(res.Errors) > 0 {
				t.Errorf("unexpected errors: %v", res.Errors)
			}
			want := tt.want
			if want == nil {
				want = []finding.Finding{}
			}
			// The HPAs here scale a Deployment the input lacks, which
			// hpa.target-missing reports; these cases are about the rest.
			res.Findings = slices.DeleteFunc(res.Findings, func(f finding.Finding) bool { return f.Rule == "hpa.target-missing" })
			if len(res.Findings) != len(want) || len(want) > 0 && !reflect.DeepEqual(res.Findings, want) {
				t.Errorf("findings:\n got %+v\nwant %+v", res.Findings, want)
			}
		})
	}
}

// policyFS builds a policy file system of self-contained rule modules.
func policyFS(modules map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, src := range modules {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	return fsys
}

func TestEvaluateRuleWithoutKindsAppliesToEveryKind(t *testing.T) {
	e := newEngine(t, Options{Policies: policyFS(map[string]string{
		"custom/every.rego": ruleMeta{
			Title: "Every object", Description: "Fires on every input.", Docs: "https://example.com/every",
			ID: "custom.every", Severity: "notice", Fix: "Nothing to fix.",
			Body: `violations contains {"msg": sprintf("saw %s", [input.kind]), "path": ["kind"]} if true`,
		}.module("kubegate.rules.custom.every"),
		"custom/deployments.rego": ruleMeta{
			Title: "Deployments only", Description: "Fires on Deployments.", Docs: "https://example.com/deployments",
			ID: "custom.deployments", Severity: "warning", Fix: "Nothing to fix.", Kinds: "[Deployment]",
			Body: `violations contains {"msg": "a deployment", "path": ["metadata", "name"]} if true`,
		}.module("kubegate.rules.custom.deployments"),
	})})
	res := evaluate(t, e, loadFiles(t, map[string]string{
		"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n",
		"b.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
		"c.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
		"d.yaml": "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: h\n",
	}))
	if len(res.Errors) > 0 {
		t.Errorf("unexpected errors: %v", res.Errors)
	}
	type hit struct{ rule, kind, message string }
	var got []hit
	for _, f := range res.Findings {
		got = append(got, hit{rule: f.Rule, kind: f.Resource.Kind, message: f.Message})
	}
	want := []hit{
		{rule: "custom.every", kind: "ConfigMap", message: "saw ConfigMap"},
		{rule: "custom.every", kind: "Deployment", message: "saw Deployment"},     // kind, line 2
		{rule: "custom.deployments", kind: "Deployment", message: "a deployment"}, // metadata.name, line 4
		{rule: "custom.every", kind: "Widget", message: "saw Widget"},
		{rule: "custom.every", kind: "HorizontalPodAutoscaler", message: "saw HorizontalPodAutoscaler"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n got %+v\nwant %+v", got, want)
	}
	for _, f := range byRule(res.Findings, "custom.every") {
		if f.Severity != finding.Notice {
			t.Errorf("%s on %s: severity %v, want notice", f.Rule, f.Resource, f.Severity)
		}
		if f.Field != "kind" || f.Location.Line != 2 || f.Location.Column != 1 {
			t.Errorf("%s on %s: field %q at %v, want kind at line 2, column 1", f.Rule, f.Resource, f.Field, f.Location)
		}
	}
}

func TestEvaluateBadPolicyIsAnInputError(t *testing.T) {
	good := ruleMeta{
		Title: "Good", Description: "Reports properly.", Docs: "https://example.com/good",
		ID: "custom.good", Severity: "warning", Fix: "Nothing to fix.",
		Body: `violations contains {"msg": "fine", "path": ["metadata", "name"]} if true`,
	}.module("kubegate.rules.custom.good")
	tests := []struct {
		name    string
		pkg     string
		body    string
		message []string
		// othersSurvive: the problem is in one violation, so the good
		// rule's finding must still be reported.
		othersSurvive bool
	}{
		{
			name:          "violation without msg",
			pkg:           "kubegate.rules.custom.nomsg",
			body:          `violations contains {"path": ["metadata", "name"]} if true`,
			message:       []string{"ConfigMap team/cfg", "kubegate.rules.custom.nomsg", "without a msg"},
			othersSurvive: true,
		},
		{
			name:          "violation that is not an object",
			pkg:           "kubegate.rules.custom.notobject",
			body:          `violations contains "just a string" if true`,
			message:       []string{"ConfigMap team/cfg", "kubegate.rules.custom.notobject", "without a msg"},
			othersSurvive: true,
		},
		{
			name: "conflicting complete rule",
			pkg:  "kubegate.rules.custom.conflict",
			body: "x := 1 if true\n\nx := 2 if true\n\n" +
				`violations contains {"msg": "never", "path": []} if x`,
			message: []string{"ConfigMap team/cfg", "evaluating policies", "bad.rego:", "eval_conflict_error", "conflicting values"},
		},
	}
	for _, tt := range tests {
		for _, ev := range []Evaluator{EvaluatorPlan, EvaluatorTopdown} {
			t.Run(tt.name+"/"+string(ev), func(t *testing.T) {
				bad := ruleMeta{
					Title: "Bad", Description: "Reports improperly.", Docs: "https://example.com/bad",
					ID: "custom.bad", Severity: "error", Fix: "Nothing to fix.", Body: tt.body,
				}.module(tt.pkg)
				e := newEngine(t, Options{Evaluator: ev, Policies: policyFS(map[string]string{"good.rego": good, "bad.rego": bad})})
				res := evaluate(t, e, loadFiles(t, map[string]string{
					"cm.yaml": "# a config map\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: team\n",
				}))
				if n := len(byRule(res.Findings, "custom.bad")); n > 0 {
					t.Errorf("the bad rule made %d findings, want none", n)
				}
				if good := byRule(res.Findings, "custom.good"); tt.othersSurvive && len(good) != 1 {
					t.Errorf("the good rule made %d findings, want 1", len(good))
				}
				if len(res.Errors) != 1 {
					t.Fatalf("got %d errors, want 1: %v", len(res.Errors), res.Errors)
				}
				got := res.Errors[0]
				if got.File != "cm.yaml" || got.Line != 2 {
					t.Errorf("error at %s:%d, want cm.yaml:2", got.File, got.Line)
				}
				for _, s := range tt.message {
					if !strings.Contains(got.Message, s) {
						t.Errorf("error %q does not contain %q", got.Message, s)
					}
				}
			})
		}
	}
}

// TestSkippedRulesAreNotEvaluated: a skipped (disabled) rule is not
// evaluated at all: one that fails when evaluated, with a conflict, makes
// no input error; the rules beside it, and the helpers of its package that
// another rule uses, still work.
func TestSkippedRulesAreNotEvaluated(t *testing.T) {
	good := ruleMeta{
		Title: "Good", Description: "Reports properly.", Docs: "https://example.com/good",
		ID: "custom.good", Severity: "warning", Fix: "Nothing to fix.",
		Body: "import data.kubegate.rules.custom.bad\n\n" +
			`violations contains {"msg": bad.word, "path": ["metadata", "name"]} if true`,
	}.module("kubegate.rules.custom.good")
	bad := ruleMeta{
		Title: "Bad", Description: "Fails when evaluated.", Docs: "https://example.com/bad",
		ID: "custom.bad", Severity: "error", Fix: "Nothing to fix.",
		Body: "x := 1 if true\n\nx := 2 if true\n\nword := \"fine\"\n\n" +
			`violations contains {"msg": "never", "path": []} if x`,
	}.module("kubegate.rules.custom.bad")
	cm := loadFiles(t, map[string]string{
		"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: team\n",
	})
	for _, ev := range []Evaluator{EvaluatorPlan, EvaluatorTopdown} {
		t.Run(string(ev), func(t *testing.T) {
			policies := policyFS(map[string]string{"good.rego": good, "bad.rego": bad})
			if res := evaluate(t, newEngine(t, Options{Evaluator: ev, Policies: policies}), cm); len(res.Errors) != 1 {
				t.Fatalf("evaluated, the bad rule made %d errors, want 1: %v", len(res.Errors), res.Errors)
			}
			res := evaluate(t, newEngine(t, Options{Evaluator: ev, Policies: policies, Skip: map[string]bool{"custom.bad": true}}), cm)
			if len(res.Errors) != 0 {
				t.Errorf("skipped, the bad rule made errors: %v", res.Errors)
			}
			if got := byRule(res.Findings, "custom.good"); len(got) != 1 || got[0].Message != "fine" {
				t.Errorf("the good rule found %v, want one finding \"fine\"", got)
			}
			skipAll := map[string]bool{"custom.bad": true, "custom.good": true}
			if res := evaluate(t, newEngine(t, Options{Evaluator: ev, Policies: policies, Skip: skipAll}), cm); len(res.Findings)+len(res.Errors) != 0 {
				t.Errorf("every rule skipped, got %v and %v", res.Findings, res.Errors)
			}
		})
	}
}

func TestEvaluateCrossResourceFinding(t *testing.T) {
	// A rule evaluated on the HPA reports on the Deployment it scales, at
	// the Deployment's field, with the HPA's field as a related location;
	// naming a resource the input lacks is an input error.
	e := newEngine(t, Options{Policies: policyFS(map[string]string{
		"custom/cross.rego": ruleMeta{
			Title: "Cross", Description: "Reports on the target.", Docs: "https://example.com/cross",
			ID: "custom.cross", Severity: "warning", Fix: "Nothing to fix.", Kinds: "[HorizontalPodAutoscaler]",
			Body: `violations contains {
	"msg": "set replicas",
	"path": ["spec", "replicas"],
	"resource": {"kind": input.spec.scaleTargetRef.kind, "namespace": "team", "name": input.spec.scaleTargetRef.name},
	"related": [{"path": ["spec", "maxReplicas"]}, {"path": ["metadata"], "resource": {"kind": "Nope", "namespace": "", "name": "x"}}],
} if true`,
		}.module("kubegate.rules.custom.cross"),
	})})
	res := evaluate(t, e, loadFiles(t, map[string]string{
		"deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: team\nspec:\n  replicas: 3\n",
		"hpa.yaml":    "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n  namespace: team\nspec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 5\n",
		"ghost.yaml":  "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: ghost\n  namespace: team\nspec:\n  scaleTargetRef: {kind: Deployment, name: ghost}\n",
	}))
	if len(res.Findings) != 1 {
		t.Fatalf("got %d findings, want 1: %+v", len(res.Findings), res.Findings)
	}
	f := res.Findings[0]
	if f.Resource.Kind != "Deployment" || f.Resource.Name != "web" || f.Field != "spec.replicas" {
		t.Errorf("finding on %s at %s, want Deployment team/web at spec.replicas", f.Resource, f.Field)
	}
	if want := (finding.Location{File: "deploy.yaml", Line: 7, Column: 3}); f.Location != want {
		t.Errorf("location %v, want %v", f.Location, want)
	}
	if want := []finding.Location{{File: "hpa.yaml", Line: 8, Column: 3}}; !slices.Equal(f.Related, want) {
		t.Errorf("related %v, want %v (a reference to a missing resource is dropped)", f.Related, want)
	}
	if len(res.Errors) != 1 || res.Errors[0].File != "ghost.yaml" || !strings.Contains(res.Errors[0].Message, "not in the input") {
		t.Errorf("errors %v, want one in ghost.yaml about a resource not in the input", res.Errors)
	}
}

func TestEvaluateNothing(t *testing.T) {
	res, err := newEngine(t, Options{PSS: DefaultPSSModes}).Evaluate(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) > 0 || len(res.Errors) > 0 {
		t.Errorf("no resources gave %+v", res)
	}
}

// TestEvaluateParallelismIsInvisible checks that one worker and many find
// the same things.
func TestEvaluateParallelismIsInvisible(t *testing.T) {
	files := map[string]string{}
	for i, src := range []string{privilegedPod, privilegedDeployment, privilegedPod, privilegedDeployment} {
		files[string(rune('a'+i))+".yaml"] = src
	}
	resources := loadFiles(t, files)
	one := evaluate(t, newEngine(t, Options{PSS: DefaultPSSModes, Parallelism: 1}), resources)
	many := evaluate(t, newEngine(t, Options{PSS: DefaultPSSModes, Parallelism: 4}), resources)
	if len(one.Findings) == 0 {
		t.Fatal("no findings")
	}
	if !reflect.DeepEqual(one.Findings, many.Findings) {
		t.Errorf("parallelism 1 and 4 differ:\n%+v\n%+v", one.Findings, many.Findings)
	}
}
