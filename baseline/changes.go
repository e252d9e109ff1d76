package baseline

import (
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/load"
)

// Changes lists the rendered resources head adds, removes or modifies
// against base, compared as data: kustomize's and kubectl's bookkeeping
// annotations are ignored, list elements are matched by their merge key
// (name, mountPath, containerPort, ...) rather than by position, and a
// Secret's values are never carried, only which of its keys changed.
//
// A resource is paired with the one of the same identity that the same
// unit (kustomization, chart, file) rendered; what is left is paired by
// identity alone, in order (a file renamed, a base moved), and the rest is
// added or removed. The same name in two units is two resources: a plain
// manifest and a kustomize base that both declare Deployment web.
func Changes(head, base []*load.Resource) []finding.Change {
	type unitKey struct {
		res  resourceKey
		unit string
	}
	before := map[unitKey][]int{}
	for i, r := range base {
		k := unitKey{resourceKeyOf(r.ID()), r.Unit}
		before[k] = append(before[k], i)
	}
	pair := make([]int, len(head)) // head index -> base index, or -1
	used := make([]bool, len(base))
	for i, r := range head {
		pair[i] = -1
		k := unitKey{resourceKeyOf(r.ID()), r.Unit}
		if js := before[k]; len(js) > 0 {
			pair[i], used[js[0]] = js[0], true
			before[k] = js[1:]
		}
	}
	left := map[resourceKey][]int{}
	for j, r := range base {
		if !used[j] {
			k := resourceKeyOf(r.ID())
			left[k] = append(left[k], j)
		}
	}
	for i, r := range head {
		if pair[i] >= 0 {
			continue
		}
		k := resourceKeyOf(r.ID())
		if js := left[k]; len(js) > 0 {
			pair[i], used[js[0]] = js[0], true
			left[k] = js[1:]
		}
	}
	out := []finding.Change{}
	for i, r := range head {
		id := r.ID()
		if pair[i] < 0 {
			out = append(out, finding.Change{Resource: id, Change: "added", Unit: r.Unit})
			continue
		}
		d := differ{secret: isSecret(id)}
		d.diff(load.Path{}, clean(base[pair[i]].Object), clean(r.Object))
		if len(d.values) == 0 {
			continue
		}
		c := finding.Change{Resource: id, Change: "modified", Unit: r.Unit, Values: d.values}
		for _, v := range d.values {
			c.Fields = append(c.Fields, v.Field)
		}
		out = append(out, c)
	}
	for j, r := range base {
		if !used[j] {
			out = append(out, finding.Change{Resource: r.ID(), Change: "removed", Unit: r.Unit})
		}
	}
	return out
}

func isSecret(id finding.Resource) bool { return id.Kind == "Secret" && group(id.APIVersion) == "" }

// bookkeeping are annotation prefixes that tools write, not people.
var bookkeeping = []string{"config.kubernetes.io/", "internal.config.kubernetes.io/", "kustomize.config.k8s.io/", "config.k8s.io/", "kubectl.kubernetes.io/last-applied-configuration"}

// clean is the object without its bookkeeping annotations (a shallow copy
// where it differs).
func clean(obj map[string]any) map[string]any {
	meta, _ := obj["metadata"].(map[string]any)
	ann, _ := meta["annotations"].(map[string]any)
	drop := false
	for k := range ann {
		drop = drop || slices.ContainsFunc(bookkeeping, func(p string) bool { return strings.HasPrefix(k, p) })
	}
	if !drop {
		return obj
	}
	kept := map[string]any{}
	for k, v := range ann {
		if !slices.ContainsFunc(bookkeeping, func(p string) bool { return strings.HasPrefix(k, p) }) {
			kept[k] = v
		}
	}
	m := make(map[string]any, len(meta))
	for k, v := range meta {
		m[k] = v
	}
	if len(kept) > 0 {
		m["annotations"] = kept
	} else {
		delete(m, "annotations")
	}
	o := make(map[string]any, len(obj))
	for k, v := range obj {
		o[k] = v
	}
	o["metadata"] = m
	return o
}

