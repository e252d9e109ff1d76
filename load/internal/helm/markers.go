package helm

import (
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"strings"

	sigsyaml "sigs.k8s.io/yaml"
)

// A marker is ⟦ID⟧ (U+27E6, decimal site id, U+27E7): printable, so that
// quote, toJson, toYaml and printf %q copy it as it is; made of digits, so
// that upper and lower leave it alone; and not a character charts write.
const (
	markOpen  = "\u27e6"
	markClose = "\u27e7"
)

func markerText(id int) string { return markOpen + strconv.Itoa(id) + markClose }

// Printed regions: what a template file's own actions print is enclosed
// in ⟦+⟧ ... ⟦-⟧, so that a value written by the template's text (a
// literal in the branch of an if) is told from one it printed.
const (
	regionOpen  = markOpen + "+" + markClose
	regionClose = markOpen + "-" + markClose
)

// markLines is __kg_mark: it marks every line but the first of an action's
// multi-line output (after the indentation nindent or indent put there),
// and gives any other value back as it is.
func markLines(id int, v any) any {
	s, ok := v.(string)
	if !ok || !strings.Contains(s, "\n") {
		return v
	}
	return insertAfterNewlines(s, markerText(id), false)
}

// insertAfterNewlines puts m after the indentation of every line that has
// something on it: every line after the first, and the first too when
// first is set.
func insertAfterNewlines(s, m string, first bool) string {
	var b strings.Builder
	b.Grow(len(s) + 8*strings.Count(s, "\n"))
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		k := strings.IndexFunc(line, func(r rune) bool { return r != ' ' && r != '\t' && r != '\r' })
		if k < 0 || (i == 0 && !first) {
			b.WriteString(line)
			continue
		}
		b.WriteString(line[:k])
		b.WriteString(m)
		b.WriteString(line[k:])
	}
	return b.String()
}

// markFirst is __kg_first: it marks the first line of a named template's
// multi-line output with where that line is written in the template.
// Single-line output (a name, a label value) is never touched: charts
// compare and hash it.
func (s *sites) markFirst(name, out string) string {
	if !strings.Contains(strings.TrimSpace(out), "\n") {
		return out
	}
	id, ok := s.firstOf(name)
	if !ok {
		return out
	}
	k := strings.IndexFunc(out, notSpace)
	if k < 0 {
		return out
	}
	return out[:k] + markerText(id) + out[k:]
}

// marked is rendered output with its markers taken out: the text as it
// would be without them, and where each marker stood in that text.
type marked struct {
	text string
	offs []int // offset in text of each marker, ascending
	ids  []int
	// printed are the regions of text that actions printed, [start, end)
	// pairs, ascending by start.
	printed [][2]int
}

// stripMarkers takes the markers out of rendered text.
func stripMarkers(s string) *marked {
	m := &marked{}
	var open []int
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.Index(s, markOpen)
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		rest := s[i+len(markOpen):]
		if strings.HasPrefix(rest, "+"+markClose) {
			open = append(open, b.Len())
			s = rest[1+len(markClose):]
			continue
		}
		if strings.HasPrefix(rest, "-"+markClose) {
			if n := len(open); n > 0 {
				m.printed = append(m.printed, [2]int{open[n-1], b.Len()})
				open = open[:n-1]
			}
			s = rest[1+len(markClose):]
			continue
		}
		j := 0
		for j < len(rest) && j < 10 && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == 0 || !strings.HasPrefix(rest[j:], markClose) {
			b.WriteString(markOpen) // not one of ours
			s = rest
			continue
		}
		id, _ := strconv.Atoi(rest[:j])
		m.offs = append(m.offs, b.Len())
		m.ids = append(m.ids, id)
		s = rest[j+len(markClose):]
	}
	m.text = b.String()
	sort.Slice(m.printed, func(i, j int) bool { return m.printed[i][0] < m.printed[j][0] })
	return m
}

