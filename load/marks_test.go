package load

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// markerRepo is a repository of kustomizations that trace through every
// kind of layer: bases, overlays, components, patches of each sort,
// images, generators merged across layers, and resource files that
// markers can and cannot mark (the latter rendered with origin
// annotations).
var markerRepo = map[string]string{
	"app/base/kustomization.yaml": `resources: [deployment.yaml, service.yaml]
configMapGenerator:
  - name: settings
    literals: [LEVEL=info]
secretGenerator:
  - name: creds
    literals: [TOKEN=x]
    options: {annotations: {team: shop}}
generatorOptions:
  labels: {generated: "yes"}
components: [../monitoring]
`,
	"app/base/deployment.yaml": "# The web front end.\r\n\r\napiVersion: apps/v1\r\nkind: Deployment\r\nmetadata:\r\n  name: web\r\n  labels: &labels {app: web}\r\nspec:\r\n  selector: {matchLabels: *labels}\r\n  template:\r\n    metadata: {labels: *labels}\r\n    spec:\r\n      containers:\r\n        - name: web\r\n          image: registry.example.com/web:1.0.0\r\n          envFrom: [{configMapRef: {name: settings}}, {secretRef: {name: creds}}]\r\n",
	"app/base/service.yaml": `---
# first
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: static
  annotations:
    note: |
      ---
      not a document
data: {a: b}
`,
	"app/monitoring/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonAnnotations: {scrape: \"true\"}\nresources: [monitor.yaml]\n",
	"app/monitoring/monitor.yaml":       "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: monitor\ndata: {port: \"9090\"}\n",
	"app/overlays/prod/kustomization.yaml": `namespace: prod
namePrefix: prod-
resources: [../../base, extra.yaml]
images:
  - name: registry.example.com/web
    newTag: 2.0.0
configMapGenerator:
  - name: settings
    behavior: merge
    literals: [LEVEL=warn]
  - name: prod-only
    files: [app.properties]
patches:
  - path: replicas.yaml
  - target: {kind: Deployment}
    patch: |-
      - op: add
        path: /spec/template/spec/hostNetwork
        value: true
`,
	"app/overlays/prod/app.properties": "a=b\n",
	"app/overlays/prod/replicas.yaml":  "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
	"app/overlays/prod/extra.yaml":     "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: runner\n",
	// A list: each of its items is marked.
	"odd/list/kustomization.yaml": "resources: [list.yaml]\n",
	"odd/list/list.yaml":          "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: a}\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: b}\n",
	// Resource files markers leave alone: the kustomizations that include
	// them are rendered with origin annotations.
	"odd/flowlist/kustomization.yaml": "resources: [list.yaml]\n",
	"odd/flowlist/list.yaml":          "apiVersion: v1\nkind: ConfigMapList\nitems: [{apiVersion: v1, kind: ConfigMap, metadata: {name: f}}]\n",
	"odd/json/kustomization.yaml":     "resources: [cm.json]\nnamePrefix: j-\n",
	"odd/json/cm.json":                `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}`,
	"odd/merge/kustomization.yaml":    "resources: [cm.yaml]\n",
	"odd/merge/cm.yaml":               "<<: {apiVersion: v1, kind: ConfigMap}\nmetadata: {name: m}\n",
	// Marked, and refused by kustomize.
	"odd/broken/kustomization.yaml": "resources: [cm.yaml]\n",
	"odd/broken/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n",
}

// Markers trace every rendered resource to the same lines as kustomize's
// origin annotations (which also record every transformer, at 60% more
// time), but for what a generator made: markers name its entry, where
// kustomize's annotation names only the kustomization.
func TestMarkersTraceAsOriginAnnotations(t *testing.T) {
	dir := t.TempDir()
	for name, text := range markerRepo {
		writeFile(t, dir, name, text)
	}
	var mu sync.Mutex
	rendered := map[string]bool{}
	onRender := func(d string, marked bool) {
		mu.Lock()
		defer mu.Unlock()
		rel, _ := filepath.Rel(dir, d)
		rendered[filepath.ToSlash(rel)] = marked
	}
	inputs := []string{"app/overlays/prod", "app/base", "odd/list", "odd/flowlist", "odd/json", "odd/merge"}
	marked := Load(inputs, Options{WorkDir: dir, onRender: onRender})
	want := map[string]bool{"app/overlays/prod": true, "app/base": true, "odd/list": true, "odd/flowlist": false, "odd/json": false, "odd/merge": false}
	if fmt.Sprint(rendered) != fmt.Sprint(want) {
		t.Errorf("rendered with markers: %v, want %v", rendered, want)
	}
	annotated := Load(inputs, Options{WorkDir: dir, originAnnotations: true})
	if len(marked.Errors) > 0 || len(annotated.Errors) > 0 {
		t.Fatalf("errors: %v, %v", marked.Errors, annotated.Errors)
	}
	compareRenderings(t, marked.Resources, annotated.Resources, map[string]string{
		// The generators' entries.
		// The overlay's entry, which merged into the base's; kustomize's
		// annotation names the base's kustomization.
		"ConfigMap/prod-settings":  "app/overlays/prod/kustomization.yaml:8",
		"Secret/prod-creds":        "app/base/kustomization.yaml:6",
		"ConfigMap/prod-prod-only": "app/overlays/prod/kustomization.yaml:11",
		"ConfigMap/settings":       "app/base/kustomization.yaml:3",
		"Secret/creds":             "app/base/kustomization.yaml:6",
	})
	if n := len(marked.Resources); n != 19 {
		t.Errorf("%d resources, want 19", n)
	}

	// A kustomization whose file cannot be marked still renders, and
	// kustomize's own message is the one reported.
	res := Load([]string{"odd/broken"}, Options{WorkDir: dir, onRender: onRender})
	if !rendered["odd/broken"] {
		t.Error("odd/broken was not rendered with markers")
	}
	plain := Load([]string{"odd/broken"}, Options{WorkDir: dir, originAnnotations: true})
	if len(res.Errors) != 1 || fmt.Sprint(res.Errors) != fmt.Sprint(plain.Errors) || strings.Contains(res.Errors[0].Message, markerField) {
		t.Errorf("errors %v, want kustomize's %v", res.Errors, plain.Errors)
	}
}

