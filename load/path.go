package load

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kubegate/kubegate/internal/k8s"
)

// Path is a field path from a resource's root: string keys and int indices,
// as policies report them.
type Path []any

// String renders the path as policies' authors write it:
// spec.template.spec.containers[0].securityContext.privileged; keys that are
// not plain identifiers are bracket-quoted (metadata.annotations["a.b/c"]).
func (p Path) String() string {
	var b strings.Builder
	for _, s := range p {
		switch s := s.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		case string:
			if isIdent(s) {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(s)
			} else {
				fmt.Fprintf(&b, "[%s]", strconv.Quote(s))
			}
		}
	}
	return b.String()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9' {
			continue
		}
		return false
	}
	return true
}

// segment is one step of a path made independent of list order: a list
// element is named by its merge key (a container by its name, a port by its
// containerPort) when it has one, so that the same element is found in a
// base file, a strategic-merge patch and the rendered output alike.
type segment struct {
	key     string
	index   int
	isIndex bool
	// mergeKey and mergeValue name a list element ("name", "web").
	mergeKey, mergeValue string
}

// mergeKeys are the fields that identify list elements in Kubernetes
// objects, in the order they are tried.
var mergeKeys = []string{"name", "containerPort", "mountPath", "devicePath", "ip", "topologyKey"}

// semantic converts a path over the rendered object into segments, and
// returns how many leading segments exist in the object (the nearest
// existing parent of a missing field).
func semantic(obj any, p Path) (segs []segment, existing int) {
	segs = make([]segment, 0, len(p))
	cur, ok := obj, true
	for _, s := range p {
		var seg segment
		switch s := s.(type) {
		case string:
			seg.key = s
			if ok {
				m, isMap := cur.(map[string]any)
				cur, ok = m[s]
				ok = ok && isMap
			}
		case int:
			seg.index, seg.isIndex = s, true
			if ok {
				l, isList := cur.([]any)
				if ok = isList && s >= 0 && s < len(l); ok {
					cur = l[s]
					if m, isMap := cur.(map[string]any); isMap {
						for _, k := range mergeKeys {
							if v, has := m[k]; has {
								seg.mergeKey, seg.mergeValue = k, scalarString(v)
								break
							}
						}
					}
				}
			}
		default:
			ok = false
		}
		segs = append(segs, seg)
		if ok {
			existing++
		}
	}
	return segs, existing
}

func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}

// walk follows segments through a YAML node tree. It returns the node that
// marks the deepest step found (the key node for a mapping entry, the element
// for a list element), the value there, and how many segments were found.
func walk(root *yaml.Node, segs []segment) (mark, value *yaml.Node, found int) {
	mark, value = root, deref(root)
	for _, s := range segs {
		var m, v *yaml.Node
		if s.isIndex {
			m = element(value, s)
			v = deref(m)
		} else {
			m, v = mapValue(value, s.key)
		}
		if m == nil {
			return mark, value, found
		}
		mark, value = m, v
		found++
	}
	return mark, value, found
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return deref(n.Content[0])
	}
	return n
}

// mapValue finds key in a mapping node (merge keys included): the key node
// and its value.
func mapValue(n *yaml.Node, key string) (k, v *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i].Kind == yaml.ScalarNode {
			return n.Content[i], deref(n.Content[i+1])
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "<<" && n.Content[i].ShortTag() == "!!merge" {
			src := deref(n.Content[i+1])
			srcs := []*yaml.Node{src}
			if src != nil && src.Kind == yaml.SequenceNode {
				srcs = src.Content
			}
			for _, s := range srcs {
				if k, v := mapValue(deref(s), key); k != nil {
					return k, v
				}
			}
		}
	}
	return nil, nil
}

// element finds a list element by its merge key, or else by index.
func element(n *yaml.Node, s segment) *yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	if s.mergeKey != "" {
		for _, e := range n.Content {
			if _, v := mapValue(deref(e), s.mergeKey); v != nil && v.Kind == yaml.ScalarNode && v.Value == s.mergeValue {
				return e
			}
		}
		return nil
	}
	if s.index >= 0 && s.index < len(n.Content) {
		return n.Content[s.index]
	}
	return nil
}

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