// differ collects the fields that differ between two objects.
type differ struct {
	secret bool
	values []finding.ChangedValue
}

// absent marks a side that has no value.
type absent struct{}

func (d *differ) diff(p load.Path, a, b any) {
	switch x := a.(type) {
	case map[string]any:
		if y, ok := b.(map[string]any); ok {
			keys := make([]string, 0, len(x)+len(y))
			for k := range x {
				keys = append(keys, k)
			}
			for k := range y {
				if _, ok := x[k]; !ok {
					keys = append(keys, k)
				}
			}
			slices.Sort(keys)
			for _, k := range keys {
				av, aok := x[k]
				bv, bok := y[k]
				switch {
				case !aok:
					d.add(append(slices.Clip(p), k), absent{}, bv)
				case !bok:
					d.add(append(slices.Clip(p), k), av, absent{})
				default:
					d.diff(append(slices.Clip(p), k), av, bv)
				}
			}
			return
		}
	case []any:
		if y, ok := b.([]any); ok {
			d.list(p, x, y)
			return
		}
	}
	if !reflect.DeepEqual(a, b) {
		d.add(p, a, b)
	}
}

// mergeKeys are the keys that identify list elements, in the order tried
// (Kubernetes' strategic-merge keys for the lists manifests hold).
var mergeKeys = []string{"name", "mountPath", "containerPort", "port", "ip", "topologyKey", "devicePath"}

// list compares two lists: by a merge key when every element of both has
// a distinct scalar one, else by position.
func (d *differ) list(p load.Path, a, b []any) {
	if k := mergeKey(a, b); k != "" {
		index := map[any]int{}
		for i, e := range a {
			index[e.(map[string]any)[k]] = i
		}
		matched := make([]bool, len(a))
		for j, e := range b {
			i, ok := index[e.(map[string]any)[k]]
			if !ok {
				d.add(append(slices.Clip(p), j), absent{}, e)
				continue
			}
			matched[i] = true
			d.diff(append(slices.Clip(p), j), a[i], e)
		}
		for i, e := range a {
			if !matched[i] {
				d.add(append(slices.Clip(p), i), e, absent{})
			}
		}
		return
	}
	for i := range max(len(a), len(b)) {
		switch {
		case i >= len(a):
			d.add(append(slices.Clip(p), i), absent{}, b[i])
		case i >= len(b):
			d.add(append(slices.Clip(p), i), a[i], absent{})
		default:
			d.diff(append(slices.Clip(p), i), a[i], b[i])
		}
	}
}

func mergeKey(a, b []any) string {
	if len(a) == 0 || len(b) == 0 {
		return ""
	}
next:
	for _, k := range mergeKeys {
		for _, l := range [][]any{a, b} {
			seen := map[any]bool{}
			for _, e := range l {
				m, ok := e.(map[string]any)
				if !ok {
					return ""
				}
				v, ok := m[k]
				if !ok {
					continue next
				}
				switch v.(type) {
				case string, int, int64, float64, bool:
				default:
					continue next
				}
				if seen[v] {
					continue next
				}
				seen[v] = true
			}
		}
		return k
	}
	return ""
}

func (d *differ) add(p load.Path, before, after any) {
	v := finding.ChangedValue{Field: p.String()}
	if d.secret && len(p) > 0 && (p[0] == "data" || p[0] == "stringData") {
		v.Hidden = true
	} else {
		v.Before, v.After = show(before), show(after)
	}
	d.values = append(d.values, v)
}

// show writes a value for people: scalars as they are, the rest as compact
// JSON, long values elided.
func show(v any) string {
	var s string
	switch x := v.(type) {
	case absent:
		return ""
	case string:
		s = cmp.Or(x, `""`)
	case nil:
		s = "null"
	case map[string]any, []any:
		b, err := json.Marshal(x)
		if err != nil {
			s = fmt.Sprint(x)
		} else {
			s = string(b)
		}
	default:
		s = fmt.Sprint(x)
	}
	const most = 80
	if r := []rune(s); len(r) > most {
		s = string(r[:most-1]) + "…"
	}
	return s
}
