package load

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/load/internal/helm"
)

// ChartConfig is one way to render a chart, from the configuration's
// charts: entries. Several entries for one chart render it several times.
type ChartConfig struct {
	// Path is the chart's directory (absolute).
	Path string
	// Variant names the rendering in findings; "" for the chart's main
	// rendering.
	Variant            string
	Release, Namespace string
	// ValuesFiles are layered over the chart's values.yaml in order
	// (absolute paths); Values, written inline in File, over them.
	ValuesFiles []string
	Values      *yaml.Node
	File        string
	// CIValues renders the chart once more per ci/*-values.yaml, over
	// this entry's values (default true).
	CIValues *bool
}

// UncheckedReason says why part of a chart was not checked.
type UncheckedReason int

const (
	// DependencyMissing: a dependency of Chart.yaml is neither vendored
	// nor in the repository, so its resources were not rendered.
	DependencyMissing UncheckedReason = iota + 1
	// VariantNotRendered: the chart's own values do not render (a value it
	// requires is unset), but its ci/*-values.yaml variants do.
	VariantNotRendered
)

// Unchecked is part of a chart that was not checked, for a reason that is
// not an error in the input.
type Unchecked struct {
	Reason   UncheckedReason
	Chart    finding.Resource // kind Chart, the chart's name
	Location finding.Location
	Message  string
}

// DefaultKubeVersion is the Kubernetes version charts are rendered for
// when none is given.
const DefaultKubeVersion = "v1.37"

const chartFile = "Chart.yaml"

// isChart reports whether dir holds a Helm chart.
func isChart(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, chartFile))
	return err == nil && fi.Mode().IsRegular()
}

// chartInfo is what discovery reads of a Chart.yaml: whether the chart
// renders on its own, and the local charts it depends on.
type chartInfo struct {
	library bool
	local   []string // absolute directories of file:// dependencies
}

func (l *loader) chartInfo(dir, root string) chartInfo {
	data, err := l.readFile(filepath.Join(dir, chartFile), root)
	if err != nil {
		return chartInfo{}
	}
	var meta struct {
		Type         string `yaml:"type"`
		Dependencies []struct {
			Repository string `yaml:"repository"`
		} `yaml:"dependencies"`
	}
	_ = yaml.Unmarshal(data, &meta)
	info := chartInfo{library: meta.Type == "library"}
	for _, d := range meta.Dependencies {
		if p, ok := strings.CutPrefix(d.Repository, "file://"); ok {
			info.local = append(info.local, filepath.Join(dir, filepath.FromSlash(p)))
		}
	}
	return info
}

// files is the confined view of a repository root that chart rendering
// reads through: an os.Root, so that no symlink leads out of it.
func (l *loader) files(root string) (*helm.Files, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f, ok := l.roots[root]; ok {
		return f, nil
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	f := &helm.Files{Root: r, RootDir: root, Display: l.display, MaxFileBytes: l.opts.Limits.MaxFileBytes}
	if l.roots == nil {
		l.roots = map[string]*helm.Files{}
	}
	l.roots[root] = f
	return f, nil
}

func (l *loader) closeRoots() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range l.roots {
		f.Root.Close()
	}
	l.roots = nil
}

// loadChart reads a chart for rendering; problems are reported.
func (l *loader) loadChart(dir, root string) *helm.Chart {
	files, err := l.files(root)
	if err != nil {
		l.errorf(l.display(dir), 0, "cannot read: %v", err)
		return nil
	}
	lim := helm.DefaultLimits
	if l.opts.ChartTimeout > 0 {
		lim.Timeout = l.opts.ChartTimeout
	}
	c, err := helm.Load(files, dir, lim)
	if err != nil {
		l.problem(err, l.display(filepath.Join(dir, chartFile)))
		return nil
	}
	return c
}

// problem reports a helm error as an input error at its file and line.
func (l *loader) problem(err error, file string) {
	var p *helm.Problem
	if errors.As(err, &p) {
		l.errorf(p.File, p.Line, "%s", p.Message)
		return
	}
	l.errorf(file, 0, "%v", err)
}

// variant is one rendering of a chart, with what findings call it.
type variant struct {
	helm.Variant
	ci bool // from a ci/*-values.yaml file
}

