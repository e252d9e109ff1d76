package load

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/load/internal/helm"
)

// chartDoc is a document a chart rendered. A field of it is located:
//   - at the values line that set it, when the template copied it from the
//     values (directly, through toYaml, through include ...), with the
//     template line as a related place;
//   - else at the template line that wrote it;
//   - else at the template line of its nearest written parent.
//
// The template line comes from the markers of the marked rendering (see
// helm/rewrite.go). Whether a value came from the values is tested, not
// guessed: a value of the values that could be it is perturbed, the
// template rendered again, and the field must change exactly as the value
// did.
type chartDoc struct {
	doc   *helm.Doc
	value any // the document as rendered
	// prefix leads from the document to the resource (items[i] of a List).
	prefix []segment

	once   sync.Once
	marked *yaml.Node // the document as the marked rendering wrote it

	mu    sync.Mutex
	where map[string]whereResult
}

type whereResult struct {
	at      finding.Location
	related []finding.Location
}

// maxProbes bounds the values tried for one field.
const maxProbes = 12

// locate finds where a person edits the field at segs (the part of it
// that exists in the document); missing is the key the field lacks below
// it, if any.
func (c *chartDoc) locate(segs []segment, missing string) (finding.Location, []finding.Location) {
	segs = append(slices.Clip(c.prefix), segs...)
	p, _ := concrete(c.value, segs)
	key := p.String() + "\x00" + missing
	c.mu.Lock()
	if w, ok := c.where[key]; ok {
		c.mu.Unlock()
		return w.at, w.related
	}
	c.mu.Unlock()
	at, chain, printed := c.templateAt(segs)
	w := whereResult{at: at}
	if v, ok := c.valuesAt(p, missing, printed); ok {
		w.at = v
		w.related = append(w.related, at)
	}
	for _, x := range chain {
		if x != w.at && !slices.Contains(w.related, x) {
			w.related = append(w.related, x)
		}
	}
	c.mu.Lock()
	if c.where == nil {
		c.where = map[string]whereResult{}
	}
	c.where[key] = w
	c.mu.Unlock()
	return w.at, w.related
}

// templateAt is the template line that wrote the field (the innermost:
// inside a named template, that template's line), and the lines of the
// templates that included it. printed is false when the field is a scalar
// the template's own text wrote (the literal in an if's branch), which
// then did not come from the values.
func (c *chartDoc) templateAt(segs []segment) (at finding.Location, chain []finding.Location, printed bool) {
	c.once.Do(func() {
		if text, ok := c.doc.Marked(); ok {
			var doc yaml.Node
			if yaml.Unmarshal([]byte(text), &doc) == nil {
				c.marked = deref(&doc)
			}
		}
	})
	fallback := finding.Location{File: c.doc.Out.File}
	if c.marked == nil {
		return fallback, nil, true
	}
	mark, value, found := walk(c.marked, segs)
	printed = true
	if value != nil && value.Kind == yaml.ScalarNode && found == len(segs) {
		printed = c.doc.Printed(value.Line, value.Column)
	}
	if !c.doc.Trusted() && found > 0 && value != nil && value.Kind == yaml.ScalarNode {
		// The marked rendering computed something else here (a checksum
		// of marked text): trust the parent, which holds the same keys.
		p, _ := concrete(c.value, segs[:found])
		if want, ok := Lookup(c.value, p).(string); !ok || want != value.Value {
			mark, _, _ = walk(c.marked, segs[:found-1])
		}
	}
	line, col := 1, 1
	if mark != nil && mark.Line > 0 {
		line, col = mark.Line, mark.Column
	}
	origins := c.doc.Origin(line, col)
	if len(origins) == 0 {
		return fallback, nil, printed
	}
	locs := make([]finding.Location, len(origins))
	for i, o := range origins {
		locs[i] = posLocation(o)
	}
	for i := len(locs) - 2; i >= 0; i-- {
		chain = append(chain, locs[i])
	}
	return locs[len(locs)-1], chain, printed
}

func posLocation(p helm.Pos) finding.Location {
	if p.InArchive != "" {
		return finding.Location{File: p.File} // an archive: no line to edit
	}
	return finding.Location{File: p.File, Line: p.Line, Column: p.Col}
}

