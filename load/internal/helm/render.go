package helm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"helm.sh/helm/v4/pkg/chart/common"
	commonutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"

	"github.com/kubegate/kubegate/schema"
)

// Variant is one way to render a chart, as `helm template` would be run.
type Variant struct {
	// Name says which variant a finding comes from ("" for the default
	// rendering; ci/prod-values.yaml for a chart-testing values file).
	Name               string
	Release, Namespace string
	// Values are layered over the chart's values.yaml, lowest first, as
	// helm template -f merges them.
	Values []Values
	// KubeVersion is the target cluster's version (v1.N); APIVersions are
	// added to the capabilities.
	KubeVersion string
	APIVersions []string
	// IncludeCRDs adds the charts' crds/ files.
	IncludeCRDs bool
}

// Output is what one template (or CRD file) of a rendering wrote.
type Output struct {
	// Template is Helm's name for it: CHART/templates/x.yaml, or
	// CHART/charts/SUB/templates/x.yaml.
	Template string
	// File is the display path of the file a person edits (or of the
	// archive holding it, InArchive naming the file inside).
	File, InArchive string
	// Docs are its documents, as Helm applies them.
	Docs []*Doc
	// CRD outputs are files copied as they are: their positions are
	// their own.
	CRD bool

	r      *Rendering
	marked *marked
}

// Doc is one document of an output.
type Doc struct {
	// Text is the document as Helm sends it to the cluster: leading
	// whitespace trimmed, ending in a newline.
	Text string
	// Out is the output it is part of.
	Out *Output
	// The same document in the marked rendering: its text (markers taken
	// out) and where it starts in the output's marked text; moff < 0 when
	// the marked rendering did not produce it.
	mtext string
	moff  int
}

// Marked returns the document as the marked rendering wrote it, markers
// taken out; false when that rendering did not produce it.
func (d *Doc) Marked() (string, bool) { return d.mtext, d.moff >= 0 }

// Trusted reports whether the marked document is the same text as Text,
// so that its positions are Text's. Where it is not (a checksum of marked
// text, say), positions hold where the values agree.
func (d *Doc) Trusted() bool { return d.moff >= 0 && d.mtext+"\n" == d.Text }

// Origin returns the template positions in force at a 1-based line and
// column of the marked document: the line of the top-level template first,
// then the lines of the named templates it included, innermost last.
func (d *Doc) Origin(line, col int) []Pos {
	off, ok := d.offset(line, col)
	if !ok {
		return nil
	}
	var out []Pos
	for _, id := range d.Out.marked.at(d.moff + off) {
		if s, ok := d.Out.r.Chart.sites.get(id); ok {
			out = append(out, Pos{File: s.file, InArchive: s.inArchive, Line: s.line, Col: s.col})
		}
	}
	return out
}

// Printed reports whether, on the line of the marked document that a
// 1-based line and column start, an action printed something from that
// column on: a value there may have come from the values; a value the
// template's own text wrote did not. True when it cannot be told.
func (d *Doc) Printed(line, col int) bool {
	off, ok := d.offset(line, col)
	if !ok {
		return true
	}
	end := strings.IndexByte(d.mtext[off:], '\n')
	if end < 0 {
		end = len(d.mtext)
	} else {
		end += off
	}
	return d.Out.marked.printedIn(d.moff+off, d.moff+end)
}

// offset is the offset of a 1-based line and column in the marked
// document.
func (d *Doc) offset(line, col int) (int, bool) {
	if d.moff < 0 || line < 1 {
		return 0, false
	}
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(d.mtext[off:], '\n')
		if i < 0 {
			return 0, false
		}
		off += i + 1
	}
	for c := 1; c < col && off < len(d.mtext); c++ {
		_, size := utf8.DecodeRuneInString(d.mtext[off:])
		off += size
	}
	return off, true
}

// Rendering is the rendering the document is part of.
func (d *Doc) Rendering() *Rendering { return d.Out.r }

// splitManifests cuts rendered text into documents as Helm does before it
// applies them (releaseutil.SplitManifests): at --- separators, leading
// whitespace trimmed, empty documents dropped. offs are the documents'
// offsets in text.
func splitManifests(text string) (docs []string, offs []int) {
	trimmed := strings.TrimLeftFunc(text, unicode.IsSpace)
	base := len(text) - len(trimmed)
	start := 0
	cut := func(end int) {
		piece := trimmed[start:end]
		if strings.TrimSpace(piece) != "" {
			d := strings.TrimLeftFunc(piece, unicode.IsSpace)
			docs = append(docs, d)
			offs = append(offs, base+start+len(piece)-len(d))
		}
	}
	for _, m := range manifestSeps(trimmed) {
		cut(m[0])
		start = m[1]
	}
	cut(len(trimmed))
	return docs, offs
}