// chartVariants are the renderings of the chart in dir: one per charts:
// entry for it (or one with its own values), and one more per
// ci/*-values.yaml layered over each, as chart-testing does.
func (l *loader) chartVariants(c *helm.Chart, dir, root string) ([]variant, bool) {
	var entries []ChartConfig
	for _, e := range l.opts.Charts {
		if e.Path == dir {
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		entries = []ChartConfig{{Path: dir}}
	}
	files, err := l.files(root)
	if err != nil {
		return nil, false
	}
	ok := true
	var out []variant
	var ciFiles []string
	if matches, err := filepath.Glob(filepath.Join(dir, "ci", "*-values.yaml")); err == nil {
		ciFiles = matches
		slices.Sort(ciFiles)
	}
	for _, e := range entries {
		base := variant{Variant: helm.Variant{Name: e.Variant, Release: e.Release, Namespace: e.Namespace, KubeVersion: l.kubeVersion(), IncludeCRDs: true}}
		if base.Release == "" {
			base.Release = defaultRelease(c.Name)
		}
		if base.Namespace == "" {
			base.Namespace = "default"
		}
		for _, f := range e.ValuesFiles {
			v, good := l.valuesFile(files, f)
			ok = ok && good
			base.Values = append(base.Values, v)
		}
		if e.Values != nil {
			v, err := helm.InlineValues(e.File, e.Values)
			if err != nil {
				l.problem(err, e.File)
				ok = false
			}
			base.Values = append(base.Values, v)
		}
		out = append(out, base)
		if e.CIValues != nil && !*e.CIValues {
			continue
		}
		for _, f := range ciFiles {
			v, good := l.valuesFile(files, f)
			if !good {
				ok = false
				continue
			}
			ci := base
			ci.ci = true
			ci.Values = append(slices.Clip(base.Values), v)
			rel := filepath.ToSlash(strings.TrimPrefix(f, dir+string(filepath.Separator)))
			ci.Name = rel
			if base.Name != "" {
				ci.Name = base.Name + " + " + rel
			}
			out = append(out, ci)
		}
	}
	return out, ok
}

func (l *loader) valuesFile(files *helm.Files, abs string) (helm.Values, bool) {
	data, err := files.ReadFile(abs)
	if err != nil {
		l.errorf(l.display(abs), 0, "values file: %v", err)
		return helm.Values{}, false
	}
	// Parsed here first for the positions of kubegate's own decoder (and
	// its bounds on aliases and depth).
	if _, errs := decodeStream(data, l.opts.Limits); len(errs) > 0 {
		for _, e := range errs {
			l.errorf(l.display(abs), e.line, "values do not parse: %s", e.msg)
		}
		return helm.Values{}, false
	}
	v, err := helm.ReadValues(l.display(abs), data)
	if err != nil {
		l.problem(err, l.display(abs))
		return helm.Values{}, false
	}
	return v, true
}

// kubeVersion is the version charts render for, as Helm parses it.
func (l *loader) kubeVersion() string {
	v := l.opts.KubeVersion
	if v == "" {
		v = DefaultKubeVersion
	}
	if strings.Count(v, ".") == 1 {
		v += ".0"
	}
	return v
}

// defaultRelease is the release name a chart renders with when none is
// configured: the chart's name, so that its names read as a plain `helm
// install NAME` makes them; "release-name" (helm template's) when the name
// is not a valid release name.
func defaultRelease(chart string) string {
	if chartutil.ValidateReleaseName(chart) == nil {
		return chart
	}
	return "release-name"
}

// renderChart renders every variant of the chart in dir into resources.
func (l *loader) renderChart(dir, root string) []*Resource {
	c := l.loadChart(dir, root)
	if c == nil {
		return nil
	}
	chartID := finding.Resource{APIVersion: "v2", Kind: "Chart", Name: c.Name}
	chartYAML := l.display(filepath.Join(dir, chartFile))
	if c.Library {
		l.errorf(chartYAML, 0, "a library chart is not rendered on its own: check a chart that depends on it")
		return nil
	}
	variants, _ := l.chartVariants(c, dir, root)
	for _, m := range c.Missing {
		what := m.Name
		if m.Version != "" {
			what += " " + m.Version
		}
		if m.Repository != "" {
			what += " from " + m.Repository
		}
		l.unchecked(Unchecked{Reason: DependencyMissing, Chart: chartID, Location: finding.Location{File: chartYAML, Line: m.Line},
			Message: fmt.Sprintf("dependency %s is not vendored under charts/, so its resources were not rendered or checked; run `helm dependency build %s` before kubegate, or commit the chart archive", what, l.display(dir))})
	}
	type rendered struct {
		v   variant
		r   *helm.Rendering
		out []*Resource
	}
	var all []rendered
	for _, v := range variants {
		r := c.Render(context.Background(), v.Variant)
		all = append(all, rendered{v: v, r: r, out: l.chartResources(r, v)})
	}
	ciRendered := slices.ContainsFunc(all, func(x rendered) bool { return x.v.ci && len(x.r.Problems) == 0 })
	// Renderings that fail alike are reported once, naming them all.
	type failureKind int
	const (
		inputError          failureKind = iota
		withoutDependencies             // not rendered: a dependency is missing
		ownValues                       // the chart's own values, with ci files that render
	)
	type failure struct {
		p     helm.Problem
		names []string
		kind  failureKind
	}
	var failures []*failure
	note := func(p helm.Problem, v variant, kind failureKind) {
		for _, f := range failures {
			if f.p == p && f.kind == kind {
				f.names = append(f.names, v.Name)
				return
			}
		}
		failures = append(failures, &failure{p: p, names: []string{v.Name}, kind: kind})
	}
	var out []*Resource
	for _, x := range all {
		out = append(out, x.out...)
		failed := len(x.r.Outputs) == 0
		for _, p := range x.r.Problems {
			switch {
			case failed && len(x.r.MissingEnabled()) > 0:
				// Most likely the missing dependency: the chart cannot be
				// rendered here, which is not an error in it.
				note(p, x.v, withoutDependencies)
			case failed && !x.v.ci && ciRendered && x.v.Name == "":
				// The chart's own values leave a required value unset;
				// its ci/*-values.yaml set it, as chart-testing expects.
				note(p, x.v, ownValues)
			default:
				note(p, x.v, inputError)
			}
			if failed {
				break // one problem stops a rendering
			}
		}
	}
	for _, f := range failures {
		at := finding.Location{File: f.p.File, Line: f.p.Line}
		switch f.kind {
		case withoutDependencies:
			l.unchecked(Unchecked{Reason: VariantNotRendered, Chart: chartID, Location: at,
				Message: fmt.Sprintf("%s does not render without its missing dependencies (%s), so none of its resources were checked", renderingNames(f.names), f.p.Reason())})
		case ownValues:
			l.unchecked(Unchecked{Reason: VariantNotRendered, Chart: chartID, Location: at,
				Message: fmt.Sprintf("the chart's own values do not render (%s); it was checked with its ci/*-values.yaml files", f.p.Reason())})
		default:
			msg := f.p.Message
			if f.names[0] != "" || len(f.names) > 1 {
				msg = renderingNames(f.names) + ": " + msg
			}
			l.errorf(f.p.File, f.p.Line, "%s", msg)
		}
	}
	return out
}

// renderingNames names renderings in a message: "the chart", "the chart
// with ci/a-values.yaml", "the chart (and with ci/a-values.yaml)".
func renderingNames(names []string) string {
	var with []string
	plain := false
	for _, n := range names {
		if n == "" {
			plain = true
		} else {
			with = append(with, n)
		}
	}
	switch {
	case len(with) == 0:
		return "the chart"
	case plain:
		return "the chart (also with " + strings.Join(with, ", ") + ")"
	}
	return "the chart with " + strings.Join(with, ", ")
}

func (l *loader) unchecked(u Unchecked) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.res.Unchecked = append(l.res.Unchecked, u)
}

