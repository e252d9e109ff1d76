package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubegate/kubegate/finding"
)

// writeInto writes files (path -> content) under dir.
func writeInto(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const webTemplate = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: web
          image: registry.example.com/web@sha256:0000000000000000000000000000000000000000000000000000000000000000
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          resources:
            requests: {cpu: 100m, memory: 64Mi}
            limits: {memory: 64Mi}
`

// chartRepository is what a new user points kubegate at: a chart with a ci
// variant, a kustomization inflating another chart, a plain manifest, and
// YAML that is not Kubernetes (an Ansible playbook, Helm values, a CI file,
// another tool's template).
func chartRepository(t *testing.T) string {
	return writeTree(t, map[string]string{
		"charts/web/Chart.yaml":            "apiVersion: v2\nname: web\nversion: 0.1.0\n",
		"charts/web/values.yaml":           "securityContext:\n  allowPrivilegeEscalation: false\n  capabilities: {drop: [ALL]}\n",
		"charts/web/ci/root-values.yaml":   "securityContext:\n  privileged: true\n",
		"charts/web/templates/deploy.yaml": webTemplate,
		"deploy/kustomization.yaml": "namespace: prod\nhelmCharts:\n  - name: api\n    releaseName: api\n" +
			"    valuesInline:\n      securityContext:\n        runAsUser: 0\n        allowPrivilegeEscalation: false\n        capabilities: {drop: [ALL]}\n",
		"deploy/charts/api/Chart.yaml":            "apiVersion: v2\nname: api\nversion: 0.1.0\n",
		"deploy/charts/api/values.yaml":           "securityContext: {}\n",
		"deploy/charts/api/templates/deploy.yaml": webTemplate,
		"plain/pod.yaml":                          "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  containers: [{name: c, image: registry.example.com/c@sha256:0000000000000000000000000000000000000000000000000000000000000000}]\n",
		"ansible/site.yml":                        "- hosts: all\n  tasks:\n    - name: ping\n      ping:\n",
		"env/prod-values.yaml":                    "replicaCount: 3\n",
		"hack/plugin.yaml":                        "apiVersion: krew.googlecontainertools.github.com/v1alpha2\nkind: Plugin\nspec:\n  version: {{ .TagName }}\n  {{addURI .TagName}}\n",
		".github/workflows/ci.yml":                "on: push\njobs: {}\n",
		"index.yaml":                              "apiVersion: v1\nentries: {}\n",
	})
}

func findingAt(rep finding.Report, rule, at string) *finding.Finding {
	for i, f := range rep.Findings {
		if f.Rule == rule && f.Location.String() == at {
			return &rep.Findings[i]
		}
	}
	return nil
}

// TestRepositoryWithCharts: a repository of charts, kustomizations, plain
// manifests and other YAML is checked with no input error, and the charts'
// findings point at their values lines (with the template line related),
// naming their variant.
func TestRepositoryWithCharts(t *testing.T) {
	dir := chartRepository(t)
	stdout, stderr, code := run(t, dir, nil, "", "check", "-o", "json", ".")
	rep := decodeReport(t, stdout)
	if code != ExitFindings || len(rep.Errors) > 0 {
		t.Fatalf("exit %d, errors %v, stderr %s", code, rep.Errors, stderr)
	}
	for _, want := range []struct{ rule, at, variant string }{
		{"pss.privileged", "charts/web/ci/root-values.yaml:2:3", "ci/root-values.yaml"},
		{"pss.runAsUser", "deploy/kustomization.yaml:7:9", ""},
		{"pss.hostNamespaces", "plain/pod.yaml:5:3", ""},
	} {
		f := findingAt(rep, want.rule, want.at)
		if f == nil {
			t.Errorf("no %s at %s in %v", want.rule, want.at, rep.Findings)
			continue
		}
		if f.Resource.Variant != want.variant {
			t.Errorf("%s at %s: variant %q, want %q", want.rule, want.at, f.Resource.Variant, want.variant)
		}
		if strings.HasPrefix(want.at, "charts/") && !slices.Contains(f.Related, finding.Location{File: "charts/web/templates/deploy.yaml", Line: 19, Column: 13}) {
			t.Errorf("%s: related %v, want the template line", want.rule, f.Related)
		}
	}
	// The chart's own rendering passes the gate: every error and warning of
	// the chart is the variant's; and the chart the kustomization inflates
	// is rendered through it only.
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.Location.File, "charts/web/") && f.Resource.Variant == "" && f.Severity > finding.Notice {
			t.Errorf("the chart's own rendering has a finding: %+v", f)
		}
		if f.Resource.Name == "api" && f.Resource.Namespace != "prod" {
			t.Errorf("the inflated chart was rendered on its own too: %+v", f)
		}
	}
	// ansible/site.yml, env/prod-values.yaml, hack/plugin.yaml, index.yaml
	// (the .github directory is hidden: not scanned at all).
	if rep.Summary.Skipped != 4 {
		t.Errorf("skipped %d files, want 4", rep.Summary.Skipped)
	}
	text, _, _ := run(t, dir, nil, "", "check", ".")
	if !strings.Contains(text, "4 files skipped (no Kubernetes objects)") || !strings.Contains(text, "Deployment web (with ci/root-values.yaml)") {
		t.Errorf("text report:\n%s", text)
	}
}

// TestChartsConfiguration: a charts: entry renders a chart with its values
// (a finding points at the configuration's line), and --kube-version
// reaches the templates' capabilities.
func TestChartsConfiguration(t *testing.T) {
	dir := chartRepository(t)
	writeInto(t, dir, map[string]string{
		".kubegate.yaml": "charts:\n  - path: charts/web\n    releaseName: shop\n    namespace: prod\n    ciValues: false\n    values:\n      securityContext:\n        runAsUser: 0\n",
		"charts/web/templates/pdb.yaml": `{{- if semverCompare ">=1.30-0" .Capabilities.KubeVersion.Version }}
apiVersion: v1
kind: ConfigMap
metadata: {name: new-cluster}
{{- end }}
`,
	})
	stdout, _, _ := run(t, dir, nil, "", "check", "-o", "json", "charts/web")
	rep := decodeReport(t, stdout)
	if len(rep.Errors) > 0 {
		t.Fatalf("errors %v", rep.Errors)
	}
	f := findingAt(rep, "pss.runAsUser", ".kubegate.yaml:8:9")
	if f == nil || f.Resource.Name != "shop" || f.Resource.Variant != "" {
		t.Errorf("want pss.runAsUser at the configuration's runAsUser, of Deployment shop: %+v\n%v", f, rep.Findings)
	}
	for _, f := range rep.Findings {
		if f.Resource.Variant != "" {
			t.Errorf("ciValues: false, yet a variant: %+v", f)
		}
	}
	count := func(args ...string) int {
		stdout, _, _ := run(t, dir, nil, "", append([]string{"check", "-o", "json"}, args...)...)
		return decodeReport(t, stdout).Summary.Resources
	}
	if old, current := count("--kube-version", "v1.29", "charts/web"), count("charts/web"); current != old+1 {
		t.Errorf("resources with v1.29 %d, with the default %d: the capability did not reach the template", old, current)
	}
	if _, stderr, code := run(t, dir, nil, "", "check", "--kube-version", "1.99", "charts/web"); code != ExitError || !strings.Contains(stderr, "newer than the newest") {
		t.Errorf("--kube-version 1.99: exit %d, %s", code, stderr)
	}
}

// TestExcludeAndExplicitFiles: --exclude leaves a broken directory out of a
// scan; a file named on the command line is read as given.
func TestExcludeAndExplicitFiles(t *testing.T) {
	dir := chartRepository(t)
	writeInto(t, dir, map[string]string{"generated/kustomization.yaml": "resources: [missing.yaml]\n"})
	if _, _, code := run(t, dir, nil, "", "check", "."); code != ExitError {
		t.Errorf("a kustomization with a missing resource: exit %d, want 2", code)
	}
	if _, _, code := run(t, dir, nil, "", "check", "--exclude", "generated", "."); code != ExitFindings {
		t.Errorf("--exclude generated: exit %d, want 1", code)
	}
	stdout, _, code := run(t, dir, nil, "", "check", "-o", "json", "env/prod-values.yaml")
	rep := decodeReport(t, stdout)
	if code != ExitError || !slices.ContainsFunc(rep.Errors, func(e finding.InputError) bool {
		return e.File == "env/prod-values.yaml" && strings.Contains(e.Message, "no Kubernetes object in this file")
	}) {
		t.Errorf("a values file named on the command line: exit %d, errors %v", code, rep.Errors)
	}
}
