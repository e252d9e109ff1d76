package load

// Tracing kustomize's output to its input with markers instead of
// kustomize's origin annotations.
//
// Asked for origin annotations (buildMetadata: [originAnnotations]),
// kustomize also records every transformer that runs on every resource, in
// an annotation it parses and writes again each time: 60% more time than
// the same build without (BenchmarkMonorepo: 7.1 against 4.4 ms an
// overlay). kubegate needs only where each resource was declared. So before
// kustomize runs, every resource file of the tree gets a marker field in
// each of its documents, naming the file, and every configMapGenerator and
// secretGenerator entry a marker annotation naming its kustomization and
// entry; kustomize carries them through like any other field, and they
// are taken out of what it renders. Where a file's markers go is worked
// out once per run, for every kustomization that includes the file.
//
// A marker is a line added to the text (a top-level key, before the
// document's first), not the document encoded again: the text kustomize
// parses is the file's but for that line. (Charts are traced the same way,
// with markers in their templates' text: internal/helm/markers.go.) A tree with a document that
// cannot be marked that way (see markDocs) is rendered with origin
// annotations instead, as before.

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// markerField is the top-level field that names a resource's file, and
// markerAnnotation the annotation that names a generated resource's
// generator.
const (
	markerField      = "__kubegate_origin"
	markerAnnotation = "internal.kubegate.dev/origin"
)

// origin is where kustomize took a rendered resource from: the resource
// file that declares it, or the kustomization whose generator made it.
// Paths are absolute, as the kustomization tree names them (kust).
type origin struct {
	file          string
	kustomization string
	generator     string // the generator entry's name
	// relative: the paths are relative to the top kustomization's
	// directory (kustomize's origin annotation).
	relative bool
}

// under is o with its paths under dir.
func (o *origin) under(dir string) *origin {
	out := *o
	if out.file != "" {
		out.file = filepath.Join(dir, out.file)
	}
	if out.kustomization != "" {
		out.kustomization = filepath.Join(dir, out.kustomization)
	}
	out.relative = false
	return &out
}

// marker is a marker's value, as JSON.
type marker struct {
	File          string `json:"file,omitempty"`
	Kustomization string `json:"kustomization,omitempty"`
	Generator     string `json:"generator,omitempty"`
}

// errUnmarkable sends a tree to origin annotations.
var errUnmarkable = errors.New("cannot be marked")

// markTree makes the marked text of every resource file and kustomization
// of the tree, by the path kustomize reads it at (symlinks resolved);
// false if one cannot be marked. The resource files it reads are kept in
// read, for sourceOf.
func (l *loader) markTree(top *kust, root string, charts *inflated, read map[string][]byte) (map[string][]byte, bool) {
	out := map[string][]byte{}
	seen := map[*kust]bool{}
	put := func(p string, data []byte) bool {
		for _, k := range []string{p, l.paths.resolved(p)} {
			if prev, ok := out[k]; ok && !bytes.Equal(prev, data) {
				return false // one file under two names, marked for each
			}
			out[k] = data
		}
		return true
	}
	var visit func(k *kust) bool
	visit = func(k *kust) bool {
		if seen[k] {
			return true
		}
		seen[k] = true
		data := k.data
		if charts != nil {
			if rewritten, ok := charts.kustomization[k.file]; ok {
				data = rewritten
			}
		}
		p := l.markPlan("kustomization", k.file, data, func() markPlan {
			text, err := markGenerators(k.file, data)
			if bytes.Equal(text, data) {
				text = nil // as it is
			}
			return markPlan{text: text, err: err}
		})
		if p.err != nil {
			return false
		}
		if p.text != nil {
			data = p.text
		}
		if !put(k.file, data) {
			return false
		}
		files := make([]string, 0, len(k.resourceFiles))
		for f := range k.resourceFiles {
			files = append(files, f)
		}
		slices.Sort(files)
		for _, f := range files {
			var text []byte
			var err error
			if charts != nil && charts.files[f] != nil {
				text = charts.files[f]
			} else if text, err = l.readFile(f, root); err != nil {
				return false // kustomize says why
			} else {
				read[f] = text
			}
			p := l.markPlan("resources", f, text, func() markPlan {
				lines, err := l.markLines(text)
				return markPlan{lines: lines, err: err}
			})
			if p.err != nil {
				return false
			}
			marked, err := insertLines(text, p.lines, markerLine(f))
			if err != nil || !put(f, marked) {
				return false
			}
		}
		for _, sub := range append(slices.Clip(k.bases), k.components...) {
			if !visit(sub) {
				return false
			}
		}
		return true
	}
	return out, visit(top)
}

// markPlan is how a text is marked: before which lines (a resource file)
// or as what text (a kustomization; nil: as it is); err if it cannot be.
type markPlan struct {
	lines []insertion
	text  []byte
	err   error
}

