package evaluate

import (
	"strings"
	"testing"
	"time"

	"github.com/kubegate/kubegate/finding"
)

// conftestV0 is a policy as conftest users wrote them before OPA 1.0.
const conftestV0 = `package main

deny[msg] {
	input.kind == "Deployment"
	not input.spec.template.spec.securityContext.runAsNonRoot
	msg := sprintf("%s must run as non-root", [input.metadata.name])
}

warn[msg] {
	input.kind == "ConfigMap"
	count(input.data) > data.limits.configmap_keys
	msg := "too many keys"
}
`

// conftestV1 is the same kind of policy in Rego v1, with objects, a
// field path, a suffixed rule name and METADATA.
const conftestV1 = `package main

# METADATA
# title: Team label required
# description: Every object names its owning team so that alerts reach someone.
# custom:
#   id: org.team-label
#   severity: warning
#   fix: Add metadata.labels.team.
violation_team contains {"msg": "no team label", "path": ["metadata", "labels"]} if {
	not input.metadata.labels.team
}
`

func TestUserPolicies(t *testing.T) {
	e := newEngine(t, Options{
		UserPolicies: []PolicyDir{{Name: "policy", FS: policyFS(map[string]string{
			"v0.rego":      conftestV0,
			"v1.rego":      conftestV1,
			"v0_test.rego": "not Rego at all: tests are not loaded as policies",
		})}},
		Data: map[string]any{"limits": map[string]any{"configmap_keys": 1}},
	})
	var ids []string
	for _, r := range e.Rules() {
		if r.User {
			ids = append(ids, r.ID+"="+r.Severity.String())
		}
	}
	if got, want := strings.Join(ids, " "), "main.deny=error main.warn=warning org.team-label=warning"; got != want {
		t.Errorf("user rules %q, want %q", got, want)
	}
	res := evaluate(t, e, loadFiles(t, map[string]string{
		"app.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: nginx}]\n",
		"cm.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  labels: {team: a}\ndata: {a: '1', b: '2'}\n",
	}))
	if len(res.Errors) > 0 {
		t.Fatalf("errors: %v", res.Errors)
	}
	type hit struct {
		rule, msg string
		sev       finding.Severity
		line      int
	}
	var got []hit
	for _, f := range res.Findings {
		if strings.HasPrefix(f.Rule, "main.") || strings.HasPrefix(f.Rule, "org.") {
			got = append(got, hit{f.Rule, f.Message, f.Severity, f.Location.Line})
		}
	}
	want := []hit{
		{"main.deny", "web must run as non-root", finding.Error, 1}, // no path: the resource's first line
		{"org.team-label", "no team label", finding.Warning, 5},     // metadata.labels
		{"main.warn", "too many keys", finding.Warning, 1},          // data from --data
	}
	if len(got) != len(want) {
		t.Fatalf("findings %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("finding %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestUserPolicyErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		files map[string]string
		opts  Options
		want  string
	}{
		"syntax": {
			files: map[string]string{"bad.rego": "package main\n\ndeny contains msg if {\n"},
			want:  "policy/bad.rego:",
		},
		"network": {
			files: map[string]string{"net.rego": "package main\n\nimport rego.v1\n\ndeny contains x if { x := http.send({\"method\": \"GET\", \"url\": \"http://127.0.0.1/\"}).body }\n"},
			want:  "undefined function http.send",
		},
		"environment": {
			files: map[string]string{"env.rego": "package main\n\nimport rego.v1\n\ndeny contains x if { x := opa.runtime().env.HOME }\n"},
			want:  "undefined function opa.runtime",
		},
		"reserved data": {
			files: map[string]string{"ok.rego": "package main\n"},
			opts:  Options{Data: map[string]any{"kubegate": 1}},
			want:  `"kubegate" is reserved`,
		},
		"forced v1 refuses v0": {
			files: map[string]string{"v0.rego": conftestV0},
			opts:  Options{RegoVersion: RegoV1},
			want:  "policy/v0.rego:",
		},
	} {
		t.Run(name, func(t *testing.T) {
			opts := tc.opts
			opts.UserPolicies = []PolicyDir{{Name: "policy", FS: policyFS(tc.files)}}
			_, err := New(opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestPolicyTimeout: a policy that would run for hours is stopped, the
// resource is reported as not evaluated, and the others still are.
func TestPolicyTimeout(t *testing.T) {
	e := newEngine(t, Options{
		Timeout: 2 * time.Second, // generous: the fast resource must finish well within it
		UserPolicies: []PolicyDir{{Name: "policy", FS: policyFS(map[string]string{"slow.rego": `package main

import rego.v1

deny contains "never" if {
	input.kind == "ConfigMap"
	some x in numbers.range(1, 1000000)
	some y in numbers.range(1, 1000000)
	x == 0 - y
}

deny contains "fast" if input.kind == "Secret"
`})}},
	})
	res := evaluate(t, e, loadFiles(t, map[string]string{
		"cm.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n",
		"secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
	}))
	if len(res.Errors) != 1 || res.Errors[0].File != "cm.yaml" || !strings.Contains(res.Errors[0].Message, "took longer than 2s and was stopped") {
		t.Errorf("errors %v, want one for cm.yaml about the time limit", res.Errors)
	}
	if fast := byRule(res.Findings, "main.deny"); len(fast) != 1 || fast[0].Message != "fast" {
		t.Errorf("the other resource's findings: %+v", fast)
	}
}
