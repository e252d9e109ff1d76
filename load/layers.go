package load

import (
	"bytes"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kubegate/kubegate/internal/k8s"
	"github.com/kubegate/kubegate/load/internal/helm"
)

// PodSpecPath returns where the pod spec of a workload kind is, or nil.
func PodSpecPath(kind string) Path {
	p := k8s.PodSpecPath(kind)
	if p == nil {
		return nil
	}
	out := make(Path, len(p))
	for i, s := range p {
		out[i] = s
	}
	return out
}

// identity is what patch targeting compares: the resource's kind and the
// names and namespaces it had on its way through the layers.
type identity struct {
	obj        map[string]any
	gvk        resid.Gvk
	names      []string
	namespaces []string
	baseName   string
	rendered   string
}

func newIdentity(obj map[string]any, base map[string]any) identity {
	id := identity{obj: obj}
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	g, v := resid.ParseGroupVersion(apiVersion)
	id.gvk = resid.NewGvk(g, v, kind)
	name := func(o map[string]any) (string, string) {
		m, _ := o["metadata"].(map[string]any)
		n, _ := m["name"].(string)
		ns, _ := m["namespace"].(string)
		return n, ns
	}
	id.rendered, _ = name(obj)
	id.baseName = id.rendered
	_, ns := name(obj)
	id.names, id.namespaces = []string{id.rendered}, []string{ns}
	if base != nil {
		bn, bns := name(base)
		id.baseName = bn
		id.names = append(id.names, bn)
		id.namespaces = append(id.namespaces, bns)
	}
	return id
}

// hasName reports whether n is one of the names the resource had: the
// declared one, the rendered one, or one in between (declared name with some
// of the prefixes and suffixes added).
func (id identity) hasName(n string) bool {
	for _, x := range id.names {
		if x == n {
			return true
		}
	}
	return n != "" && strings.Contains(id.rendered, n) && strings.Contains(n, id.baseName)
}

// selected applies a kustomize patch target to the resource, with
// kustomize's own selector matching.
func (id identity) selected(sel *types.Selector) bool {
	sr, err := types.NewSelectorRegex(sel)
	if err != nil || !sr.MatchGvk(id.gvk) {
		return false
	}
	nameOK, nsOK := false, false
	for _, n := range id.names {
		nameOK = nameOK || sr.MatchName(n)
	}
	for _, ns := range id.namespaces {
		nsOK = nsOK || sr.MatchNamespace(ns) || ns == "" && sr.MatchNamespace("default")
	}
	if !nameOK || !nsOK {
		return false
	}
	if sel.LabelSelector != "" || sel.AnnotationSelector != "" {
		rn, err := kyaml.FromMap(id.obj)
		if err != nil {
			return false
		}
		if ok, err := rn.MatchesLabelSelector(sel.LabelSelector); err != nil || !ok {
			return false
		}
		if ok, err := rn.MatchesAnnotationSelector(sel.AnnotationSelector); err != nil || !ok {
			return false
		}
	}
	return true
}

// sourceOf finds the document that declares a rendered resource and the
// layers that kustomize applied to it on the way to the top kustomization.
func (l *loader) sourceOf(top *kust, r *Resource, origin *resource.Origin, root string, cache map[string][]document) *Source {
	src := &Source{File: top.display, Node: top.root}
	if origin == nil {
		return src
	}
	var chain []*kust
	var base map[string]any
	switch {
	case origin.Path != "":
		file := filepath.Join(top.dir, origin.Path)
		chain = findChain(top, func(k *kust) bool { return k.resourceFiles[file] })
		if d, ok := l.declaringDoc(file, root, r.Object, cache); ok {
			src.File, src.Node = l.display(file), d.node
			if d.chart != nil || d.file != "" {
				// Rendered by a chart of the kustomization's helmCharts.
				src.File, src.chart = d.file, d.chart
			}
			base, _ = d.value.(map[string]any)
		}
	case origin.ConfiguredIn != "":
		// Made by a generator: point at its entry in the kustomization.
		file := filepath.Join(top.dir, origin.ConfiguredIn)
		chain = findChain(top, func(k *kust) bool { return k.file == file })
		if len(chain) > 0 {
			owner := chain[len(chain)-1]
			src.File, src.Node = owner.display, generatorEntry(owner, origin.ConfiguredBy.Name)
		}
	}
	id := newIdentity(r.Object, base)
	for i := len(chain) - 1; i >= 0; i-- {
		var inChain *kust
		if i+1 < len(chain) {
			inChain = chain[i+1]
		}
		for _, c := range chain[i].components {
			if c != inChain {
				src.Layers = append(src.Layers, l.componentLayers(c, id, root)...)
			}
		}
		src.Layers = append(src.Layers, l.ownLayers(chain[i], id, root)...)
	}
	return src
}

