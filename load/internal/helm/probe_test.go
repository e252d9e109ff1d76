package helm

import (
	"context"
	"strings"
	"testing"
)

// TestProbeRemembersIncludes: a template that includes another (a
// ConfigMap's checksum, as argo-cd's Deployments have) needs a second
// rendering on its first probe, to add the template it includes; later
// probes of it start with that template and render once. Each probe still
// sees its own value perturbed, and only its own.
func TestProbeRemembersIncludes(t *testing.T) {
	fs, dir := oneTemplateChart(t, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Values.name }}
  annotations:
    checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
spec:
  template:
    spec:
      containers:
        - name: web
          image: {{ .Values.image }}
          securityContext:
            privileged: {{ .Values.privileged }}
`, "name: web\nprivileged: true\nimage: nginx:1.27\n", map[string]string{
		"templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\ndata:\n  a: b\n",
	})
	r := render(t, fs, dir, DefaultLimits)
	if len(r.Problems) > 0 {
		t.Fatalf("problems: %v", r.Problems)
	}
	var deploy *Doc
	for _, o := range r.Outputs {
		if strings.HasSuffix(o.Template, "/t.yaml") {
			deploy = o.Docs[0]
		}
	}
	if deploy == nil {
		t.Fatal("no Deployment rendered")
	}
	for i, tc := range []struct {
		path      []any
		want, not string
		runs      int64
	}{
		{path: []any{"privileged"}, want: "privileged: false", not: "nginx:1.27" + ProbeSuffix, runs: 2},
		{path: []any{"image"}, want: "image: nginx:1.27" + ProbeSuffix, not: "privileged: false", runs: 1},
		{path: []any{"name"}, want: "name: web" + ProbeSuffix, not: "nginx:1.27" + ProbeSuffix, runs: 1},
	} {
		before := r.runs.Load()
		text, ok := deploy.Probe(context.Background(), tc.path)
		if !ok {
			t.Fatalf("probe %d of %v failed", i, tc.path)
		}
		if !strings.Contains(text, tc.want) || strings.Contains(text, tc.not) {
			t.Errorf("probe of %v: want %q and not %q in\n%s", tc.path, tc.want, tc.not, text)
		}
		if runs := r.runs.Load() - before; runs != tc.runs {
			t.Errorf("probe of %v rendered %d times, want %d", tc.path, runs, tc.runs)
		}
	}
}
