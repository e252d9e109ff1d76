package helm

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
)

// ProbeSuffix is appended to a string value to see where a template copies
// it.
const ProbeSuffix = "kgprobe"

// probeKey is the key added to a mapping value for the same purpose.
const ProbeKey = "kgprobe"

// Perturb returns the value kubegate writes in place of v to find where a
// template copies it: a string gets a suffix, a boolean is negated, a
// number grows, a mapping gets one more key. Lists and null are not
// probed.
func Perturb(v any) (any, bool) {
	switch v := v.(type) {
	case string:
		return v + ProbeSuffix, true
	case bool:
		return !v, true
	case float64:
		return v + 7919, true
	case int:
		return v + 7919, true
	case int64:
		return v + 7919, true
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return json.Number(fmt.Sprint(f + 7919)), true
		}
	case map[string]any:
		out := maps.Clone(v)
		out[ProbeKey] = ProbeSuffix
		return out, true
	}
	return nil, false
}

// MissingEnabled lists the chart's missing dependencies that this
// rendering would include, as Helm decides: the first path of the
// condition that holds a boolean, else any tag that is true (all false:
// excluded), else included.
func (r *Rendering) MissingEnabled() []Dependency {
	var out []Dependency
	var values map[string]any
	if v, ok := r.values["Values"].(common.Values); ok {
		values = v
	}
	for _, d := range r.Chart.Missing {
		if enabled(d, values) {
			out = append(out, d)
		}
	}
	return out
}

func enabled(d Dependency, values map[string]any) bool {
	for _, c := range strings.Split(d.Condition, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		var path []any
		for _, k := range strings.Split(c, ".") {
			path = append(path, k)
		}
		if v, ok := lookup(values, path); ok {
			if b, ok := v.(bool); ok {
				return b
			}
		}
	}
	if len(d.Tags) == 0 {
		return true
	}
	tags, _ := values["tags"].(map[string]any)
	seen := false
	for _, t := range d.Tags {
		if b, ok := tags[t].(bool); ok {
			if b {
				return true
			}
			seen = true
		}
	}
	return !seen
}

// Leaves lists the rendering's values (after coalescing), parents first.
func (r *Rendering) Leaves() []Leaf { return r.leaves }

// SetBy is the values line that set the value at path: the variant's
// values files and inline values first, then the chart's values.yaml, then
// its subcharts'. A value that only a vendored archive sets is overridden
// in the chart's own values: its position is then the deepest key of the
// path the chart's values.yaml writes (a subchart's section, say), or that
// file itself.
func (r *Rendering) SetBy(path []any) (Pos, bool) {
	p, ok := setBy(r.layers, path)
	if !ok || p.InArchive == "" {
		return p, ok
	}
	for i := len(r.layers) - 1; i >= 0; i-- {
		l := r.layers[i]
		if len(l.prefix) > 0 || l.inArchive != "" {
			continue
		}
		for n := len(path); n > 0; n-- {
			if k := walkValues(l.root, path[:n]); k != nil {
				return Pos{File: l.file, Line: k.Line, Col: k.Column}, true
			}
		}
		return Pos{File: l.file}, true
	}
	return p, ok
}

// SetByCommon is where the values that make one field together are
// written (image.registry and image.repository, say): the mapping holding
// them (common, a prefix of every path), in the values source that sets
// them. Without one, the values are set in different sources and there is
// no single place: false.
func (r *Rendering) SetByCommon(common []any, paths [][]any) (Pos, bool) {
	for i := len(r.layers) - 1; i >= 0; i-- {
		l := r.layers[i]
		rest, ok := under(common, l.prefix)
		if !ok {
			continue
		}
		writes := false
		for _, p := range paths {
			if tail, ok := under(p, l.prefix); ok && walkValues(l.root, tail) != nil {
				writes = true
			}
		}
		if !writes {
			continue
		}
		if k := walkValues(l.root, rest); k != nil && l.inArchive == "" {
			return Pos{File: l.file, Line: k.Line, Col: k.Column}, true
		}
	}
	return Pos{}, false
}

// Probe renders the document's template again with the value at path
// perturbed (see Perturb), and returns this document as it is then.
func (d *Doc) Probe(ctx context.Context, valuePath []any) (string, bool) {
	text, ok := d.Out.Probe(ctx, valuePath)
	if !ok {
		return "", false
	}
	docs, _ := splitManifests(text)
	if len(docs) != len(d.Out.Docs) {
		return "", false
	}
	for i, x := range d.Out.Docs {
		if x == d {
			return docs[i] + "\n", true
		}
	}
	return "", false
}

// Probe renders the output's template again with the value at path
// perturbed (see Perturb), and returns what the template writes then.
// Results are kept, so each value is probed once per template.
func (o *Output) Probe(ctx context.Context, valuePath []any) (string, bool) {
	r := o.r
	if o.CRD || r.values == nil {
		return "", false
	}
	key := o.Template + "\x00" + PathString(valuePath)
	r.probeMu.Lock()
	res, done := r.probes[key]
	r.probeMu.Unlock()
	if done {
		return res.text, res.err == nil
	}
	res = o.probe(ctx, valuePath)
	r.probeMu.Lock()
	r.probes[key] = res
	r.probeMu.Unlock()
	return res.text, res.err == nil
}