func (l *loader) componentLayers(c *kust, id identity, root string) []layer {
	var out []layer
	for _, cc := range c.components {
		out = append(out, l.componentLayers(cc, id, root)...)
	}
	return append(out, l.ownLayers(c, id, root)...)
}

// findChain returns the kustomizations from top down to the first one (in
// kustomize's accumulation order) that satisfies owns.
func findChain(top *kust, owns func(*kust) bool) []*kust {
	if owns(top) {
		return []*kust{top}
	}
	for _, sub := range append(append([]*kust{}, top.bases...), top.components...) {
		if c := findChain(sub, owns); c != nil {
			return append([]*kust{top}, c...)
		}
	}
	return nil
}

func generatorEntry(k *kust, name string) *yaml.Node {
	for _, field := range []string{"configMapGenerator", "secretGenerator"} {
		_, seq := mapValue(k.root, field)
		if seq == nil {
			continue
		}
		for _, e := range seq.Content {
			if _, n := mapValue(deref(e), "name"); n != nil && n.Value == name {
				return e
			}
		}
	}
	return k.root
}

// declaringDoc finds, in the file a resource came from, the document that
// declares it: same kind, and the declared name is part of the rendered one
// (prefixes and suffixes are added around it); the longest such name wins.
func (l *loader) declaringDoc(file, root string, obj map[string]any, cache map[string][]document) (document, bool) {
	docs, ok := cache[file]
	if !ok {
		data, err := l.readFile(file, root)
		if err == nil {
			raw, _ := decodeStream(data, l.opts.Limits)
			for _, d := range raw {
				docs = append(docs, flattenList(d)...)
			}
		}
		cache[file] = docs
	}
	kind, _ := obj["kind"].(string)
	id := newIdentity(obj, nil)
	best, bestLen := -1, -1
	for i, d := range docs {
		m, _ := d.value.(map[string]any)
		if k, _ := m["kind"].(string); k != kind {
			continue
		}
		meta, _ := m["metadata"].(map[string]any)
		n, _ := meta["name"].(string)
		if strings.Contains(id.rendered, n) && len(n) > bestLen {
			best, bestLen = i, len(n)
		}
	}
	if best < 0 {
		if len(docs) == 1 {
			return docs[0], true
		}
		return document{}, false
	}
	return docs[best], true
}

func flattenList(d document) []document {
	m, _ := d.value.(map[string]any)
	if k, _ := m["kind"].(string); k != "List" {
		return []document{d}
	}
	items, _ := m["items"].([]any)
	_, seq := mapValue(d.node, "items")
	var out []document
	for i, it := range items {
		if seq != nil && i < len(seq.Content) {
			out = append(out, document{node: deref(seq.Content[i]), value: it})
		}
	}
	return out
}

