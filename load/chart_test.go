package load

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	helmloader "helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"

	"github.com/kubegate/kubegate/finding"
)

// shopRepo copies testdata/charts/shop into a repository of its own and
// packs testdata/charts/metrics into its charts/ as an archive, as
// `helm dependency build` leaves one.
func shopRepo(t testing.TB) string {
	t.Helper()
	repo := t.TempDir()
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(repo, "shop"), os.DirFS("testdata/charts/shop")); err != nil {
		t.Fatal(err)
	}
	metrics, err := helmloader.Load("testdata/charts/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chartutil.Save(metrics, filepath.Join(repo, "shop", "charts")); err != nil {
		t.Fatal(err)
	}
	return repo
}

func find(t *testing.T, rs []*Resource, kind, name, variant string) *Resource {
	t.Helper()
	for _, r := range rs {
		if id := r.ID(); id.Kind == kind && id.Name == name && id.Variant == variant {
			return r
		}
	}
	var have []string
	for _, r := range rs {
		have = append(have, r.ID().String())
	}
	t.Fatalf("no %s %s (variant %q) among %v", kind, name, variant, have)
	return nil
}

func lineOf(l finding.Location) string {
	if l.Line == 0 {
		return l.File
	}
	return l.File + ":" + strconv.Itoa(l.Line)
}

// parsePath reads a field path as Path.String writes it.
func parsePath(t *testing.T, s string) Path {
	t.Helper()
	var p Path
	for _, part := range strings.Split(s, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			p = append(p, name)
		}
		for rest != "" {
			n, after, _ := strings.Cut(rest, "]")
			i, err := strconv.Atoi(n)
			if err != nil {
				t.Fatalf("path %q: %v", s, err)
			}
			p = append(p, i)
			rest = strings.TrimPrefix(after, "[")
		}
	}
	if p.String() != s {
		t.Fatalf("path %q reads as %q", s, p)
	}
	return p
}

// TestChartProvenance: a field of a chart's output is located on the line
// a person edits, in every way a chart writes one. The expected lines are
// those of testdata/charts/shop.
func TestChartProvenance(t *testing.T) {
	repo := shopRepo(t)
	res := Load([]string{"shop"}, Options{WorkDir: repo})
	for _, e := range res.Errors {
		t.Errorf("input error: %v", e)
	}
	const (
		deploy = "shop/templates/deployment.yaml"
		values = "shop/values.yaml"
		pod    = "spec.template.spec."
	)
	for _, tc := range []struct {
		name               string
		kind, obj, variant string
		path               string
		at                 string
		related            []string
	}{
		{name: "a value printed: the values line, the template line related",
			kind: "Deployment", obj: "shop-web", path: "spec.replicas", at: values + ":4", related: []string{deploy + ":8"}},
		{name: "toYaml | nindent of a mapping",
			kind: "Deployment", obj: "shop-web", path: pod + "containers[0].securityContext.privileged", at: values + ":14", related: []string{deploy + ":33"}},
		{name: "through include",
			kind: "Deployment", obj: "shop-web", path: pod + "serviceAccountName", at: values + ":11", related: []string{deploy + ":17"}},
		{name: "range over a values list",
			kind: "Deployment", obj: "shop-web", path: pod + "containers[1].image", at: values + ":26", related: []string{deploy + ":40"}},
		{name: "with",
			kind: "Deployment", obj: "shop-web", path: pod + "nodeSelector.disk", at: values + ":20", related: []string{deploy + ":27"}},
		{name: "if/else: the literal of the branch taken, not the value that chose it",
			kind: "Deployment", obj: "shop-web", path: pod + "hostPID", at: deploy + ":21"},
		{name: "a named template's first line, in _helpers.tpl, the include related",
			kind: "Deployment", obj: "shop-web", path: pod + "securityContext.runAsNonRoot", at: "shop/templates/_helpers.tpl:16", related: []string{deploy + ":19"}},
		{name: "a named template's next line",
			kind: "Deployment", obj: "shop-web", path: pod + "securityContext.fsGroup", at: "shop/templates/_helpers.tpl:17", related: []string{deploy + ":19"}},
		{name: "a literal in a hook's template",
			kind: "Job", obj: "shop-web-migrate", path: pod + "containers[0].securityContext.privileged", at: "shop/templates/job.yaml:15"},
		{name: "a missing field: the values mapping to write it in",
			kind: "Deployment", obj: "shop-web", path: pod + "containers[0].resources.limits.memory", at: values + ":17", related: []string{deploy + ":30"}},
		{name: "a missing field under a template's own mapping: its nearest written parent",
			kind: "Deployment", obj: "shop-web", path: pod + "containers[1].securityContext.runAsNonRoot", at: deploy + ":39"},
		{name: "values that make one field together: the one that makes most of it",
			kind: "Deployment", obj: "shop-web", path: pod + "containers[0].image", at: values + ":2", related: []string{deploy + ":31"}},
		{name: "a subchart's literal",
			kind: "StatefulSet", obj: "shop-cache", path: pod + "containers[0].securityContext.allowPrivilegeEscalation", at: "shop/charts/cache/templates/statefulset.yaml:17"},
		{name: "a subchart's own default",
			kind: "StatefulSet", obj: "shop-cache", path: pod + "containers[0].securityContext", at: "shop/charts/cache/templates/statefulset.yaml:16"},
		{name: "a ci variant's value",
			kind: "Deployment", obj: "shop-web", variant: "ci/prod-values.yaml", path: "spec.replicas", at: "shop/ci/prod-values.yaml:1", related: []string{deploy + ":8"}},
		{name: "a ci variant's nested value",
			kind: "Deployment", obj: "shop-web", variant: "ci/prod-values.yaml", path: pod + "containers[0].securityContext.runAsUser", at: "shop/ci/prod-values.yaml:4", related: []string{deploy + ":33"}},
		{name: "a vendored archive's literal: the archive, no line in it",
			kind: "DaemonSet", obj: "shop-metrics", path: pod + "containers[0].securityContext.privileged", at: "shop/charts/metrics-0.1.0.tgz"},
		{name: "an archive's default: where the chart overrides it",
			kind: "DaemonSet", obj: "shop-metrics", path: pod + "hostNetwork", at: values + ":34", related: []string{"shop/charts/metrics-0.1.0.tgz"}},
		{name: "an archive's value the chart overrides",
			kind: "DaemonSet", obj: "shop-metrics", path: pod + "containers[0].ports[0].containerPort", at: values + ":35", related: []string{"shop/charts/metrics-0.1.0.tgz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := find(t, res.Resources, tc.kind, tc.obj, tc.variant)
			at, related := r.Where(parsePath(t, tc.path))
			var rel []string
			for _, l := range related {
				rel = append(rel, lineOf(l))
			}
			if lineOf(at) != tc.at || !slices.Equal(rel, tc.related) {
				t.Errorf("%s: at %s, related %v; want %s, related %v", tc.path, lineOf(at), rel, tc.at, tc.related)
			}
		})
	}
}