// manifestSeps finds the separators Helm splits a release's manifests at:
// the matches of its regular expression (?:^|\s*\n)---\s* in s, in one
// pass. The expression, with its leading \s*, costs time quadratic in a
// run of blank space for a regular expression engine; probing a chart's
// values renders and splits a template many times, and the expression took
// an eighth of the time of a check of argo-helm. FuzzManifestSeps holds the
// two to the same matches.
func manifestSeps(s string) [][2]int {
	var out [][2]int
	// space is \s in Go's regular expressions: ASCII blank space, no \v.
	space := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }
	skip := func(i int) int {
		for i < len(s) && space(s[i]) {
			i++
		}
		return i
	}
	pos := 0
	if strings.HasPrefix(s, "---") {
		pos = skip(3)
		out = append(out, [2]int{0, pos})
	}
	for pos < len(s) {
		j := strings.Index(s[pos:], "\n---")
		if j < 0 {
			break
		}
		j += pos
		// The match starts where the blank space before the newline does
		// (not before the end of the previous match).
		k := j
		for k > pos && space(s[k-1]) {
			k--
		}
		end := skip(j + 4)
		out = append(out, [2]int{k, end})
		pos = end
	}
	return out
}

// Rendering is one variant of a chart, rendered.
type Rendering struct {
	Chart   *Chart
	Variant Variant
	Outputs []*Output
	// Problems are what stopped parts of the rendering: a template that
	// failed (nothing of the variant is rendered then), values that break
	// the chart's schema.
	Problems []Problem

	values  common.Values // what the templates were given
	helm    *chart.Chart  // after dependencies were processed
	from    map[*common.File]*node
	layers  []layer
	leaves  []Leaf
	probeMu sync.Mutex
	probes  map[string]probeResult
	// includes are, per template, the templates (its own name too) its
	// probes found it includes: the next probe renders them at once.
	includes map[string][]string
	// runs counts the engine's renderings (tests).
	runs atomic.Int64
}

type probeResult struct {
	text string
	err  error
}

// Render renders a variant. An error is returned only when nothing could
// be rendered; the rendering's Problems say what else went wrong.
func (c *Chart) Render(ctx context.Context, v Variant) *Rendering {
	r := &Rendering{Chart: c, Variant: v, from: map[*common.File]*node{}, probes: map[string]probeResult{}, includes: map[string][]string{}}
	if err := r.render(ctx); err != nil {
		var p *Problem
		if !errors.As(err, &p) {
			p = &Problem{File: c.files.Display(filepath.Join(c.Dir, "Chart.yaml")), Message: err.Error()}
		}
		r.Problems = append(r.Problems, *p)
		r.Outputs = nil
	}
	return r
}

func (r *Rendering) chartFile(name string) string {
	return r.Chart.files.Display(filepath.Join(r.Chart.Dir, name))
}

