package load

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/types"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/load/internal/helm"
)

// A kustomization's helmCharts: (kustomize's HelmChartInflationGenerator)
// are rendered in-process with the same code as a chart found on its own,
// never by running helm, and from local charts only. kustomize then sees
// each chart's output as one more resource file of the kustomization (a
// file kubegate serves, see guardedFS), so its transformers and patches
// apply to it as `kustomize build --enable-helm` would apply them.

// helmEntry is one helmCharts entry of a kustomization.
type helmEntry struct {
	spec  types.HelmChart
	node  *yaml.Node // the entry, for positions
	chart string     // the chart's directory
	// virtual is the resource file the chart's output is served as.
	virtual string
}

// helmVirtualName names the file a helmCharts entry's output is served as,
// in the kustomization's directory: it appears in kustomize's own error
// messages, so it says what it is.
func helmVirtualName(i int, name string) string {
	return fmt.Sprintf("kubegate-helmchart-%d-%s.yaml", i, strings.NewReplacer("/", "-", string(filepath.Separator), "-").Replace(name))
}

// helmEntries reads a kustomization's helmCharts and finds each chart, as
// kustomize does: under helmGlobals.chartHome (default charts/), in
// NAME-VERSION/NAME when a version and a repository are given. A chart
// that is not there would have to be downloaded: refused.
func (l *loader) helmEntries(k *kust, root string) error {
	if key, _ := mapValue(k.root, "helmChartInflationGenerator"); key != nil {
		return inputError{File: k.display, Line: key.Line, Message: "helmChartInflationGenerator is kustomize's deprecated form: write the charts as helmCharts entries (kustomize edit fix does it)"}
	}
	_, seq := mapValue(k.root, "helmCharts")
	if seq == nil {
		return nil
	}
	home := types.HelmDefaultHome
	if _, g := mapValue(k.root, "helmGlobals"); g != nil {
		if _, h := mapValue(g, "chartHome"); h != nil && h.Value != "" {
			home = h.Value
		}
	}
	for i, e := range seq.Content {
		e = deref(e)
		var spec types.HelmChart
		if err := e.Decode(&spec); err != nil || spec.Name == "" {
			return inputError{File: k.display, Line: e.Line, Message: "helmCharts entry: a chart needs a name (the chart's directory under helmGlobals.chartHome)"}
		}
		dir := entryPath(k.dir, home)
		if spec.Version != "" && spec.Repo != "" {
			dir = filepath.Join(dir, spec.Name+"-"+spec.Version)
		}
		dir = filepath.Join(dir, spec.Name)
		if err := l.insideRoot(k, e, "helmCharts", spec.Name, dir, root); err != nil {
			return err
		}
		if !isChart(dir) {
			msg := fmt.Sprintf("helmCharts entry %q: no chart at %s", spec.Name, l.display(dir))
			if spec.Repo != "" {
				msg += fmt.Sprintf(" and kubegate never downloads one (from %s): vendor it there (helm pull %s --repo %s --version %s --untar --untardir %s)", spec.Repo, spec.Name, spec.Repo, spec.Version, l.display(filepath.Dir(dir)))
			}
			return inputError{File: k.display, Line: e.Line, Message: msg}
		}
		k.helm = append(k.helm, helmEntry{spec: spec, node: e, chart: dir, virtual: filepath.Join(k.dir, helmVirtualName(i, spec.Name))})
		k.resourceFiles[filepath.Join(k.dir, helmVirtualName(i, spec.Name))] = true
	}
	return nil
}

// inflated is what the helmCharts of a kustomization tree render to: the
// text of each virtual resource file, the documents declared in it (with
// their chart positions), and each kustomization's file as kustomize is to
// read it.
type inflated struct {
	files         map[string][]byte     // virtual file -> text
	docs          map[string][]document // virtual file -> documents
	kustomization map[string][]byte     // kustomization file -> rewritten text
}

// inflate renders every helmCharts entry of the tree.
func (l *loader) inflate(top *kust, root string) (*inflated, bool) {
	out := &inflated{files: map[string][]byte{}, docs: map[string][]document{}, kustomization: map[string][]byte{}}
	ok := true
	var visit func(k *kust)
	visit = func(k *kust) {
		for _, b := range append(append([]*kust{}, k.bases...), k.components...) {
			visit(b)
		}
		if len(k.helm) == 0 {
			return
		}
		var virtual []string
		for _, e := range k.helm {
			text, docs, good := l.inflateOne(k, e, root)
			ok = ok && good
			out.files[e.virtual] = text
			out.docs[e.virtual] = docs
			virtual = append(virtual, filepath.Base(e.virtual))
		}
		out.kustomization[k.file] = withoutHelm(k.data, virtual)
	}
	visit(top)
	return out, ok
}

