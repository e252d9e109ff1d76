package helm

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

// Values is one source of values for a rendering, over the chart's
// values.yaml: a values file, or values written inline (in .kubegate.yaml
// or a kustomization's helmCharts entry).
type Values struct {
	// File is the display path positions point into.
	File string
	// Node is the mapping of values, with positions in File.
	Node *yaml.Node
	// Data is the values as Helm reads them.
	Data map[string]any
}

// ReadValues reads a values file as Helm does (every document merged), and
// keeps its positions. A file that does not parse is an error at its line.
func ReadValues(file string, data []byte) (Values, error) {
	v := Values{File: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return v, &Problem{File: file, Line: yamlErrorLine(err), Message: "values do not parse: " + err.Error()}
	}
	v.Node = mappingOf(&doc)
	m, err := loader.LoadValues(bytes.NewReader(data))
	if err != nil {
		return v, &Problem{File: file, Message: "values do not parse: " + err.Error()}
	}
	v.Data = m
	return v, nil
}

// InlineValues reads values written as a mapping inside another file.
func InlineValues(file string, n *yaml.Node) (Values, error) {
	v := Values{File: file, Node: mappingOf(n), Data: map[string]any{}}
	if v.Node == nil {
		if n != nil && n.Kind != 0 && n.ShortTag() != "!!null" {
			return v, &Problem{File: file, Line: n.Line, Message: "inline values must be a mapping"}
		}
		return v, nil
	}
	data, err := yaml.Marshal(v.Node)
	if err != nil {
		return v, &Problem{File: file, Line: n.Line, Message: err.Error()}
	}
	m, err := loader.LoadValues(bytes.NewReader(data))
	if err != nil {
		return v, &Problem{File: file, Line: n.Line, Message: "values do not parse: " + err.Error()}
	}
	v.Data = m
	return v, nil
}

func mappingOf(n *yaml.Node) *yaml.Node {
	for n != nil && (n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			return nil
		}
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	return n
}

// yamlErrorLine reads the line of a yaml.v3 error ("yaml: line 7: ..."),
// 0 when it names none.
func yamlErrorLine(err error) int {
	var line int
	if _, err := fmt.Sscanf(err.Error(), "yaml: line %d:", &line); err == nil {
		return line
	}
	return 0
}

// layer is one values source with positions, applying at a prefix of the
// top-level values: a subchart's values.yaml applies under its name.
type layer struct {
	file, inArchive string
	root            *yaml.Node
	prefix          []string
}

// Pos is a place in a file a person edits (or in an archive, which they
// do not: the inArchive name says where inside it).
type Pos struct {
	File, InArchive string
	Line, Col       int
}

// setBy finds the values line that set the value at path (keys of the
// top-level values, indices of lists): the highest layer that writes it.
// A subchart's global.X is also set by its parents' global.X.
func setBy(layers []layer, path []any) (Pos, bool) {
	for i := len(layers) - 1; i >= 0; i-- {
		l := layers[i]
		if rest, ok := under(path, l.prefix); ok {
			if n := walkValues(l.root, rest); n != nil {
				return Pos{File: l.file, InArchive: l.inArchive, Line: n.Line, Col: n.Column}, true
			}
		}
		// A parent's global reaches every subchart below it.
		for k := len(l.prefix); k < len(path); k++ {
			if s, _ := path[k].(string); s == "global" {
				if _, ok := under(path[:k], l.prefix); ok {
					if n := walkValues(l.root, path[k:]); n != nil {
						return Pos{File: l.file, InArchive: l.inArchive, Line: n.Line, Col: n.Column}, true
					}
				}
				break
			}
		}
	}
	return Pos{}, false
}

func under(path []any, prefix []string) ([]any, bool) {
	if len(path) < len(prefix) {
		return nil, false
	}
	for i, p := range prefix {
		if s, _ := path[i].(string); s != p {
			return nil, false
		}
	}
	return path[len(prefix):], true
}

// walkValues follows path through a values node; it returns the key node
// (or list element) of the last step, nil when the path is not written.
func walkValues(n *yaml.Node, path []any) *yaml.Node {
	mark := n
	for _, p := range path {
		n = deref(n)
		if n == nil {
			return nil
		}
		switch p := p.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return nil
			}
			var found bool
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					mark, n, found = n.Content[i], n.Content[i+1], true
				}
			}
			if !found {
				return nil
			}
		case int:
			if n.Kind != yaml.SequenceNode || p < 0 || p >= len(n.Content) {
				return nil
			}
			mark, n = n.Content[p], n.Content[p]
		default:
			return nil
		}
	}
	return mark
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// Leaf is one value of the rendering's values (a scalar, a mapping or a
// list), by its path.
type Leaf struct {
	Path  []any
	Value any
}

// leaves lists every value under v, parents before children, at most max.
func leaves(v any, max int) []Leaf {
	var out []Leaf
	var walk func(path []any, v any)
	walk = func(path []any, v any) {
		if len(out) >= max {
			return
		}
		out = append(out, Leaf{Path: path, Value: v})
		switch v := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(v) {
				walk(append(path[:len(path):len(path)], k), v[k])
			}
		case []any:
			for i, x := range v {
				walk(append(path[:len(path):len(path)], i), x)
			}
		}
	}
	walk(nil, v)
	return out
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// PathString writes a values path as a person writes it: image.tag,
// env[0].value.
func PathString(path []any) string {
	var b bytes.Buffer
	for _, p := range path {
		switch p := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		case int:
			b.WriteString("[" + strconv.Itoa(p) + "]")
		}
	}
	return b.String()
}
