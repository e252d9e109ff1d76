package load

import (
	"go.yaml.in/yaml/v3"

	"github.com/kubegate/kubegate/finding"
)

// Source records where a resource's fields were written: the document that
// declares it, then every layer (patch, transformer entry) kustomize applied
// on top, in application order.
type Source struct {
	File   string   // display path of the declaring file
	pos    *posNode // the resource's root node in File: its positions
	Layers []layer
	// chart is set when a chart rendered the declaring document: its
	// positions are then found through the chart's templates and values.
	chart *chartDoc
}

// claim is how a layer relates to a field.
type claim int

const (
	claimNone     claim = iota
	claimContains       // the layer writes something inside the field
	claimSets           // the layer writes the field's value
)

// layer is one patch or transformer entry that may have written fields.
type layer interface {
	// find tells whether the layer wrote the field at segs, and where.
	find(segs []segment) (claim, finding.Location)
}

// Locate maps a field path over the rendered object to the place a person
// edits: the last layer that set the field; else the declaring document, at
// the field or, when the field is missing, at its nearest existing parent;
// else the layer that introduced that parent.
func (s *Source) Locate(obj any, p Path) finding.Location {
	at, _ := s.Where(obj, p)
	return at
}

// Where is Locate with the other places a person should see: for a value
// a chart's template copied from the values, the template line; for a line
// of a named template, the lines that included it.
func (s *Source) Where(obj any, p Path) (finding.Location, []finding.Location) {
	segs, existing := semantic(obj, p)
	target := segs[:existing]
	introducer := -1
	var introLoc finding.Location
	for i := len(s.Layers) - 1; i >= 0; i-- {
		c, loc := s.Layers[i].find(target)
		switch c {
		case claimSets:
			return loc, nil
		case claimContains:
			introducer, introLoc = i, loc
		}
	}
	mark, found := walkPos(s.pos, target)
	if found < len(target) && introducer >= 0 {
		return introLoc, nil
	}
	if s.chart != nil {
		// The first key the object lacks, when a field is missing: a
		// values mapping may be where to write it.
		missing := ""
		if found < len(segs) && !segs[found].isIndex {
			missing = segs[found].key
		}
		return s.chart.locate(target[:found], missing)
	}
	if s.pos == nil {
		return finding.Location{File: s.File}, nil
	}
	return finding.Location{File: s.File, Line: int(mark.line), Column: int(mark.col)}, nil
}

func nodeLocation(file string, n *yaml.Node) finding.Location {
	if n == nil {
		return finding.Location{File: file}
	}
	return finding.Location{File: file, Line: n.Line, Column: n.Column}
}

// smpLayer is one strategic-merge patch document.
type smpLayer struct {
	file string
	node *yaml.Node
}

func (l smpLayer) find(segs []segment) (claim, finding.Location) {
	mark, value, found := walk(l.node, segs)
	if found < len(segs) {
		return claimNone, finding.Location{}
	}
	if value != nil && value.Kind == yaml.MappingNode {
		if _, d := mapValue(value, "$patch"); d == nil || d.Value != "replace" {
			return claimContains, nodeLocation(l.file, mark)
		}
	}
	return claimSets, nodeLocation(l.file, mark)
}

// jsonPatchOp is one RFC 6902 operation that writes a value.
type jsonPatchOp struct {
	path  []segment
	value *yaml.Node // the operation's value (nil for move/copy)
	mark  *yaml.Node // where to point for the operation as a whole
}

// jsonPatchLayer is a JSON 6902 patch: its writing operations in order.
type jsonPatchLayer struct {
	file string
	ops  []jsonPatchOp
}

func (l jsonPatchLayer) find(segs []segment) (claim, finding.Location) {
	for i := len(l.ops) - 1; i >= 0; i-- {
		op := l.ops[i]
		n := len(op.path)
		switch {
		case n <= len(segs) && segsEqual(op.path, segs[:n]):
			if n == len(segs) || op.value == nil {
				return claimSets, nodeLocation(l.file, op.mark)
			}
			if mark, _, found := walk(op.value, segs[n:]); found == len(segs)-n {
				return claimSets, nodeLocation(l.file, mark)
			}
		case n > len(segs) && segsEqual(op.path[:len(segs)], segs):
			return claimContains, nodeLocation(l.file, op.mark)
		}
	}
	return claimNone, finding.Location{}
}

// fieldLayer is a transformer entry in a kustomization (images, replicas,
// namespace ...) that sets specific fields.
type fieldLayer struct {
	file   string
	fields []fieldSet
}

type fieldSet struct {
	path []segment
	mark *yaml.Node
}

func (l fieldLayer) find(segs []segment) (claim, finding.Location) {
	for i := len(l.fields) - 1; i >= 0; i-- {
		if f := l.fields[i]; segsEqual(f.path, segs) {
			return claimSets, nodeLocation(l.file, f.mark)
		}
	}
	return claimNone, finding.Location{}
}

func segsEqual(a, b []segment) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.isIndex != y.isIndex || x.key != y.key {
			return false
		}
		if x.isIndex {
			if x.mergeKey != "" && y.mergeKey != "" {
				if x.mergeKey != y.mergeKey || x.mergeValue != y.mergeValue {
					return false
				}
			} else if x.index != y.index {
				return false
			}
		}
	}
	return true
}
