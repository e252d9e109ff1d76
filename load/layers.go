package load

// Patch provenance: the document that declares a rendered resource, and
// where each patch that applies to it is written (files and inline
// patches, positions shifted to the kustomization), for Locate.

import (
	"bytes"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kubegate/kubegate/load/internal/helm"
)

// sourceOf finds the document that declares a rendered resource and the
// layers that kustomize applied to it on the way to the top kustomization.
func (l *loader) sourceOf(top *kust, r *Resource, from *origin, root string, read *readCache) *Source {
	if top.rootPos == nil {
		top.rootPos = compact(top.root)
	}
	src := &Source{File: top.display, pos: top.rootPos}
	if from == nil {
		return src
	}
	var chain []*kust
	var base map[string]any
	if from.relative {
		from = from.under(top.dir)
	}
	switch {
	case from.file != "":
		file := from.file
		chain = findChain(top, func(k *kust) bool { return k.resourceFiles[file] })
		if d, ok := l.declaringDoc(file, root, r.Object, read); ok {
			src.File, src.pos = l.display(file), d.positions()
			if d.chart != nil || d.file != "" {
				// Rendered by a chart of the kustomization's helmCharts.
				src.File, src.chart = d.file, d.chart
			}
			base, _ = d.value.(map[string]any)
		}
	case from.kustomization != "":
		// Made by a generator: point at its entry in the kustomization.
		file := from.kustomization
		chain = findChain(top, func(k *kust) bool { return k.file == file })
		if len(chain) > 0 {
			owner := chain[len(chain)-1]
			src.File, src.pos = owner.display, compact(generatorEntry(owner, from.generator))
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

// readCache is what one render has read of its files, each read once:
// their text (read to mark them, marks.go) until their documents are
// decoded (to trace resources to them).
type readCache struct {
	text map[string][]byte
	docs map[string][]document
}

// declaringDoc finds, in the file a resource came from, the document that
// declares it: same kind, and the declared name is part of the rendered one
// (prefixes and suffixes are added around it); the longest such name wins.
func (l *loader) declaringDoc(file, root string, obj map[string]any, read *readCache) (document, bool) {
	docs, ok := read.docs[file]
	if !ok {
		data, ok := read.text[file]
		var err error
		if !ok {
			data, err = l.readFile(file, root)
		}
		if err == nil {
			raw, _ := decodeStream(data, l.opts.Limits)
			for _, d := range raw {
				docs = append(docs, flattenList(d)...)
			}
		}
		read.docs[file] = docs
		delete(read.text, file) // decoded: not held twice
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