// valuesAt is the values line that set the value at p, when the template
// copied the value from there. When the field below p is missing, a
// values mapping named like the missing key (resources: {}) that the
// template copies in its place is where to write it.
func (c *chartDoc) valuesAt(p Path, missing string, printed bool) (finding.Location, bool) {
	want := Lookup(c.value, p)
	if want == nil {
		return finding.Location{}, false
	}
	r := c.doc.Rendering()
	last := ""
	if len(p) > 0 {
		last, _ = p[len(p)-1].(string)
	}
	type candidate struct {
		leaf  helm.Leaf
		score int
		below bool // a mapping for the missing key
	}
	var cands []candidate
	for _, leaf := range r.Leaves() {
		n := len(leaf.Path)
		name := ""
		if n > 0 {
			name, _ = leaf.Path[n-1].(string)
		}
		// A mapping named like the missing key (resources: for
		// resources, containerSecurityContext: for securityContext).
		if _, isMap := leaf.Value.(map[string]any); isMap && missing != "" && strings.HasSuffix(strings.ToLower(name), strings.ToLower(missing)) {
			cands = append(cands, candidate{leaf: leaf, score: n - 20, below: true})
			continue
		}
		if !printed || !couldBe(want, leaf.Value) {
			continue
		}
		score := n
		if name == last && last != "" {
			score -= 10
		}
		if s, ok := leaf.Value.(string); ok && s == want {
			score -= 5
		}
		cands = append(cands, candidate{leaf: leaf, score: score})
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(a.score, b.score) })
	var hits []helm.Leaf
	for i, cand := range cands {
		if i == maxProbes {
			break
		}
		text, ok := c.doc.Probe(context.Background(), cand.leaf.Path)
		if !ok {
			continue
		}
		docs, _ := decodeStream([]byte(text), DefaultLimits)
		if len(docs) == 0 {
			continue
		}
		if cand.below {
			m, _ := Lookup(docs[0].value, append(slices.Clip(p), missing)).(map[string]any)
			if _, ok := m[helm.ProbeKey]; ok {
				hits = []helm.Leaf{cand.leaf}
				break
			}
			continue
		}
		if copied(want, Lookup(docs[0].value, p), cand.leaf.Value) {
			hits = append(hits, cand.leaf)
		}
	}
	if len(hits) == 0 {
		return finding.Location{}, false
	}
	if len(hits) > 1 {
		// Several values make the field (an image from image.registry
		// and image.repository): the mapping that holds them, in the file
		// that sets them; else the value that makes most of the field.
		common := hits[0].Path
		paths := [][]any{hits[0].Path}
		for _, h := range hits[1:] {
			n := 0
			for n < len(common) && n < len(h.Path) && common[n] == h.Path[n] {
				n++
			}
			common = common[:n]
			paths = append(paths, h.Path)
		}
		if len(common) > 0 {
			if at, ok := r.SetByCommon(common, paths); ok {
				return posLocation(at), true
			}
		}
		slices.SortStableFunc(hits, func(a, b helm.Leaf) int {
			return cmp.Compare(len(scalarText(b.Value)), len(scalarText(a.Value)))
		})
	}
	at, ok := r.SetBy(hits[0].Path)
	return posLocation(at), ok
}

// couldBe reports whether a value of the values could be where the
// rendered value v came from: the same scalar (a string may be part of
// it), or the same mapping.
func couldBe(v, leaf any) bool {
	switch v := v.(type) {
	case string:
		switch l := leaf.(type) {
		case string:
			return len(l) >= 2 && strings.Contains(v, l) || l == v
		case bool, float64, int, int64, json.Number:
			return scalarText(l) == v
		}
	case bool:
		b, ok := leaf.(bool)
		return ok && b == v
	case int64, float64:
		switch l := leaf.(type) {
		case float64, int, int64, json.Number:
			return scalarText(l) == scalarText(v)
		case string:
			return l == scalarText(v)
		}
	case map[string]any:
		m, ok := leaf.(map[string]any)
		return ok && sameJSON(v, m)
	}
	return false
}

// copied reports whether the field changed from was to now exactly as the
// probed value changed (see helm.Perturb): the template copied it.
func copied(was, now, leaf any) bool {
	probe, ok := helm.Perturb(leaf)
	if !ok || now == nil {
		return false
	}
	switch was := was.(type) {
	case string:
		old, nu := scalarText(leaf), scalarText(probe)
		s, ok := now.(string)
		return ok && old != "" && (s == strings.Replace(was, old, nu, 1) || s == strings.ReplaceAll(was, old, nu))
	case bool:
		b, ok := now.(bool)
		return ok && b == !was
	case int64, float64:
		return scalarText(now) == scalarText(probe)
	case map[string]any:
		m, ok := now.(map[string]any)
		if !ok {
			return false
		}
		_, has := m[helm.ProbeKey]
		return has
	}
	return false
}

func scalarText(v any) string {
	switch v := v.(type) {
	case float64:
		return fmt.Sprint(v)
	case string:
		return v
	}
	return scalarString(v)
}

// sameJSON compares two values as JSON (Helm's values hold float64 where
// a decoded manifest holds int64).
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// concrete turns segments into a path of keys and indices over v (list
// elements found by their merge key), as far as they exist.
func concrete(v any, segs []segment) (Path, bool) {
	var p Path
	cur := v
	for _, s := range segs {
		if !s.isIndex {
			m, _ := cur.(map[string]any)
			p = append(p, s.key)
			var ok bool
			if cur, ok = m[s.key]; !ok {
				return p, false
			}
			continue
		}
		l, _ := cur.([]any)
		i := s.index
		if s.mergeKey != "" {
			i = -1
			for j, e := range l {
				if m, ok := e.(map[string]any); ok && scalarString(m[s.mergeKey]) == s.mergeValue {
					i = j
					break
				}
			}
		}
		p = append(p, i)
		if i < 0 || i >= len(l) {
			return p, false
		}
		cur = l[i]
	}
	return p, true
}