// printedIn reports whether an action printed anything in [start, end).
func (m *marked) printedIn(start, end int) bool {
	for _, r := range m.printed {
		if r[0] >= end {
			break
		}
		if r[1] > start && r[0] < end {
			return true
		}
	}
	return false
}

// at returns the markers in force at an offset of the stripped text: the
// group of markers written last before it, outermost first (an include's
// line, then the lines inside the named template). Nil when no marker
// precedes it.
func (m *marked) at(off int) []int {
	i := sort.SearchInts(m.offs, off+1) - 1
	if i < 0 {
		return nil
	}
	j := i
	for j > 0 && m.offs[j-1] == m.offs[i] {
		j--
	}
	return m.ids[j : i+1]
}

// copiesText are the functions that copy their text into their result,
// line by line, so that markers in it stay where the lines go. Every other
// function reads its arguments without markers in the marked rendering.
var copiesText = map[string]bool{
	"nindent": true, "indent": true, "trim": true, "trimAll": true, "trimall": true, "trimPrefix": true,
	"trimSuffix": true, "printf": true, "print": true, "println": true, "cat": true, "default": true,
	"toString": true, "replace": true, "quote": true, "squote": true, "upper": true, "lower": true,
	"title": true, "untitle": true, "join": true, "ternary": true, "coalesce": true,
}

// unmark removes every marker from s.
func unmark(s string) string {
	if !strings.Contains(s, markOpen) {
		return s
	}
	return stripMarkers(s).text
}

// stripArgs takes the markers out of a function's string arguments (and
// of strings directly in a list argument).
func stripArgs(args []reflect.Value) []reflect.Value {
	out := args
	for i, a := range args {
		v := a
		for v.Kind() == reflect.Interface && !v.IsNil() {
			v = v.Elem()
		}
		switch v.Kind() {
		case reflect.String:
			if s := v.String(); strings.Contains(s, markOpen) {
				if &out[0] == &args[0] {
					out = append([]reflect.Value(nil), args...)
				}
				out[i] = reflect.ValueOf(unmark(s)).Convert(a.Type())
			}
		case reflect.Slice:
			if v.Type().Elem().Kind() != reflect.String && v.Type().Elem().Kind() != reflect.Interface {
				continue
			}
			var changed reflect.Value
			for j := range v.Len() {
				e := v.Index(j)
				for e.Kind() == reflect.Interface && !e.IsNil() {
					e = e.Elem()
				}
				if e.Kind() == reflect.String && strings.Contains(e.String(), markOpen) {
					if !changed.IsValid() {
						changed = reflect.MakeSlice(v.Type(), v.Len(), v.Len())
						reflect.Copy(changed, v)
					}
					changed.Index(j).Set(reflect.ValueOf(unmark(e.String())).Convert(v.Type().Elem()))
				}
			}
			if changed.IsValid() {
				if &out[0] == &args[0] {
					out = append([]reflect.Value(nil), args...)
				}
				out[i] = changed
			}
		}
	}
	return out
}

// markerFreeHelmFuncs are Helm's parsing functions for the marked
// rendering: they parse the text without its markers, as Helm's own do
// (an error goes into the result's Error key, as in Helm).
var markerFreeHelmFuncs = map[string]any{
	"fromYaml": func(s string) map[string]any {
		m := map[string]any{}
		if err := sigsyaml.Unmarshal([]byte(unmark(s)), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	},
	"fromYamlArray": func(s string) []any {
		a := []any{}
		if err := sigsyaml.Unmarshal([]byte(unmark(s)), &a); err != nil {
			a = []any{err.Error()}
		}
		return a
	},
	"fromJson": func(s string) map[string]any {
		m := map[string]any{}
		if err := json.Unmarshal([]byte(unmark(s)), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	},
	"fromJsonArray": func(s string) []any {
		a := []any{}
		if err := json.Unmarshal([]byte(unmark(s)), &a); err != nil {
			a = []any{err.Error()}
		}
		return a
	},
}