// markPlan is make()'s plan for file's text data, made once per run for
// the same file and text (a base's files are read by every overlay).
// Resource files' plans are their lines, not their marked text: a run
// holds no second copy of its files.
func (l *loader) markPlan(what, file string, data []byte, make func() markPlan) markPlan {
	sum := sha256.Sum256(data)
	key := what + "\x00" + file + "\x00" + string(sum[:])
	if v, ok := l.marked.Load(key); ok {
		return v.(markPlan)
	}
	p := make()
	l.marked.Store(key, p)
	return p
}

// markerLine is the line that marks a document as file's.
func markerLine(file string) []byte {
	value, _ := json.Marshal(marker{File: file})
	quoted, _ := json.Marshal(string(value)) // a JSON string is a YAML one
	return append(append([]byte(markerField+": "), quoted...), '\n')
}

// markLines is where a marker line goes in each document of data.
func (l *loader) markLines(data []byte) ([]insertion, error) {
	if bytes.Count(data, []byte("\r")) != bytes.Count(data, []byte("\r\n")) || lineMap(data) != nil {
		return nil, errUnmarkable // line numbers that are not LF lines
	}
	docs, errs := decodeStream(data, l.opts.Limits)
	if len(errs) > 0 {
		return nil, errUnmarkable // kustomize says what is wrong with it
	}
	return markDocs(docs)
}

// insertion is where a marker line goes: before line (1-based), indented
// by indent spaces.
type insertion struct{ line, indent int }

// markDocs is where a marker goes in every document: a new first key. A
// list kustomize takes apart (a kind ending in List, with items) has a
// marker in each of its items instead: a new second key.
func markDocs(docs []document) ([]insertion, error) {
	var at []insertion
	for _, d := range docs {
		m, _ := d.value.(map[string]any)
		kind, _ := m["kind"].(string)
		if _, ok := m["items"]; !ok || !strings.HasSuffix(kind, "List") {
			in, err := markAt(d.node, d.value, false)
			if err != nil {
				return nil, err
			}
			at = append(at, in)
			continue
		}
		if d.node == nil || d.node.Kind != yaml.MappingNode {
			return nil, errUnmarkable
		}
		seq, ok := directValue(d.node, "items")
		if !ok || seq == nil {
			return nil, errUnmarkable
		}
		if seq.Kind == yaml.ScalarNode && seq.ShortTag() == "!!null" {
			continue // no resources
		}
		items, _ := m["items"].([]any)
		if seq.Kind != yaml.SequenceNode || seq.Style&yaml.FlowStyle != 0 || len(items) != len(seq.Content) {
			return nil, errUnmarkable
		}
		for i, item := range seq.Content {
			in, err := markAt(item, items[i], true)
			if err != nil {
				return nil, err
			}
			at = append(at, in)
		}
	}
	if !slices.IsSortedFunc(at, func(a, b insertion) int { return a.line - b.line }) {
		return nil, errUnmarkable
	}
	return at, nil
}

// markAt is where a marker goes in n, a resource (value decoded): before
// its first key, or before its second if it is an item of a list (the
// first shares the line of the item's "-"). n must be a mapping in block
// style, its keys starting their lines, with no anchor, tag or merge key
// of its own and no marker already: a line added there is one more key of
// it, and all it adds. It must be no list itself, and not ask kustomize
// to hash it (needs-hash on a kind other than ConfigMap and Secret): that
// hashes it whole, marker included.
func markAt(n *yaml.Node, value any, item bool) (insertion, error) {
	if n == nil || n.Kind != yaml.MappingNode || n.Style&(yaml.FlowStyle|yaml.TaggedStyle) != 0 || n.Anchor != "" || len(n.Content) < 4 {
		return insertion{}, errUnmarkable
	}
	k0, k1 := n.Content[0], n.Content[2]
	if k0.Kind != yaml.ScalarNode || k1.Kind != yaml.ScalarNode || k1.Column != k0.Column || k1.Line <= k0.Line || (!item && k0.Column != 1) {
		return insertion{}, errUnmarkable
	}
	for i := 0; i < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind != yaml.ScalarNode || k.Value == "<<" || k.Value == markerField {
			return insertion{}, errUnmarkable
		}
	}
	m, _ := value.(map[string]any)
	kind, _ := m["kind"].(string)
	if _, ok := m["items"]; ok && strings.HasSuffix(kind, "List") {
		return insertion{}, errUnmarkable
	}
	meta, _ := m["metadata"].(map[string]any)
	ann, _ := meta["annotations"].(map[string]any)
	if h, _ := ann["kustomize.config.k8s.io/needs-hash"].(string); h == "true" && kind != "ConfigMap" && kind != "Secret" {
		return insertion{}, errUnmarkable
	}
	if item {
		return insertion{line: k1.Line, indent: k1.Column - 1}, nil
	}
	return insertion{line: k0.Line}, nil
}

