package helm

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"text/template"
)

// execute renders a template the way Helm's engine does (include, missing
// keys as zero values), with a few text functions, over fixed data.
func execute(src string, extra template.FuncMap) (string, error) {
	t := template.New("t").Option("missingkey=zero")
	depth := 0
	funcs := template.FuncMap{
		// include stops where Helm's does (1,000 nested includes): a
		// template that includes itself is an error, not a stack overflow.
		"include": func(name string, data any) (string, error) {
			if depth++; depth > 1000 {
				return "", fmt.Errorf("include %q: nested too deep", name)
			}
			defer func() { depth-- }()
			var b strings.Builder
			err := t.ExecuteTemplate(&b, name, data)
			return b.String(), err
		},
		"nindent": func(n int, s string) string {
			return "\n" + strings.Repeat(" ", n) + strings.ReplaceAll(s, "\n", "\n"+strings.Repeat(" ", n))
		},
		"indent": func(n int, s string) string {
			return strings.Repeat(" ", n) + strings.ReplaceAll(s, "\n", "\n"+strings.Repeat(" ", n))
		},
		"upper": strings.ToUpper,
		"trim":  strings.TrimSpace,
		"quote": func(s string) string { return `"` + s + `"` },
		"tpl":   func(s string, _ any) string { return s },
	}
	for k, v := range extra {
		funcs[k] = v
	}
	if _, err := t.Funcs(funcs).Parse(src); err != nil {
		return "", err
	}
	data := map[string]any{"Values": map[string]any{
		"a": "x", "n": 3, "b": true, "list": []any{1, "two", 3}, "m": map[string]any{"k": "v", "j": "w"}, "multi": "a: 1\nb: 2",
	}}
	var b strings.Builder
	err := t.Execute(&b, data)
	return strings.ReplaceAll(b.String(), "<no value>", ""), err
}

// consumers are text/template's built-in functions that read text rather
// than copy it: given marked text, they compute something else (which the
// marked rendering then does too, and kubegate's trust checks catch).
var consumers = regexp.MustCompile(`\b(len|eq|ne|lt|le|gt|ge|index|slice|call|html|js|urlquery|and|or|not|printf|print|println)\b`)

// checkRewrite renders a template in its original and both rewritten
// forms: the bounded form must render exactly what the original does, and
// the marked form, markers taken out, too (unless a function reads the
// marked text).
func checkRewrite(t *testing.T, src string) {
	orig, err := execute(src, nil)
	if err != nil {
		return // only templates that render are compared
	}
	s := newSites()
	rw := rewriteTemplate(source{name: "t", text: src, file: "t.yaml"}, s)
	if !rw.ok {
		t.Fatalf("text/template parses %q; the rewriter does not", src)
	}
	// As the engine makes it (the heap sample included: a budget without
	// it failed the 16th tick), with no deadline to race.
	b := newBudget(DefaultLimits, s)
	b.deadline = b.deadline.AddDate(100, 0, 0)
	funcs := template.FuncMap{"__kg_tick": b.tick, "__kg_tpl": b.tplGuard, "__kg_mark": func(_ int, v any) any { return v }, "__kg_first": func(_, s string) string { return s }}
	bounded, err := execute(rw.bounded, funcs)
	if err != nil || bounded != orig {
		t.Fatalf("template %q\nbounded form %q\nrenders %q (%v)\nthe original %q", src, rw.bounded, bounded, err, orig)
	}
	funcs["__kg_mark"], funcs["__kg_first"] = markLines, s.markFirst
	marked, err := execute(rw.marked, funcs)
	if err != nil {
		t.Fatalf("template %q\nmarked form %q\nfails: %v", src, rw.marked, err)
	}
	if got := stripMarkers(marked).text; got != orig && !consumers.MatchString(src) {
		t.Fatalf("template %q\nmarked form %q\nrenders %q without markers\nthe original %q", src, rw.marked, got, orig)
	}
}

