package load

import yaml "go.yaml.in/yaml/v3"

// posNode is a document as far as positions go: each node's line and
// column, a mapping's keys (with their positions) and values, a sequence's
// items, a scalar's value (list elements are found by the value of their
// merge key), aliases resolved. A resource keeps one for as long as the
// run, to place its findings; a yaml.Node keeps comments, tags, anchors and
// styles besides, and the resources' yaml.Node trees were about 45% of the
// live heap of a large run (6.9 KB a resource of the yardstick, against
// 2.3 KB as a posNode tree; the JSON reports are byte for byte the same).
// A mapping's plain scalar values are kept in their entries, without a
// node of their own (their positions are never asked for: a finding on a
// field is placed at its key): 1.4 KB a resource.
type posNode struct {
	line, col int32
	kind      yaml.Kind
	value     string     // a scalar's
	entries   []posEntry // a mapping's, in order
	items     []*posNode // a sequence's; a document's content; an alias's target
}

// posEntry is one key of a mapping.
type posEntry struct {
	key       string
	line, col int32 // the key's
	merge     bool  // a merge key (<<), whose value is merged in
	// value is the value's node; nil for a plain scalar, whose value is
	// scalar.
	value  *posNode
	scalar string
}

// scalarValue is the entry's value if it is a scalar.
func (e *posEntry) scalarValue() (string, bool) {
	if e.value == nil {
		return e.scalar, true
	}
	if v := e.value.deref(); v != nil && v.kind == yaml.ScalarNode {
		return v.value, true
	}
	return "", false
}

// compact makes the position tree of a YAML node (nil for nil).
func compact(n *yaml.Node) *posNode {
	return compactNode(n, map[*yaml.Node]*posNode{})
}

// compactNode makes n's tree; memo holds the anchored nodes made, which
// aliases name.
func compactNode(n *yaml.Node, memo map[*yaml.Node]*posNode) *posNode {
	if n == nil {
		return nil
	}
	if p, ok := memo[n]; ok {
		return p
	}
	p := &posNode{line: int32(n.Line), col: int32(n.Column), kind: n.Kind}
	if n.Anchor != "" {
		memo[n] = p
	}
	switch n.Kind {
	case yaml.ScalarNode:
		p.value = n.Value
	case yaml.AliasNode:
		p.items = []*posNode{compactNode(n.Alias, memo)}
	case yaml.DocumentNode, yaml.SequenceNode:
		p.items = make([]*posNode, len(n.Content))
		for i, c := range n.Content {
			p.items[i] = compactNode(c, memo)
		}
	case yaml.MappingNode:
		p.entries = make([]posEntry, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				continue // a complex key names no field
			}
			e := posEntry{
				key: k.Value, line: int32(k.Line), col: int32(k.Column),
				merge: k.Value == "<<" && k.ShortTag() == "!!merge",
			}
			if v := n.Content[i+1]; v.Kind == yaml.ScalarNode && v.Anchor == "" {
				e.scalar = v.Value
			} else {
				e.value = compactNode(v, memo)
			}
			p.entries = append(p.entries, e)
		}
	}
	return p
}

func (p *posNode) deref() *posNode {
	for i := 0; p != nil && p.kind == yaml.AliasNode && i < 100; i++ {
		p = p.items[0]
	}
	if p != nil && p.kind == yaml.DocumentNode && len(p.items) > 0 {
		return p.items[0].deref()
	}
	return p
}

// posMark is a found node's position: a mapping key's, or a list
// element's.
type posMark struct{ line, col int32 }

// walkPos is walk over a position tree: the position marking the deepest
// step found, and how many segments were found.
func walkPos(root *posNode, segs []segment) (mark posMark, found int) {
	if root == nil {
		return posMark{}, 0
	}
	mark, value := posMark{root.line, root.col}, root.deref()
	for _, s := range segs {
		var m posMark
		var v *posNode
		ok := false
		if s.isIndex {
			if e := value.element(s); e != nil {
				m, v, ok = posMark{e.line, e.col}, e.deref(), true
			}
		} else if e := value.entry(s.key); e != nil {
			m, v, ok = posMark{e.line, e.col}, e.value.deref(), true
		}
		if !ok {
			return mark, found
		}
		mark, value = m, v
		found++
	}
	return mark, found
}

// entry finds key in a mapping (merge keys included).
func (p *posNode) entry(key string) *posEntry {
	if p == nil || p.kind != yaml.MappingNode {
		return nil
	}
	for i := range p.entries {
		if e := &p.entries[i]; e.key == key {
			return e
		}
	}
	for i := range p.entries {
		if !p.entries[i].merge {
			continue
		}
		src := p.entries[i].value.deref()
		srcs := []*posNode{src}
		if src != nil && src.kind == yaml.SequenceNode {
			srcs = src.items
		}
		for _, s := range srcs {
			if e := s.deref().entry(key); e != nil {
				return e
			}
		}
	}
	return nil
}

// element finds a list element by its merge key, or else by index.
func (p *posNode) element(s segment) *posNode {
	if p == nil || p.kind != yaml.SequenceNode {
		return nil
	}
	if s.mergeKey != "" {
		for _, e := range p.items {
			if v := e.deref().entry(s.mergeKey); v != nil {
				if val, ok := v.scalarValue(); ok && val == s.mergeValue {
					return e
				}
			}
		}
		return nil
	}
	if s.index >= 0 && s.index < len(p.items) {
		return p.items[s.index]
	}
	return nil
}