// chartResources turns a rendering's documents into resources whose
// positions lead back to the templates and values.
func (l *loader) chartResources(r *helm.Rendering, v variant) []*Resource {
	var out []*Resource
	for _, o := range r.Outputs {
		for _, d := range o.Docs {
			docs, errs := decodeStream([]byte(d.Text), l.opts.Limits)
			for _, e := range errs {
				file, line := o.File, 0
				if o.CRD && o.InArchive == "" {
					line = e.line
				} else if at := d.Origin(e.line, 1); len(at) > 0 && at[len(at)-1].InArchive == "" {
					file, line = at[len(at)-1].File, at[len(at)-1].Line
				}
				l.errorf(file, line, "%s renders YAML that does not parse: %s", renderedBy(o, v), e.msg)
			}
			for _, doc := range docs {
				items := flattenList(doc)
				for i, item := range items {
					obj, ok := item.value.(map[string]any)
					if !ok || !isObject(obj) {
						continue
					}
					src := &Source{File: o.File, pos: compact(item.node)}
					switch {
					case !o.CRD:
						src.chart = &chartDoc{doc: d, value: doc.value}
						if len(items) > 1 || item.node != doc.node {
							src.chart.prefix = []segment{{key: "items"}, {index: i, isIndex: true}}
						}
					case o.InArchive != "":
						src.pos = nil // a file inside an archive: no line to edit
					}
					res := &Resource{Object: obj, Source: src, Variant: v.Name}
					if v.Name != "" {
						res.scope = r.Chart.Dir + "\x00" + v.Name
					}
					out = append(out, res)
				}
			}
		}
	}
	return out
}

func renderedBy(o *helm.Output, v variant) string {
	s := "the template"
	if o.CRD {
		s = "the CRD file"
	}
	if o.InArchive != "" {
		s += " " + o.InArchive
	}
	if v.Name != "" {
		s += " (with " + v.Name + ")"
	}
	return s
}

// isObject reports whether a mapping is a Kubernetes object to check: it
// names its apiVersion and kind, and is not kustomize's own.
func isObject(obj map[string]any) bool {
	kind, _ := obj["kind"].(string)
	apiVersion, _ := obj["apiVersion"].(string)
	return kind != "" && apiVersion != "" && kind != "Kustomization" && kind != "Component"
}
