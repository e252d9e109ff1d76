package vm

// Lazy parts of the data document: a value made when a plan reads it, and
// dropped after, so that a document holding every resource of a run does
// not hold every resource's OPA value at once (issue 18: at 40,000
// resources those are about 300 MB).

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// Data is a data document some of whose values are lazy (see Lazy). The
// objects that hold a lazy value, directly or deeper, are its holders;
// they are marked with Hold as the document is built, and the document is
// not changed after the evaluations that read it begin, but for Insert.
type Data struct {
	Term    *ast.Term
	holders map[ast.Object]struct{}
}

// NewData is a data document whose root is t (an object).
func NewData(t *ast.Term) *Data {
	return &Data{Term: t, holders: map[ast.Object]struct{}{}}
}

// Hold marks o, an object of the document, as one that holds a lazy value
// (directly or deeper).
func (d *Data) Hold(o ast.Object) { d.holders[o] = struct{}{} }

// holds reports whether t is one of the document's holders.
func (d *Data) holds(t *ast.Term) bool {
	return d != nil && inSet(d.holders, t)
}

// inSet reports whether t is an object of set.
func inSet(set map[ast.Object]struct{}, t *ast.Term) bool {
	if len(set) == 0 || t == nil {
		return false
	}
	o, ok := t.Value.(ast.Object)
	if !ok {
		return false
	}
	_, ok = set[o]
	return ok
}

// Materialize is t with every lazy value in it made: what topdown, or
// anything else that reads OPA values, may be given.
func (d *Data) Materialize(t *ast.Term) *ast.Term {
	return materialize(t, d.holds)
}

func materialize(t *ast.Term, holds func(*ast.Term) bool) *ast.Term {
	if t == nil {
		return nil
	}
	if l, ok := t.Value.(*lazy); ok {
		return l.term()
	}
	if !holds(t) {
		return t
	}
	o := t.Value.(ast.Object)
	out := ast.NewObject()
	o.Foreach(func(k, v *ast.Term) {
		if v = materialize(v, holds); v != nil {
			out.Insert(k, v)
		}
	})
	return ast.NewTerm(out)
}

// Lazy is a value of the data document that force makes each time a plan
// reads it (a dot, or a scan of the object holding it), not kept. force
// must return the same value each time; nil makes the value undefined. The
// objects holding a lazy value must be marked with Data.Hold.
//
// The plan evaluator never lets a lazy value, or a holder, reach anything
// but itself: a built-in function, a comparison, or a value it builds (an
// array, set or object, a result) is given holders made whole
// (Materialize); the exceptions are the built-ins that read only keys, and
// object.get, which follows its path through them (objectGet).
func Lazy(force func() ast.Value) *ast.Term {
	return ast.NewTerm(&lazy{force: force})
}

type lazy struct {
	force func() ast.Value
}

// term makes the value; nil when force gives none.
func (l *lazy) term() *ast.Term {
	v := l.force()
	if v == nil {
		return nil
	}
	return ast.NewTerm(v)
}

// value is the made value, or null: the methods of ast.Value below serve
// only what reads a lazy value without the plan evaluator (an error
// message, say), which nothing of kubegate's does.
func (l *lazy) value() ast.Value {
	if v := l.force(); v != nil {
		return v
	}
	return ast.Null{}
}

func (l *lazy) Compare(other ast.Value) int {
	if o, ok := other.(*lazy); ok {
		other = o.value()
	}
	return ast.Compare(l.value(), other)
}
func (l *lazy) Find(path ast.Ref) (ast.Value, error) { return l.value().Find(path) }

// Hash does not make the value: an object's hash adds up its values'
// hashes as they are inserted, and the holders are built of lazy values.
// No lazy value, or holder, is hashed for a lookup: what is put in a set
// or used as a key is made whole first.
func (l *lazy) Hash() int { return 0 }

func (l *lazy) IsGround() bool    { return true }
func (l *lazy) String() string    { return l.value().String() }
func (l *lazy) StringLength() int { return l.value().StringLength() }

// keysOnly are the built-in functions that read an object's keys alone
// (or only its type), so may be given a holder as it is: a policy asking
// for the names of a namespace's Deployments makes none of them.
var keysOnly = map[string]bool{
	"object.keys": true,
	"count":       true,
	"is_object":   true,
	"type_name":   true,
}

// objectGet is object.get(obj, path, def) for obj a holder, as OPA's
// built-in does it (a path of one key unless it is an array; each step
// an object's key, an array's index or a set's member), making only the
// values on the path, and the one it reaches whole: a policy looking one
// resource up with object.get(data.kubegate.resources, [kind, ns, name], {})
// makes that resource, not all of them.
func (m *machine) objectGet(obj, path, def *ast.Term) *ast.Term {
	arr, ok := path.Value.(*ast.Array)
	if !ok {
		if v := force(obj.Get(path)); v != nil {
			return m.whole(v)
		}
		return def
	}
	curr := obj
	for i := range arr.Len() {
		if curr = force(curr.Get(arr.Elem(i))); curr == nil {
			return def
		}
	}
	return m.whole(curr)
}

// force is t made if it is a lazy value.
func force(t *ast.Term) *ast.Term {
	if t == nil {
		return nil
	}
	if l, ok := t.Value.(*lazy); ok {
		return l.term()
	}
	return t
}

// holds reports whether t holds lazy values: one of the document's
// holders, or an object merged from one in this evaluation.
func (m *machine) holds(t *ast.Term) bool {
	return m.data.holds(t) || inSet(m.merged, t)
}

// whole is t, a holder made whole, for anything that reads values.
func (m *machine) whole(t *ast.Term) *ast.Term {
	if !m.lazy || !m.holds(t) {
		return t
	}
	return materialize(t, m.holds)
}
