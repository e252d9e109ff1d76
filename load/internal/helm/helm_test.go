package helm

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// repo makes a repository (a directory with .git) holding copies of the
// given charts of load/testdata/charts (and of the fixtures' charts), with
// the metrics chart packed as an archive in the shop chart, as helm
// dependency build leaves it.
func repo(t testing.TB) (string, *Files) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"../../testdata/charts/shop", "../../testdata/charts/metrics", "../../../fixtures/charts/prober"} {
		if err := os.CopyFS(filepath.Join(dir, filepath.Base(c)), os.DirFS(c)); err != nil {
			t.Fatal(err)
		}
	}
	metrics, err := loader.Load("../../testdata/charts/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chartutil.Save(metrics, filepath.Join(dir, "shop", "charts")); err != nil {
		t.Fatal(err)
	}
	return dir, files(t, dir)
}

func files(t testing.TB, dir string) *Files {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return &Files{Root: root, RootDir: dir, MaxFileBytes: 32 << 20, Display: func(abs string) string {
		rel, _ := filepath.Rel(dir, abs)
		return filepath.ToSlash(rel)
	}}
}

// normalized reads YAML documents into a canonical text, for comparing
// renderings whatever their spacing.
func normalized(t *testing.T, text string) []string {
	t.Helper()
	var out []string
	dec := yaml.NewDecoder(strings.NewReader(text))
	for {
		var v any
		if err := dec.Decode(&v); err != nil {
			break
		}
		if v == nil {
			continue
		}
		b, err := yaml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

var sourceLine = regexp.MustCompile(`(?m)^# Source: (.*)$`)

// helmRendering renders a chart with Helm's own client-only dry-run
// install (what helm template runs), hooks included, by template.
func helmRendering(t *testing.T, dir string, values []string, v Variant) map[string][]string {
	t.Helper()
	ch, err := loader.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]any{}
	for _, f := range values {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := common.ReadValues(data)
		if err != nil {
			t.Fatal(err)
		}
		vals = loader.MergeMaps(vals, m)
	}
	inst := action.NewInstall(action.NewConfiguration())
	inst.DryRunStrategy = action.DryRunClient
	inst.ReleaseName, inst.Namespace, inst.Replace = v.Release, v.Namespace, true
	if inst.KubeVersion, err = common.ParseKubeVersion(v.KubeVersion); err != nil {
		t.Fatal(err)
	}
	inst.IncludeCRDs = v.IncludeCRDs
	rel, err := inst.Run(ch, vals)
	if err != nil {
		t.Fatalf("helm: %v", err)
	}
	r := rel.(*release.Release)
	all := r.Manifest
	for _, h := range r.Hooks {
		all += "\n---\n# Source: " + h.Path + "\n" + h.Manifest
	}
	out := map[string][]string{}
	parts := sourceLine.Split(all, -1)
	for i, m := range sourceLine.FindAllStringSubmatch(all, -1) {
		out[m[1]] = append(out[m[1]], normalized(t, parts[i+1])...)
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

// TestRenderingIsHelms: kubegate renders every chart of its tests, in every
// variant, to exactly what Helm's own install dry-run renders: the same
// documents, template by template, hooks and subcharts (a directory, an
// archive) included. kubegate renders the rewritten templates (see
// rewrite.go), so this is also the proof that the rewriting changes
// nothing.
func TestRenderingIsHelms(t *testing.T) {
	dir, fs := repo(t)
	for _, tc := range []struct {
		chart  string
		values []string
	}{
		{chart: "shop"},
		{chart: "shop", values: []string{"shop/ci/prod-values.yaml"}},
		{chart: "metrics"},
		{chart: "prober"},
		{chart: "prober", values: []string{"prober/ci/debug-values.yaml"}},
	} {
		t.Run(tc.chart+strings.Join(tc.values, "+"), func(t *testing.T) {
			c, err := Load(fs, filepath.Join(dir, tc.chart), DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			v := Variant{Release: "rel", Namespace: "ns", KubeVersion: "v1.30.0", IncludeCRDs: true}
			var abs []string
			for _, f := range tc.values {
				data, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				x, err := ReadValues(f, data)
				if err != nil {
					t.Fatal(err)
				}
				v.Values = append(v.Values, x)
				abs = append(abs, filepath.Join(dir, f))
			}
			r := c.Render(context.Background(), v)
			if len(r.Problems) > 0 {
				t.Fatalf("problems: %v", r.Problems)
			}
			ours := map[string][]string{}
			for _, o := range r.Outputs {
				for _, d := range o.Docs {
					ours[o.Template] = append(ours[o.Template], normalized(t, d.Text)...)
					if !o.CRD && !d.Trusted() {
						t.Errorf("%s: the marked rendering, markers taken out, differs", o.Template)
					}
				}
				slices.Sort(ours[o.Template])
			}
			theirs := helmRendering(t, filepath.Join(dir, tc.chart), abs, v)
			if len(theirs) == 0 {
				t.Fatal("Helm rendered nothing")
			}
			for k, docs := range theirs {
				if !slices.Equal(ours[k], docs) {
					t.Errorf("%s:\nkubegate: %q\nhelm:     %q", k, ours[k], docs)
				}
			}
			for k := range ours {
				if _, ok := theirs[k]; !ok {
					t.Errorf("%s: rendered by kubegate only", k)
				}
			}
		})
	}
}

var update = flag.Bool("update", false, "rewrite golden files")