var rewriteSeeds = []string{
	"a: 1\n{{- if .Values.b }}\n  b: {{ .Values.a }}\n{{- else if .Values.n }}\n  c: 2\n{{- end }}\n",
	"{{- define \"h\" -}}\nx: 1\ny: {{ .Values.a }}\n{{- end }}\nm:\n  {{- include \"h\" . | nindent 2 }}\n",
	"{{ range $i, $v := .Values.list }}{{ if eq $i 1 }}{{ continue }}{{ end }}- {{ $v }}\n{{ end }}",
	"{{ with .Values.m }}{{ .k }}{{ else }}none{{ end }}{{ with .Values.missing }}x{{ else with .Values.m }}{{ .j }}{{ end }}",
	"{{ block \"b\" . }}B {{ .Values.a }}{{ end }}\n{{ template \"b\" . }}",
	"{{/* a comment */}}\n  {{- .Values.multi | nindent 4 }}\nk: {{ `raw\nstring` }}\n",
	"{{ $x := .Values.a }}{{ $x = upper $x }}{{ $x }}{{ range 3 }}.{{ end }}{{ range until 0 }}{{ end }}",
	"{{ tpl .Values.a . }}{{ define \"empty\" }}   {{ end }}{{ include \"empty\" . }}",
	"key: |\n  {{- .Values.multi | nindent 2 }}\n---\nnext: {{ .Values.n }}\n",
}

func TestRewriteKeepsOutput(t *testing.T) {
	seeds := append([]string{}, rewriteSeeds...)
	// And every template of the test charts.
	filepath.WalkDir("../../testdata/charts", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, "/templates/") {
			if data, err := os.ReadFile(p); err == nil {
				seeds = append(seeds, string(data))
			}
		}
		return nil
	})
	for _, s := range seeds {
		checkRewrite(t, s)
	}
}

// FuzzRewrite: for any template, the rewritten forms render what the
// original renders (see checkRewrite).
func FuzzRewrite(f *testing.F) {
	for _, s := range rewriteSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4096 {
			return
		}
		checkRewrite(t, src)
	})
}

// FuzzStripMarkers: markers put into any text that holds no marker
// characters come out again, with that text and where each one stood; and
// stripping any text at all never adds a marker character and gives
// offsets in order. (Stripping is not idempotent on text that already held
// marker characters: "⟦0⟦0⟧⟧" is "⟦0" and "⟧" around a marker, and the text
// left, "⟦0⟧", is what the chart wrote.)
func FuzzStripMarkers(f *testing.F) {
	f.Add("a⟦1⟧b⟦+⟧c⟦22⟧⟦-⟧d⟦x⟧⟦", []byte{0, 3, 3, 200})
	f.Add("⟦0⟦0⟧⟧", []byte{1})
	f.Add("key: value\n  other: ⟦", []byte{5, 9, 255})
	f.Fuzz(func(t *testing.T, s string, at []byte) {
		m := stripMarkers(s)
		if strings.Count(m.text, markOpen) > strings.Count(s, markOpen) {
			t.Fatalf("stripping %q added markers: %q", s, m.text)
		}
		for i, off := range m.offs {
			if off < 0 || off > len(m.text) || (i > 0 && off < m.offs[i-1]) {
				t.Fatalf("marker offsets %v out of order or range in %q", m.offs, m.text)
			}
		}

		// Round trip: plain text, markers at rune boundaries chosen by at.
		plain := strings.NewReplacer(markOpen, "", markClose, "").Replace(s)
		var bounds []int
		for i := range plain {
			bounds = append(bounds, i)
		}
		bounds = append(bounds, len(plain))
		var want []int
		for _, b := range at {
			want = append(want, bounds[int(b)%len(bounds)])
		}
		sort.Ints(want)
		var b strings.Builder
		last := 0
		for i, off := range want {
			b.WriteString(plain[last:off])
			b.WriteString(markerText(i))
			last = off
		}
		b.WriteString(plain[last:])
		got := stripMarkers(b.String())
		if got.text != plain {
			t.Fatalf("markers at %v in %q: stripped text %q", want, plain, got.text)
		}
		if len(got.offs) != len(want) {
			t.Fatalf("markers at %v in %q: found %v", want, plain, got.offs)
		}
		for i := range want {
			if got.offs[i] != want[i] || got.ids[i] != i {
				t.Fatalf("markers at %v in %q: found %v with ids %v", want, plain, got.offs, got.ids)
			}
		}
	})
}