// TestChartUnchecked: a dependency that is not vendored is reported (not
// an error) at its Chart.yaml line; the chart renders without it.
func TestChartUnchecked(t *testing.T) {
	repo := shopRepo(t)
	res := Load([]string{"shop"}, Options{WorkDir: repo})
	if len(res.Errors) > 0 {
		t.Fatalf("errors: %v", res.Errors)
	}
	if len(res.Unchecked) != 1 {
		t.Fatalf("unchecked %+v, want the analytics dependency", res.Unchecked)
	}
	u := res.Unchecked[0]
	if u.Reason != DependencyMissing || lineOf(u.Location) != "shop/Chart.yaml:12" || u.Chart.Kind != "Chart" || u.Chart.Name != "shop" ||
		!strings.Contains(u.Message, "analytics 2.0.0 from https://charts.example.com") || !strings.Contains(u.Message, "helm dependency build shop") {
		t.Errorf("unchecked %+v", u)
	}
	// The chart's own rendering and its ci variant, hooks included, NOTES.txt not.
	var own, ci, jobs int
	for _, r := range res.Resources {
		switch r.ID().Variant {
		case "":
			own++
		case "ci/prod-values.yaml":
			ci++
		}
		if r.ID().Kind == "Job" {
			jobs++
		}
	}
	if own != 4 || ci != 4 || jobs != 2 {
		t.Errorf("%d resources of the chart's own values, %d of ci/prod-values.yaml, %d hook Jobs; want 4, 4, 2", own, ci, jobs)
	}
}

// TestKustomizeHelmCharts: a kustomization's helmCharts are rendered
// in-process; its patches apply to the chart's output and win the
// location; skipTests drops test hooks; a chart that would be downloaded
// is refused at its line.
func TestKustomizeHelmCharts(t *testing.T) {
	repo := shopRepo(t)
	write := func(name, content string) { writeFile(t, repo, name, content) }
	write("shop/templates/tests/ping.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ping\n  annotations: {helm.sh/hook: test}\nspec:\n  containers: [{name: ping, image: busybox}]\n")
	write("deploy/kustomization.yaml", `namespace: prod
helmGlobals:
  chartHome: ..
helmCharts:
  - name: shop
    releaseName: shop
    skipTests: true
    valuesInline:
      replicaCount: 5
patches:
  - target: {kind: Deployment, name: shop-web}
    patch: |-
      - op: replace
        path: /spec/template/spec/hostPID
        value: false
`)
	res := Load([]string{"deploy"}, Options{WorkDir: repo})
	if len(res.Errors) > 0 {
		t.Fatalf("errors: %v", res.Errors)
	}
	d := find(t, res.Resources, "Deployment", "shop-web", "")
	if ns := d.ID().Namespace; ns != "prod" {
		t.Errorf("namespace %q: the kustomization's transformers did not apply", ns)
	}
	for path, want := range map[string]string{
		"spec.replicas":                                   "deploy/kustomization.yaml:9",
		"spec.template.spec.hostPID":                      "deploy/kustomization.yaml:15",
		"spec.template.spec.nodeSelector.disk":            "shop/values.yaml:20",
		"spec.template.spec.securityContext.runAsNonRoot": "shop/templates/_helpers.tpl:16",
	} {
		if at, _ := d.Where(parsePath(t, path)); lineOf(at) != want {
			t.Errorf("%s at %s, want %s", path, lineOf(at), want)
		}
	}
	for _, r := range res.Resources {
		if r.ID().Name == "ping" {
			t.Errorf("skipTests: the test pod was rendered")
		}
	}
	write("remote/kustomization.yaml", "helmCharts:\n  - name: redis\n    repo: https://charts.example.com\n    version: 1.0.0\n")
	res = Load([]string{"remote"}, Options{WorkDir: repo})
	if len(res.Errors) != 1 || res.Errors[0].File != "remote/kustomization.yaml" || res.Errors[0].Line != 2 || !strings.Contains(res.Errors[0].Message, "kubegate never downloads one") {
		t.Errorf("errors %v", res.Errors)
	}
}