// inflateOne renders one entry as kustomize would run helm template.
func (l *loader) inflateOne(k *kust, e helmEntry, root string) ([]byte, []document, bool) {
	c := l.loadChart(e.chart, root)
	if c == nil {
		return nil, nil, false
	}
	files, err := l.files(root)
	if err != nil {
		return nil, nil, false
	}
	s := e.spec
	v := helm.Variant{Release: s.ReleaseName, Namespace: s.Namespace, KubeVersion: l.kubeVersion(), APIVersions: s.ApiVersions, IncludeCRDs: s.IncludeCRDs}
	if v.Release == "" {
		v.Release = defaultRelease(c.Name)
	}
	if v.Namespace == "" {
		v.Namespace = "default"
	}
	if s.KubeVersion != "" {
		v.KubeVersion = s.KubeVersion
	}
	ok := true
	read := func(abs string) (helm.Values, bool) {
		v, good := l.valuesFile(files, abs)
		ok = ok && good
		return v, good
	}
	var base, inline []helm.Values
	if s.ValuesFile != "" && s.ValuesMerge != "replace" {
		if x, good := read(entryPath(k.dir, s.ValuesFile)); good {
			base = append(base, x)
		}
	}
	if _, n := mapValue(e.node, "valuesInline"); n != nil {
		x, err := helm.InlineValues(k.display, n)
		if err != nil {
			l.problem(err, k.display)
			ok = false
		} else {
			inline = append(inline, x)
		}
	}
	// kustomize writes valuesFile and valuesInline into one values file
	// (inline over the file, or under it with valuesMerge: merge), then
	// gives helm the additional files after it.
	if s.ValuesMerge == "merge" {
		v.Values = append(inline, base...)
	} else {
		v.Values = append(base, inline...)
	}
	for _, f := range s.AdditionalValuesFiles {
		if x, good := read(entryPath(k.dir, f)); good {
			v.Values = append(v.Values, x)
		}
	}
	chartID := finding.Resource{APIVersion: "v2", Kind: "Chart", Name: c.Name}
	for _, m := range c.Missing {
		l.unchecked(Unchecked{Reason: DependencyMissing, Chart: chartID, Location: finding.Location{File: l.display(filepath.Join(e.chart, chartFile)), Line: m.Line},
			Message: fmt.Sprintf("dependency %s is not vendored under charts/, so its resources were not rendered or checked (helmCharts entry %q of %s); run `helm dependency build %s` before kubegate, or commit the chart archive", m.Name, s.Name, k.display, l.display(e.chart))})
	}
	r := c.Render(context.Background(), v)
	for _, p := range r.Problems {
		if len(r.Outputs) == 0 && len(r.MissingEnabled()) > 0 {
			l.unchecked(Unchecked{Reason: VariantNotRendered, Chart: chartID, Location: finding.Location{File: p.File, Line: p.Line},
				Message: fmt.Sprintf("helmCharts entry %q of %s does not render without its missing dependencies (%s), so none of its resources were checked", s.Name, k.display, p.Reason())})
			continue
		}
		l.errorf(p.File, p.Line, "helmCharts entry %q of %s: %s", s.Name, k.display, p.Message)
		ok = false
	}
	var text bytes.Buffer
	var docs []document
	for _, res := range l.chartResources(r, variant{Variant: v}) {
		if hook := helmHook(res.Object); hook != "" && (s.SkipHooks || s.SkipTests && isTestHook(hook)) {
			continue
		}
		data, err := yaml.Marshal(res.Object)
		if err != nil {
			continue
		}
		text.WriteString("---\n")
		text.Write(data)
		docs = append(docs, document{pos: res.Source.pos, value: res.Object, chart: res.Source.chart, file: res.Source.File})
	}
	return text.Bytes(), docs, ok
}

// helmHook is a resource's helm.sh/hook annotation.
func helmHook(obj map[string]any) string {
	meta, _ := obj["metadata"].(map[string]any)
	ann, _ := meta["annotations"].(map[string]any)
	h, _ := ann["helm.sh/hook"].(string)
	return h
}

// isTestHook reports whether a hook is one of `helm test`'s.
func isTestHook(hook string) bool {
	for _, h := range strings.Split(hook, ",") {
		if h = strings.TrimSpace(h); h == "test" || h == "test-success" {
			return true
		}
	}
	return false
}

// withoutHelm is a kustomization's text as kustomize is to read it: its
// helm fields gone, the charts' output files added to its resources.
func withoutHelm(data []byte, virtual []string) []byte {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return data
	}
	m := doc.Content[0]
	var kept []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		switch m.Content[i].Value {
		case "helmCharts", "helmGlobals", "helmChartInflationGenerator":
			continue
		}
		kept = append(kept, m.Content[i], m.Content[i+1])
	}
	m.Content = kept
	_, res := mapValue(m, "resources")
	if res == nil {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "resources"}, &yaml.Node{Kind: yaml.SequenceNode})
		_, res = mapValue(m, "resources")
	}
	for _, v := range virtual {
		res.Content = append(res.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: v})
	}
	var buf bytes.Buffer
	if err := yaml.NewEncoder(&buf).Encode(&doc); err != nil {
		return data
	}
	return buf.Bytes()
}