func (r *Rendering) render(ctx context.Context) error {
	c := r.Chart
	built := map[*chart.Chart]*node{}
	ch, err := c.build(c.top, built)
	if err != nil {
		return err
	}
	for x, n := range built {
		for _, f := range x.Raw {
			r.from[f] = n
		}
		for _, f := range x.Templates {
			r.from[f] = n
		}
		for _, f := range x.Files {
			r.from[f] = n
		}
	}
	if ch.Metadata.Type == "library" {
		return &Problem{File: r.chartFile("Chart.yaml"), Message: "a library chart is not rendered on its own"}
	}
	caps := common.DefaultCapabilities.Copy()
	kv, err := common.ParseKubeVersion(r.Variant.KubeVersion)
	if err != nil {
		return fmt.Errorf("kube version %q: %w", r.Variant.KubeVersion, err)
	}
	caps.KubeVersion = *kv
	// What the target cluster's discovery lists, as helm install would see
	// it (helm template's default is what its client library knows, which
	// lacks apiregistration.k8s.io/v1 and ignores the version), and what
	// the user added.
	if minor, err := strconv.Atoi(strings.TrimSuffix(kv.Minor, "+")); err == nil {
		caps.APIVersions = common.VersionSet(schema.ServedAPIVersions(minor))
	}
	caps.APIVersions = append(slices.Clip(caps.APIVersions), r.Variant.APIVersions...)
	if want := ch.Metadata.KubeVersion; want != "" && !chartutil.IsCompatibleRange(want, caps.KubeVersion.String()) {
		return &Problem{File: r.chartFile("Chart.yaml"), Line: keyLine(c.top, "Chart.yaml", "kubeVersion"),
			Message: fmt.Sprintf("the chart requires kubeVersion %s, which Kubernetes %s (--kube-version) is not", want, r.Variant.KubeVersion)}
	}
	user := map[string]any{}
	for _, v := range r.Variant.Values {
		user = mergeMaps(user, v.Data)
	}
	if err := chartutil.ProcessDependencies(ch, user); err != nil {
		return &Problem{File: r.chartFile("Chart.yaml"), Message: "processing dependencies: " + err.Error()}
	}
	r.helm = ch
	release := common.ReleaseOptions{Name: r.Variant.Release, Namespace: r.Variant.Namespace, Revision: 1, IsInstall: true}
	vals, err := commonutil.ToRenderValuesWithSchemaValidation(ch, user, release, caps, true)
	if err != nil {
		return &Problem{File: r.chartFile("values.yaml"), Message: err.Error()}
	}
	r.values = vals
	r.layers = r.valueLayers(ch)
	coalesced, _ := vals["Values"].(common.Values)
	r.leaves = leaves(map[string]any(coalesced), 50_000)
	violations, err := validateSchemas(ch, coalesced, nil)
	if err != nil {
		return &Problem{File: r.chartFile("values.schema.json"), Message: "the schema does not compile: " + err.Error()}
	}
	if len(violations) > 0 {
		for _, v := range violations {
			p := Problem{File: r.chartFile("values.yaml"), Message: fmt.Sprintf("%s: %s (values.schema.json of chart %s)", PathString(v.path), v.message, v.chart)}
			if at, ok := setBy(r.layers, v.path); ok {
				p.File, p.Line = at.File, at.Line
			}
			r.Problems = append(r.Problems, p)
		}
		return nil
	}

	bounded, err := r.run(ctx, false, nil)
	if err != nil {
		return err
	}
	markedOut, markErr := r.run(ctx, true, nil)
	for _, key := range slices.Sorted(maps.Keys(bounded)) {
		if strings.HasSuffix(key, "NOTES.txt") || strings.TrimSpace(bounded[key]) == "" {
			continue
		}
		o := &Output{Template: key, r: r}
		o.File, o.InArchive = r.templateFile(key)
		docs, _ := splitManifests(bounded[key])
		var mdocs []string
		var moffs []int
		if m, ok := markedOut[key]; ok && markErr == nil {
			o.marked = stripMarkers(m)
			mdocs, moffs = splitManifests(o.marked.text)
		}
		for i, d := range docs {
			doc := &Doc{Text: d + "\n", Out: o, moff: -1}
			if len(mdocs) == len(docs) {
				doc.mtext, doc.moff = mdocs[i], moffs[i]
			}
			o.Docs = append(o.Docs, doc)
		}
		r.Outputs = append(r.Outputs, o)
	}
	if r.Variant.IncludeCRDs {
		r.Outputs = append(r.Outputs, r.crds(ch)...)
	}
	return nil
}