// ownLayers are the layers one kustomization applies to a resource, in
// kustomize's order: strategic-merge patches, patches, namespace,
// prefix/suffix, JSON 6902 patches, replicas, images.
func (l *loader) ownLayers(k *kust, id identity, root string) []layer {
	var out []layer
	if _, seq := mapValue(k.root, "patchesStrategicMerge"); seq != nil {
		for _, e := range seq.Content {
			out = append(out, l.smpEntry(k, id, root, e)...)
		}
	}
	if _, seq := mapValue(k.root, "patches"); seq != nil {
		for _, e := range seq.Content {
			out = append(out, l.patchEntry(k, id, root, deref(e))...)
		}
	}
	if key, v := mapValue(k.root, "namespace"); key != nil && v.Value != "" && len(id.namespaces) > 0 && id.namespaces[0] == v.Value {
		out = append(out, fieldLayer{file: k.display, fields: []fieldSet{{path: keys("metadata", "namespace"), mark: key}}})
	}
	for _, f := range []string{"namePrefix", "nameSuffix"} {
		if key, v := mapValue(k.root, f); key != nil && v.Value != "" && strings.Contains(id.rendered, v.Value) {
			out = append(out, fieldLayer{file: k.display, fields: []fieldSet{{path: keys("metadata", "name"), mark: key}}})
		}
	}
	if _, seq := mapValue(k.root, "patchesJson6902"); seq != nil {
		for _, e := range seq.Content {
			out = append(out, l.patchEntry(k, id, root, deref(e))...)
		}
	}
	if _, seq := mapValue(k.root, "replicas"); seq != nil {
		for _, e := range seq.Content {
			_, n := mapValue(deref(e), "name")
			ck, _ := mapValue(deref(e), "count")
			if n != nil && ck != nil && id.hasName(n.Value) {
				out = append(out, fieldLayer{file: k.display, fields: []fieldSet{{path: keys("spec", "replicas"), mark: ck}}})
			}
		}
	}
	if _, seq := mapValue(k.root, "images"); seq != nil {
		out = append(out, imageLayer(k, id, seq))
	}
	return out
}

func keys(ks ...string) []segment {
	out := make([]segment, len(ks))
	for i, k := range ks {
		out[i] = segment{key: k}
	}
	return out
}

// imageLayer points each container image that an `images:` entry rewrote
// at that entry (its digest, newTag or newName line).
func imageLayer(k *kust, id identity, seq *yaml.Node) layer {
	fl := fieldLayer{file: k.display}
	podSpec := PodSpecPath(id.gvk.Kind)
	if podSpec == nil {
		return fl
	}
	for _, e := range seq.Content {
		e = deref(e)
		_, name := mapValue(e, "name")
		if name == nil {
			continue
		}
		var mark *yaml.Node
		for _, f := range []string{"newName", "newTag", "digest"} {
			if key, _ := mapValue(e, f); key != nil {
				mark = key
			}
		}
		if mark == nil {
			continue
		}
		newName := name.Value
		if _, nn := mapValue(e, "newName"); nn != nil {
			newName = nn.Value
		}
		for _, ctype := range []string{"containers", "initContainers", "ephemeralContainers"} {
			p := append(append(Path{}, podSpec...), ctype)
			list, _ := Lookup(id.obj, p).([]any)
			for i, c := range list {
				cm, _ := c.(map[string]any)
				img, _ := cm["image"].(string)
				if imageRepo(img) == newName || imageRepo(img) == name.Value {
					segs, _ := semantic(id.obj, append(p, i, "image"))
					fl.fields = append(fl.fields, fieldSet{path: segs, mark: mark})
				}
			}
		}
	}
	return fl
}

// imageRepo strips the tag and digest from an image reference.
func imageRepo(img string) string {
	if i := strings.Index(img, "@"); i >= 0 {
		img = img[:i]
	}
	if i := strings.LastIndex(img, ":"); i >= 0 && !strings.Contains(img[i:], "/") {
		img = img[:i]
	}
	return img
}

// Lookup returns the value at a path in an object, or nil.
func Lookup(obj any, p Path) any {
	cur := obj
	for _, s := range p {
		switch s := s.(type) {
		case string:
			m, _ := cur.(map[string]any)
			cur = m[s]
		case int:
			l, _ := cur.([]any)
			if s < 0 || s >= len(l) {
				return nil
			}
			cur = l[s]
		}
	}
	return cur
}

// patchEntry handles one `patches:` or `patchesJson6902:` entry: {path or
// patch, target}.
func (l *loader) patchEntry(k *kust, id identity, root string, e *yaml.Node) []layer {
	var sel *types.Selector
	if _, t := mapValue(e, "target"); t != nil {
		sel = &types.Selector{}
		if err := t.Decode(sel); err != nil || !id.selected(sel) {
			return nil
		}
	}
	if _, p := mapValue(e, "path"); p != nil {
		return l.patchLayers(k, id, root, p, sel, false)
	}
	if _, p := mapValue(e, "patch"); p != nil {
		return l.patchLayers(k, id, root, p, sel, true)
	}
	return nil
}