// BenchmarkRenderChart: what a chart costs to load and render (its own
// values and one ci variant, a subchart directory and a vendored archive),
// per chart; and, for the provenance of a finding through its values, the
// cost of locating fields (the template line from the markers, the values
// line by probing) on a freshly rendered chart.
func BenchmarkRenderChart(b *testing.B) {
	repo := shopRepo(b)
	b.Run("render", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if res := Load([]string{"shop"}, Options{WorkDir: repo}); len(res.Resources) != 8 {
				b.Fatalf("%d resources", len(res.Resources))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/chart")
	})
	paths := []Path{
		{"spec", "replicas"},
		{"spec", "template", "spec", "containers", 0, "securityContext", "privileged"},
		{"spec", "template", "spec", "containers", 0, "resources", "limits", "memory"},
		{"spec", "template", "spec", "containers", 0, "image"},
		{"spec", "template", "spec", "hostPID"},
	}
	b.Run("locate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			res := Load([]string{"shop"}, Options{WorkDir: repo})
			var d *Resource
			for _, r := range res.Resources {
				if id := r.ID(); id.Kind == "Deployment" && id.Variant == "" {
					d = r
				}
			}
			b.StartTimer()
			for _, p := range paths {
				d.Where(p)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(len(paths))/1000, "ms/field")
	})
}

// TestChartBadInput: a values file that does not parse and a template
// that fails are input errors at their lines; the chart's other renderings
// are still made.
func TestChartBadInput(t *testing.T) {
	repo := shopRepo(t)
	os.WriteFile(filepath.Join(repo, "shop", "ci", "broken-values.yaml"), []byte("replicaCount: 3\nimage: [unclosed\n"), 0o644)
	os.WriteFile(filepath.Join(repo, "shop", "ci", "fail-values.yaml"), []byte("serviceAccount:\n  name: null\n"), 0o644)
	os.WriteFile(filepath.Join(repo, "shop", "templates", "sa.yaml"), []byte("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ required \"serviceAccount.name is required\" .Values.serviceAccount.name }}\n"), 0o644)
	res := Load([]string{"shop"}, Options{WorkDir: repo})
	var errs []string
	for _, e := range res.Errors {
		errs = append(errs, e.Error())
	}
	want := []string{
		"shop/ci/broken-values.yaml:2: values do not parse: yaml: did not find expected ',' or ']'",
		"shop/templates/sa.yaml:4: the chart with ci/fail-values.yaml: the chart does not render: serviceAccount.name is required",
	}
	if !slices.Equal(errs, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(want, "\n"))
	}
	var variants []string
	for _, r := range res.Resources {
		if r.ID().Kind == "Deployment" {
			variants = append(variants, r.ID().Variant)
		}
	}
	slices.Sort(variants)
	if !slices.Equal(variants, []string{"", "ci/prod-values.yaml"}) {
		t.Errorf("renderings %q, want the chart's own and ci/prod-values.yaml", variants)
	}
}

// A template that includes another (a ConfigMap's checksum, as argo-cd's
// Deployments do) is probed with just the templates it needs: a value is
// still traced to its values line, even though a third template fails on
// the perturbed value and so would fail a probe of the whole chart.
func TestChartProbeIncludes(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"web/Chart.yaml":               "apiVersion: v2\nname: web\nversion: 0.1.0\n",
		"web/values.yaml":              "name: web\nprivileged: true\n",
		"web/templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\ndata:\n  a: b\n",
		"web/templates/strict.yaml":    "{{- if not .Values.privileged }}{{ fail \"this chart only runs privileged\" }}{{ end }}\n",
		"web/templates/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Values.name }}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations:
        checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          securityContext:
            privileged: {{ .Values.privileged }}
`,
	}
	for name, src := range files {
		writeFile(t, dir, name, src)
	}
	res := Load([]string{"web"}, Options{WorkDir: dir})
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	d := find(t, res.Resources, "Deployment", "web", "")
	at, _ := d.Where(Path{"spec", "template", "spec", "containers", 0, "securityContext", "privileged"})
	if got := lineOf(at); got != "web/values.yaml:2" {
		t.Errorf("privileged traced to %s, want web/values.yaml:2", got)
	}
}