func (o *Output) probe(ctx context.Context, valuePath []any) probeResult {
	r := o.r
	coalesced, _ := r.values["Values"].(common.Values)
	old, ok := lookup(map[string]any(coalesced), valuePath)
	if !ok {
		return probeResult{err: fmt.Errorf("no value")}
	}
	probe, ok := Perturb(old)
	if !ok {
		return probeResult{err: fmt.Errorf("not probed")}
	}
	changed, ok := replaceAt(map[string]any(coalesced), valuePath, probe)
	if !ok {
		return probeResult{err: fmt.Errorf("not probed")}
	}
	values := maps.Clone(r.values)
	values["Values"] = common.Values(changed)
	form := func(f *common.File) []byte {
		if rw := r.Chart.rewrite(r.from[f], f); rw.ok {
			return []byte(rw.bounded)
		}
		return f.Data
	}
	// The one template and the partials it may use, and the templates it
	// includes (a checksum of a ConfigMap, say: argo-cd's Deployments
	// include several), added as the engine names them; every template
	// only when that does not settle it. Rendering every template for
	// each probe took 60% of the time of a check of the argo-cd chart.
	wanted := map[string]bool{o.Template: true}
	only := func(c *chart.Chart, t *common.File) bool {
		return strings.HasPrefix(path.Base(t.Name), "_") || wanted[path.Join(c.ChartFullPath(), t.Name)]
	}
	// A probe starts with the templates an earlier probe of this template
	// found it includes, so that it renders once rather than once more
	// per include (argo-cd's Deployments include several ConfigMaps).
	// The template's text is the same whichever other templates render
	// beside it; when they do not render with these values, the includes
	// are found again one by one.
	r.probeMu.Lock()
	learned := r.includes[o.Template]
	r.probeMu.Unlock()
	if len(learned) > 0 {
		for _, name := range learned {
			wanted[name] = true
		}
		if out, _, err := r.engineRun(ctx, withTemplates(r.helm, form, only), values, false); err == nil {
			return probeResult{text: out[o.Template]}
		}
		wanted = map[string]bool{o.Template: true}
	}
	for range maxIncluded {
		out, _, err := r.engineRun(ctx, withTemplates(r.helm, form, only), values, false)
		if err == nil {
			if len(wanted) > 1 {
				r.probeMu.Lock()
				r.includes[o.Template] = slices.Sorted(maps.Keys(wanted))
				r.probeMu.Unlock()
			}
			return probeResult{text: out[o.Template]}
		}
		name := missingTemplate(err)
		if name == "" || wanted[name] {
			break
		}
		wanted[name] = true
	}
	if out, _, err := r.engineRun(ctx, withTemplates(r.helm, form, nil), values, false); err == nil {
		return probeResult{text: out[o.Template]}
	}
	return probeResult{err: fmt.Errorf("does not render")}
}

// maxIncluded bounds the templates a probe adds one by one.
const maxIncluded = 8

var noTemplate = regexp.MustCompile(`no template "([^"]+)" associated with template`)

// missingTemplate is the template an include named that the rendering
// did not hold ("" for another error).
func missingTemplate(err error) string {
	if m := noTemplate.FindStringSubmatch(err.Error()); m != nil {
		return m[1]
	}
	return ""
}

// lookup finds the value at a path of keys and list indices.
func lookup(v any, p []any) (any, bool) {
	for _, s := range p {
		switch s := s.(type) {
		case string:
			m, ok := asMap(v)
			if !ok {
				return nil, false
			}
			if v, ok = m[s]; !ok {
				return nil, false
			}
		case int:
			l, ok := v.([]any)
			if !ok || s < 0 || s >= len(l) {
				return nil, false
			}
			v = l[s]
		default:
			return nil, false
		}
	}
	return v, true
}

func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case common.Values:
		return m, true
	}
	return nil, false
}

// replaceAt returns a copy of v with the value at p replaced, copying only
// the maps and lists on the way.
func replaceAt(v map[string]any, p []any, x any) (map[string]any, bool) {
	out, ok := replace(v, p, x)
	m, _ := asMap(out)
	return m, ok
}

func replace(v any, p []any, x any) (any, bool) {
	if len(p) == 0 {
		return x, true
	}
	switch s := p[0].(type) {
	case string:
		m, ok := asMap(v)
		if !ok {
			return nil, false
		}
		child, ok := replace(m[s], p[1:], x)
		if !ok {
			return nil, false
		}
		c := maps.Clone(m)
		c[s] = child
		if _, isValues := v.(common.Values); isValues {
			return common.Values(c), true
		}
		return c, true
	case int:
		l, ok := v.([]any)
		if !ok || s < 0 || s >= len(l) {
			return nil, false
		}
		child, ok := replace(l[s], p[1:], x)
		if !ok {
			return nil, false
		}
		c := append([]any(nil), l...)
		c[s] = child
		return c, true
	}
	return nil, false
}