// smpEntry handles one `patchesStrategicMerge:` entry: a file name, or the
// patch itself inline.
func (l *loader) smpEntry(k *kust, id identity, root string, e *yaml.Node) []layer {
	inline := strings.Contains(e.Value, "\n") || !fileExists(filepath.Join(k.dir, e.Value))
	return l.patchLayers(k, id, root, e, nil, inline)
}

// patchLayers reads a patch (the file ref names, or ref itself when inline)
// and returns its layers that apply to the resource. A patch with a target
// applies whole; a strategic-merge patch without one applies per document,
// by kind and name.
func (l *loader) patchLayers(k *kust, id identity, root string, ref *yaml.Node, sel *types.Selector, inline bool) []layer {
	file, docs := l.patchDocs(k, root, ref, inline)
	var out []layer
	for _, d := range docs {
		if d.node.Kind == yaml.SequenceNode {
			out = append(out, jsonPatch(file, d.node, id.obj))
			continue
		}
		if sel == nil {
			m, _ := d.value.(map[string]any)
			kind, _ := m["kind"].(string)
			meta, _ := m["metadata"].(map[string]any)
			name, _ := meta["name"].(string)
			if kind != id.gvk.Kind || !id.hasName(name) {
				continue
			}
		}
		out = append(out, smpLayer{file: file, node: d.node})
	}
	return out
}

// patchDocs returns a patch's file name and documents, positions shifted to
// the file they are written in (the kustomization itself for inline ones).
func (l *loader) patchDocs(k *kust, root string, ref *yaml.Node, inline bool) (string, []document) {
	if inline {
		docs, _ := decodeStream([]byte(ref.Value), l.opts.Limits)
		dLine, dCol := inlineOffset(k.data, ref)
		for _, d := range docs {
			shiftNode(d.node, dLine, dCol)
		}
		return k.display, docs
	}
	file := filepath.Join(k.dir, ref.Value)
	data, err := l.readFile(file, root)
	if err != nil {
		return l.display(file), nil
	}
	docs, _ := decodeStream(data, l.opts.Limits)
	return l.display(file), docs
}

// inlineOffset is how far positions inside an inline patch's text are from
// positions in the kustomization file. A block scalar (| or >) starts on the
// line after its indicator at a fixed indentation; a quoted or plain scalar
// starts where it stands.
func inlineOffset(data []byte, n *yaml.Node) (dLine, dCol int) {
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		lines := bytes.Split(data, []byte("\n"))
		for i := n.Line; i < len(lines); i++ { // lines[n.Line] is the line after the indicator
			text := strings.TrimRight(string(lines[i]), "\r")
			if strings.TrimSpace(text) == "" {
				continue
			}
			return n.Line, len(text) - len(strings.TrimLeft(text, " "))
		}
		return n.Line, 0
	}
	dCol = n.Column - 1
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		dCol++
	}
	return n.Line - 1, dCol
}

func shiftNode(n *yaml.Node, dLine, dCol int) {
	stack := []*yaml.Node{n}
	seen := map[*yaml.Node]bool{}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[x] {
			continue
		}
		seen[x] = true
		x.Line += dLine
		x.Column += dCol
		stack = append(stack, x.Content...)
	}
}

// jsonPatch reads an RFC 6902 patch: the operations that write a value
// (add, replace, copy, move), with JSON pointers resolved against the
// rendered object so list indices become list elements.
func jsonPatch(file string, seq *yaml.Node, obj map[string]any) layer {
	l := jsonPatchLayer{file: file}
	for _, e := range seq.Content {
		e = deref(e)
		_, op := mapValue(e, "op")
		_, ptr := mapValue(e, "path")
		if op == nil || ptr == nil {
			continue
		}
		switch op.Value {
		case "add", "replace", "copy", "move":
		default:
			continue
		}
		segs, _ := semantic(obj, pointerPath(obj, ptr.Value))
		o := jsonPatchOp{path: segs, mark: e}
		if key, v := mapValue(e, "value"); key != nil {
			o.value, o.mark = v, key
		}
		l.ops = append(l.ops, o)
	}
	return l
}

// pointerPath turns a JSON pointer into a Path, using the object to tell list
// indices ("-" is the last element) from map keys.
func pointerPath(obj any, ptr string) Path {
	if ptr == "" || ptr == "/" {
		return nil
	}
	tokens := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, tok := range tokens {
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
	}
	return Path(helm.PointerPath(obj, tokens))
}