// insertLines inserts a marker line with value at each of at (ascending),
// each before a line that starts with its indent of spaces and then a key.
func insertLines(data []byte, at []insertion, value []byte) ([]byte, error) {
	out := make([]byte, 0, len(data)+len(at)*(len(value)+8))
	lineNo, i := 1, 0
	for _, in := range at {
		for lineNo < in.line {
			nl := bytes.IndexByte(data[i:], '\n')
			if nl < 0 {
				return nil, errUnmarkable
			}
			out = append(out, data[i:i+nl+1]...)
			i += nl + 1
			lineNo++
		}
		rest := data[i:]
		if len(rest) <= in.indent || strings.TrimLeft(string(rest[:in.indent]), " ") != "" || rest[in.indent] == ' ' || rest[in.indent] == '\t' {
			return nil, errUnmarkable
		}
		out = append(out, strings.Repeat(" ", in.indent)...)
		out = append(out, value...)
	}
	return append(out, data[i:]...), nil
}

// markGenerators adds a marker annotation to every configMapGenerator and
// secretGenerator entry of a kustomization (in its options). The
// kustomization is encoded again, as small as it is.
func markGenerators(file string, data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, errUnmarkable
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return data, nil // kustomize says what is wrong with it
	}
	changed := false
	for _, field := range []string{"configMapGenerator", "secretGenerator"} {
		seq, ok := directValue(doc.Content[0], field)
		if !ok {
			return nil, errUnmarkable
		}
		if seq == nil || seq.Kind != yaml.SequenceNode {
			continue
		}
		for _, e := range seq.Content {
			if e.Kind != yaml.MappingNode {
				return nil, errUnmarkable
			}
			name, ok := directValue(e, "name")
			if !ok || (name != nil && name.Kind != yaml.ScalarNode) {
				return nil, errUnmarkable
			}
			value, err := json.Marshal(marker{Kustomization: file, Generator: nameOf(name)})
			if err != nil {
				return nil, err
			}
			options, ok := childMapping(e, "options")
			if !ok {
				return nil, errUnmarkable
			}
			ann, ok := childMapping(options, "annotations")
			if !ok {
				return nil, errUnmarkable
			}
			if v, _ := directValue(ann, markerAnnotation); v != nil {
				return nil, errUnmarkable
			}
			ann.Content = append(ann.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: markerAnnotation}, &yaml.Node{Kind: yaml.ScalarNode, Style: yaml.SingleQuotedStyle, Value: string(value)})
			changed = true
		}
	}
	if !changed {
		return data, nil
	}
	var buf bytes.Buffer
	if err := yaml.NewEncoder(&buf).Encode(&doc); err != nil {
		return nil, errUnmarkable
	}
	return buf.Bytes(), nil
}

// childMapping is the mapping at key in mapping n, added empty if n has
// none; false if the key holds something else, or cannot be told (see
// directValue).
func childMapping(n *yaml.Node, key string) (*yaml.Node, bool) {
	v, ok := directValue(n, key)
	if !ok || (v != nil && v.Kind != yaml.MappingNode) {
		return nil, false
	}
	if v == nil {
		v = &yaml.Node{Kind: yaml.MappingNode}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
	}
	return v, true
}

func nameOf(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return n.Value
}

// directValue is the value of key in mapping n as written, nil if absent;
// false if it cannot be told without following an alias or a merge key.
func directValue(n *yaml.Node, key string) (*yaml.Node, bool) {
	if n.Kind != yaml.MappingNode || n.Anchor != "" {
		return nil, false
	}
	var v *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind == yaml.AliasNode || k.Value == "<<" {
			return nil, false
		}
		if k.Value == key {
			v = n.Content[i+1]
		}
	}
	if v != nil && (v.Kind == yaml.AliasNode || v.Anchor != "") {
		return nil, false
	}
	return v, true
}

// takeMarker removes a rendered resource's markers, and says where it
// came from (nil if it has no marker: a generator of generators: made it).
func takeMarker(obj map[string]any) *origin {
	var o *origin
	if s, ok := obj[markerField].(string); ok {
		delete(obj, markerField)
		o = originOf(s)
	}
	meta, _ := obj["metadata"].(map[string]any)
	ann, _ := meta["annotations"].(map[string]any)
	if s, ok := ann[markerAnnotation].(string); ok {
		delete(ann, markerAnnotation)
		if len(ann) == 0 {
			delete(meta, "annotations")
		}
		if o == nil {
			o = originOf(s)
		}
	}
	return o
}

func originOf(s string) *origin {
	var m marker
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil
	}
	return &origin{file: m.File, kustomization: m.Kustomization, generator: m.Generator}
}

// resolved is p with symlinks resolved, as kustomize names the files it
// reads (a missing file, such as a chart's rendered one, in its resolved
// directory).
func (c *pathCache) resolved(p string) string {
	if r, err := c.evalSymlinks(p); err == nil {
		return r
	}
	if r, err := c.evalSymlinks(filepath.Dir(p)); err == nil {
		return filepath.Join(r, filepath.Base(p))
	}
	return p
}
