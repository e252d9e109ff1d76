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

	"github.com/kubegate/kubegate/report"
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

func lineOf(l report.Location) string {
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
