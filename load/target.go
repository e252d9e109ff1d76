package load

// Patch targeting: which of a kustomization's patches, namespace, name
// affixes, replicas and images entries apply to a rendered resource, with
// kustomize's own selector matching, through components and bases.

import (
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

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