// compareRenderings holds two renderings of the same inputs to the same
// objects and the same place for every field, but for the resources in
// generated (kind/name without a generator's hash suffix), which the
// first traces to the generator entry given.
func compareRenderings(t *testing.T, got, want []*Resource, generated map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d resources, want %d", len(got), len(want))
	}
	seen := map[string]bool{}
	for i, g := range got {
		w := want[i]
		id := g.ID()
		key := id.Kind + "/" + id.Name
		if i := strings.LastIndexByte(key, '-'); i > 0 && len(key)-i == 11 {
			key = key[:i] // a generator's hash suffix
		}
		if fmt.Sprint(g.Object) != fmt.Sprint(w.Object) {
			t.Errorf("%s: object\n%v\nwant\n%v", id, g.Object, w.Object)
			continue
		}
		if entry, ok := generated[key]; ok {
			seen[key] = true
			if at := g.Source.Locate(g.Object, Path{"data"}); fmt.Sprintf("%s:%d", at.File, at.Line) != entry {
				t.Errorf("%s: generated at %s, want %s", id, at, entry)
			}
			continue
		}
		for _, p := range leafPaths(g.Object, nil) {
			ga, gx := g.Source.Where(g.Object, p)
			wa, wx := w.Source.Where(w.Object, p)
			if fmt.Sprint(ga, gx) != fmt.Sprint(wa, wx) {
				t.Errorf("%s %s: at %v %v, want %v %v", id, p, ga, gx, wa, wx)
			}
		}
	}
	for key := range generated {
		if !seen[key] {
			t.Errorf("no resource %s", key)
		}
	}
}

// leafPaths lists the path of every scalar in v, in order.
func leafPaths(v any, prefix Path) []Path {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var out []Path
		for _, k := range keys {
			out = append(out, leafPaths(v[k], append(slices.Clip(prefix), k))...)
		}
		return out
	case []any:
		var out []Path
		for i, x := range v {
			out = append(out, leafPaths(x, append(slices.Clip(prefix), i))...)
		}
		return out
	}
	return []Path{prefix}
}

// FuzzMarkLines: a marker line is all that marking adds to a text. Decoded,
// a marked text is the original's documents, each resource with one more
// key: the marker (in a list, in each item).
func FuzzMarkLines(f *testing.F) {
	for _, text := range markerRepo {
		f.Add(text)
	}
	f.Add("a: 1\nb: 2\n---\n# c\nc: |\n  ---\n  x\nd: [1]\n")
	f.Add("kind: List\nitems:\n- a: 1\n  b: 2\n-   c: 3\n    d: 4\n")
	f.Add("a: 1\n  # indented comment\nb: 2\n")
	f.Add("? a\n: 1\nb: 2\n")
	l, err := newLoader(Options{})
	if err != nil {
		f.Fatal(err)
	}
	value := markerLine("/x/y.yaml")
	f.Fuzz(func(t *testing.T, text string) {
		data := []byte(text)
		at, err := l.markLines(data)
		if err != nil {
			return
		}
		marked, err := insertLines(data, at, value)
		if err != nil {
			return
		}
		before, errs := decodeStream(data, l.opts.Limits)
		after, errs2 := decodeStream(marked, l.opts.Limits)
		if len(errs) > 0 || len(errs2) > 0 || len(before) != len(after) {
			t.Fatalf("marked:\n%s\n%d documents (errors %v), want %d (errors %v)", marked, len(after), errs2, len(before), errs)
		}
		n := 0
		for i := range before {
			got := unmark(t, after[i].value, &n)
			if fmt.Sprint(got) != fmt.Sprint(before[i].value) {
				t.Fatalf("marked:\n%s\ndocument %d is %v, want %v", marked, i, got, before[i].value)
			}
		}
		if n != len(at) {
			t.Fatalf("marked:\n%s\n%d markers, want %d", marked, n, len(at))
		}
	})
}

// unmark is a decoded document without its markers, counted in n.
func unmark(t *testing.T, v any, n *int) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if s, ok := m[markerField].(string); ok {
		if o := originOf(s); o == nil || o.file != "/x/y.yaml" {
			t.Fatalf("marker %q", s)
		}
		*n++
		delete(m, markerField)
		return m
	}
	if items, ok := m["items"].([]any); ok {
		for i, it := range items {
			items[i] = unmark(t, it, n)
		}
	}
	return m
}
