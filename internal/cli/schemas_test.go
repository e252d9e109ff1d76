package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubegate/kubegate/finding"
)

// A kustomize patch that introduces a typo is reported on the patch's
// line, with the nearest field; a value of the wrong type in the base on
// the base's line; --kube-version decides api.*; --schema adds CRDs; and
// hpa.deprecated-api still names api.removed's HPA findings in the
// configuration.
func TestCheckSchemas(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"base/kustomization.yaml": "resources: [deployment.yaml, hpa.yaml, cert.yaml]\n",
		"base/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: "8080"
`,
		"base/hpa.yaml":           "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 2\n  maxReplicas: 4\n",
		"base/cert.yaml":          "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: web\nspec:\n  secretName: web-tls\n  dnsName: [web.example.com]\n",
		"prod/kustomization.yaml": "resources: [../base]\npatches:\n  - path: limits.yaml\n",
		"prod/limits.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        resources:
          limit:
            memory: 64Mi
`,
		"schemas/cert-manager.io/certificate_v1.json": `{"type": "object", "properties": {"spec": {"type": "object", "properties": {"secretName": {"type": "string"}, "dnsNames": {"type": "array", "items": {"type": "string"}}}}}}`,
	}
	for name, src := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		write(t, p, src)
	}
	check := func(args ...string) map[string][]string {
		t.Helper()
		stdout, stderr, code := run(t, dir, nil, "", append([]string{"check", "-o", "json"}, args...)...)
		if code != ExitFindings {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var rep finding.Report
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, f := range rep.Findings {
			if strings.HasPrefix(f.Rule, "schema.") || strings.HasPrefix(f.Rule, "api.") {
				out[f.Rule] = append(out[f.Rule], f.Location.String()+" "+f.Message)
			}
		}
		return out
	}
	got := check("prod")
	want := map[string]string{
		"schema.unknown-field": `prod/limits.yaml:11:11 unknown field "limit": did you mean "limits"?`,
		"schema.invalid-value": `base/deployment.yaml:17:11 spec.template.spec.containers[0].ports[0].containerPort must be an integer, not "8080"`,
		"schema.unknown-kind":  `base/cert.yaml:2:1 no schema is known for cert-manager.io/v1 Certificate`,
		"api.removed":          `base/hpa.yaml:1:1 autoscaling/v2beta2 HorizontalPodAutoscaler was removed in Kubernetes 1.26, so the target cluster, 1.37 (--kube-version)`,
	}
	for rule, w := range want {
		if len(got[rule]) != 1 || !strings.HasPrefix(got[rule][0], w) {
			t.Errorf("%s: %q, want one starting %q", rule, got[rule], w)
		}
	}
	// An older cluster still serves autoscaling/v2beta2, deprecated.
	got = check("--kube-version", "v1.24", "prod")
	if len(got["api.removed"]) != 0 || len(got["api.deprecated"]) != 1 || !strings.Contains(got["api.deprecated"][0], "deprecated since Kubernetes 1.23 and no longer served from 1.26") {
		t.Errorf("v1.24: %q", got)
	}
	// --schema: the Certificate is validated.
	got = check("--schema", "schemas", "prod")
	if len(got["schema.unknown-kind"]) != 0 || !slices.ContainsFunc(got["schema.unknown-field"], func(s string) bool {
		return strings.HasPrefix(s, `base/cert.yaml:7:3 unknown field "dnsName": did you mean "dnsNames"?`)
	}) {
		t.Errorf("--schema: %q", got)
	}
	// The former id in the configuration.
	write(t, filepath.Join(dir, ".kubegate.yaml"), "rules:\n  hpa.deprecated-api: {severity: warning}\nschemas: [schemas]\n")
	stdout, stderr, code := run(t, dir, nil, "", "check", "-o", "json", "prod")
	if code == ExitError {
		t.Fatalf("configuration with hpa.deprecated-api: %s", stderr)
	}
	var rep finding.Report
	json.Unmarshal([]byte(stdout), &rep)
	for _, f := range rep.Findings {
		if f.Rule == "api.removed" && f.Severity != finding.Warning {
			t.Errorf("api.removed on the HPA: %v, want warning (hpa.deprecated-api's setting)", f.Severity)
		}
		if f.Rule == "schema.unknown-kind" {
			t.Errorf("schemas: in the configuration not used: %s", f.Message)
		}
	}
}