// mergeMaps merges values files as helm template -f does.
func mergeMaps(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range b {
		if vm, ok := v.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(bm, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// keyLine is the line of a top-level key of one of a chart's YAML files.
func keyLine(n *node, file, key string) int {
	for _, f := range n.files {
		if f.Name != file {
			continue
		}
		var doc yaml.Node
		if yaml.Unmarshal(f.Data, &doc) != nil {
			return 0
		}
		if m := mappingOf(&doc); m != nil {
			for i := 0; i+1 < len(m.Content); i += 2 {
				if m.Content[i].Value == key {
					return m.Content[i].Line
				}
			}
		}
	}
	return 0
}

// templateFile names the file a template key comes from.
func (r *Rendering) templateFile(key string) (string, string) {
	if f, n := r.findTemplate(key); f != nil {
		return n.origin.file(r.Chart.files, f.Name)
	}
	return r.Chart.files.Display(filepath.Join(r.Chart.Dir, filepath.FromSlash(key))), ""
}

// findTemplate finds a template by Helm's name for it.
func (r *Rendering) findTemplate(key string) (*common.File, *node) {
	var found *common.File
	var at *node
	var walk func(c *chart.Chart)
	walk = func(c *chart.Chart) {
		for _, t := range c.Templates {
			if path.Join(c.ChartFullPath(), t.Name) == key {
				found, at = t, r.from[t]
			}
		}
		for _, d := range c.Dependencies() {
			walk(d)
		}
	}
	if r.helm != nil {
		walk(r.helm)
	}
	return found, at
}

// crds are the crds/ files of the chart and its enabled subcharts, as
// `helm install` applies them and `helm template --include-crds` prints
// them.
func (r *Rendering) crds(ch *chart.Chart) []*Output {
	var out []*Output
	var walk func(c *chart.Chart)
	walk = func(c *chart.Chart) {
		for _, f := range c.Files {
			ext := strings.ToLower(path.Ext(f.Name))
			if !strings.HasPrefix(f.Name, "crds/") || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
				continue
			}
			o := &Output{Template: path.Join(c.ChartFullPath(), f.Name), CRD: true, r: r}
			o.Docs = []*Doc{{Text: string(f.Data), Out: o, moff: -1}}
			if n := r.from[f]; n != nil {
				o.File, o.InArchive = n.origin.file(r.Chart.files, f.Name)
			}
			out = append(out, o)
		}
		for _, d := range c.Dependencies() {
			walk(d)
		}
	}
	walk(ch)
	return out
}

// run renders every template of the processed chart in one of the two
// rewritten forms (see rewrite.go), with values (nil: the rendering's own).
// A failure is reported with Helm's own message, positions and all: the
// original templates are rendered again to get it.
func (r *Rendering) run(ctx context.Context, marks bool, values common.Values) (map[string]string, error) {
	if values == nil {
		values = r.values
	}
	form := func(f *common.File) []byte {
		rw := r.Chart.rewrite(r.from[f], f)
		switch {
		case !rw.ok:
			return f.Data
		case marks:
			return []byte(rw.marked)
		default:
			return []byte(rw.bounded)
		}
	}
	out, b, err := r.engineRun(ctx, withTemplates(r.helm, form, nil), values, marks)
	if err == nil {
		return out, nil
	}
	if b.err != nil {
		return nil, r.budgetProblem(b)
	}
	if marks {
		return nil, err
	}
	// The original templates, for Helm's own words and positions.
	if _, b2, err2 := r.engineRun(ctx, r.helm, values, false); err2 != nil {
		if b2.err != nil {
			return nil, r.budgetProblem(b2)
		}
		return nil, r.renderProblem(err2)
	}
	return nil, r.renderProblem(err)
}

func (r *Rendering) engineRun(ctx context.Context, ch *chart.Chart, values common.Values, marks bool) (map[string]string, *budget, error) {
	r.runs.Add(1)
	b := newBudget(r.Chart.lim, r.Chart.sites)
	extra := template.FuncMap{}
	if marks {
		extra["__kg_mark"] = markLines
		extra["__kg_first"] = r.Chart.sites.markFirst
	} else {
		extra["__kg_mark"] = func(_ int, v any) any { return v }
		extra["__kg_first"] = func(_, out string) string { return out }
	}
	e := engine.Engine{CustomTemplateFuncs: b.funcs(extra, marks)}
	out, err := e.RenderWithContext(ctx, ch, values)
	if err == nil && b.err != nil {
		err = b.err
	}
	if err == nil {
		var total int64
		for _, s := range out {
			total += int64(len(s))
		}
		if total > r.Chart.lim.MaxOutputBytes {
			b.fail(fmt.Sprintf("rendering wrote %s, over the %s limit", formatBytes(total), formatBytes(r.Chart.lim.MaxOutputBytes)))
			err = b.err
		}
	}
	return out, b, err
}

// budgetProblem reports a rendering its budget stopped, at the template
// line it was running (a range, a named template) when it can be told.
func (r *Rendering) budgetProblem(b *budget) error {
	p := &Problem{File: r.Chart.files.Display(r.Chart.Dir), Message: b.err.Error()}
	if b.at != nil && b.at.inArchive == "" {
		p.File, p.Line = b.at.file, b.at.line
	}
	return p
}

// helmLocation finds a template position in a Helm error message:
// CHART/templates/x.yaml:12 or :12:5.
var helmLocation = regexp.MustCompile(`([A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*/templates/[^\s:()"]+):(\d+)(?::(\d+))?`)

// renderProblem turns a rendering error into a problem at the template
// line Helm names (the innermost, where the error is raised).
func (r *Rendering) renderProblem(err error) error {
	msg := err.Error()
	p := &Problem{File: r.chartFile("Chart.yaml")}
	matches := helmLocation.FindAllStringSubmatch(msg, -1)
	for i := len(matches) - 1; i >= 0; i-- {
		m := matches[i]
		if f, n := r.findTemplate(m[1]); f != nil {
			p.File, _ = n.origin.file(r.Chart.files, f.Name)
			p.Line, _ = strconv.Atoi(m[2])
			break
		}
	}
	p.Message = notRendered + tidyHelmError(msg)
	return p
}

// notRendered starts the message of a template that fails.
const notRendered = "the chart does not render: "

// Reason is a problem's message without the words that say it stopped the
// rendering.
func (p *Problem) Reason() string { return strings.TrimPrefix(p.Message, notRendered) }

var (
	helmAt      = regexp.MustCompile(`(?:parse|execution) error at \([^)]*\): `)
	helmPlace   = regexp.MustCompile(`(?:template: )?[A-Za-z0-9_.\-/]+/templates/[^\s:]+:\d+(?::\d+)?:? `)
	helmExecute = regexp.MustCompile(`executing "[^"]*" `)
	whitespace  = regexp.MustCompile(`\s+`)
)

// tidyHelmError makes Helm's (sometimes multi-line) error one line without
// the template positions (the problem carries the innermost).
func tidyHelmError(msg string) string {
	msg = whitespace.ReplaceAllString(msg, " ")
	msg = helmAt.ReplaceAllString(msg, "")
	msg = helmPlace.ReplaceAllString(msg, "")
	msg = helmExecute.ReplaceAllString(msg, "")
	return strings.TrimSpace(msg)
}

// withTemplates copies a processed chart with every template's text
// replaced by form's, keeping only the templates keep accepts (nil: all).
func withTemplates(c *chart.Chart, form func(*common.File) []byte, keep func(c *chart.Chart, t *common.File) bool) *chart.Chart {
	out := *c
	out.Templates = nil
	for _, t := range c.Templates {
		if keep != nil && !keep(c, t) {
			continue
		}
		out.Templates = append(out.Templates, &common.File{Name: t.Name, ModTime: t.ModTime, Data: form(t)})
	}
	var deps []*chart.Chart
	for _, d := range c.Dependencies() {
		deps = append(deps, withTemplates(d, form, keep))
	}
	out.SetDependencies(deps...)
	return &out
}

// rewrite gives a template's rewritten forms, made once per chart.
func (c *Chart) rewrite(n *node, f *common.File) rewritten {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := rewriteKey{n, f.Name}
	if rw, ok := c.rewrites[key]; ok {
		return rw
	}
	var o origin
	if n != nil {
		o = n.origin
	}
	file, inArchive := o.file(c.files, f.Name)
	rw := rewriteTemplate(source{name: f.Name, text: string(f.Data), file: file, inArchive: inArchive, partial: strings.HasPrefix(path.Base(f.Name), "_")}, c.sites)
	c.rewrites[key] = rw
	return rw
}

type rewriteKey struct {
	n    *node
	name string
}

// valueLayers are the values sources of the rendering with their
// positions, lowest first: subcharts' values.yaml (deepest first), the
// chart's values.yaml, then the variant's values.
func (r *Rendering) valueLayers(ch *chart.Chart) []layer {
	var subs []layer
	var walk func(c *chart.Chart, prefix []string)
	walk = func(c *chart.Chart, prefix []string) {
		for _, d := range c.Dependencies() {
			walk(d, append(slices.Clip(prefix), d.Name()))
		}
		if len(prefix) > 0 {
			if l, ok := r.fileLayer(c, prefix); ok {
				subs = append(subs, l)
			}
		}
	}
	walk(ch, nil)
	slices.SortStableFunc(subs, func(a, b layer) int { return len(b.prefix) - len(a.prefix) })
	out := subs
	if l, ok := r.fileLayer(ch, nil); ok {
		out = append(out, l)
	}
	for _, v := range r.Variant.Values {
		if v.Node != nil {
			out = append(out, layer{file: v.File, root: v.Node})
		}
	}
	return out
}

func (r *Rendering) fileLayer(c *chart.Chart, prefix []string) (layer, bool) {
	for _, f := range c.Raw {
		if f.Name != "values.yaml" {
			continue
		}
		var doc yaml.Node
		if yaml.Unmarshal(f.Data, &doc) != nil {
			return layer{}, false
		}
		m := mappingOf(&doc)
		if m == nil {
			return layer{}, false
		}
		l := layer{root: m, prefix: prefix}
		if n := r.from[f]; n != nil {
			l.file, l.inArchive = n.origin.file(r.Chart.files, f.Name)
		}
		return l, true
	}
	return layer{}, false
}
