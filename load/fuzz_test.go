package load

import (
	"bytes"
	"testing"
)

// lineCount counts lines as YAML (and editors) do: CR, LF and CRLF all
// end a line.
func lineCount(data []byte) int {
	return bytes.Count(bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n")), []byte("\n")) + 1
}

var fuzzSeeds = []string{
	"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: a\n      image: x\n",
	"---\n---\napiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n",
	"a: &x [1, 2]\nb: *x\nc: {<<: {d: 1}}\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n   labels: {}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\n",
	`{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j"}}`,
	"\t- bad\n",
	"x: *missing\n",
	"{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"ConfigMap\",\n}\n",
	"apiVersion: v1\nkind: ConfigMap\ndata:\n  k: \"caf\xe9\"\n\x00\n",
	"a:\n\tb: 1\n",
	"a: \"x\u2028y\"\nb: [1,\u0085 2]\nc: *d\n",
	"\xfe\xff\x00a\x00:\x00 \x001\x00\n",
	"--- |\n  text\n...\n",
}

// FuzzDecode: any bytes decode without panicking, and every error and every
// document names a line inside the input.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := lineCount(data)
		docs, errs := decodeStream(data, Limits{MaxFileBytes: 1 << 20, MaxNodes: 10_000})
		for _, e := range errs {
			if e.line < 1 || e.line > lines {
				t.Errorf("error %q at line %d of a %d-line input", e.msg, e.line, lines)
			}
		}
		for _, d := range docs {
			if d.node.Line < 1 || d.node.Line > lines {
				t.Errorf("document at line %d of a %d-line input", d.node.Line, lines)
			}
		}
		// Files named .json are also checked as strict JSON.
		if e := checkJSON(data); e != nil && (e.line < 1 || e.line > lines) {
			t.Errorf("JSON error %q at line %d of a %d-line input", e.msg, e.line, lines)
		}
	})
}

// FuzzLocate: for any document and any path, Locate answers with a position
// inside the file (or line 0, unknown), never panics.
func FuzzLocate(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), "spec", 0, "securityContext")
	}
	f.Fuzz(func(t *testing.T, data []byte, k1 string, i int, k2 string) {
		lines := lineCount(data)
		docs, _ := decodeStream(data, Limits{MaxFileBytes: 1 << 20, MaxNodes: 10_000})
		for _, d := range docs {
			obj, _ := d.value.(map[string]any)
			r := &Resource{Object: obj, Source: &Source{File: "f.yaml", pos: compact(d.node)}}
			for _, p := range []Path{nil, {k1}, {k1, i}, {k1, i, k2}, {k1, k2, i}} {
				loc := r.Locate(p)
				if loc.File != "f.yaml" || loc.Line < 0 || loc.Line > lines {
					t.Errorf("Locate(%v) = %+v in a %d-line input", p, loc, lines)
				}
				_ = p.String()
			}
		}
	})
}
