package load

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
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

// FuzzDecodeWhole: decoding a stream with one decoder, when decodeStream
// does, reads exactly what decoding it document by document reads: the
// same values, errors and node positions.
func FuzzDecodeWhole(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte("a: 1\n%YAML 1.1\n---\nb: 2\n"))
	f.Add([]byte("a: &x 1\n---\nb: *x\n"))
	f.Add([]byte("a: 1\n...\n---\nb: [\n---\nc: 3\n"))
	f.Add([]byte("# only a comment\n---\n---\nkind: A\n--- !!map\nkind: B\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sameDecoding(t, "input", data)
	})
}

// TestDecodeWholeMatchesDocuments holds FuzzDecodeWhole's property on every
// manifest of the repository's test data and fixtures, and of the shared
// corpus when it is there.
func TestDecodeWholeMatchesDocuments(t *testing.T) {
	n := 0
	for _, root := range []string{"testdata", "../fixtures", "../../shared/corpus"} {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			switch filepath.Ext(path) {
			case ".yaml", ".yml", ".json":
			default:
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil || len(data) > 1<<20 {
				return nil
			}
			n++
			sameDecoding(t, path, data)
			return nil
		})
	}
	if n < 50 {
		t.Fatalf("only %d manifests compared", n)
	}
}

func sameDecoding(t *testing.T, name string, data []byte) {
	t.Helper()
	if bytes.HasPrefix(data, []byte{0xfe, 0xff}) || bytes.HasPrefix(data, []byte{0xff, 0xfe}) {
		return // refused as UTF-16 before either way of decoding
	}
	lim := Limits{MaxFileBytes: 1 << 20, MaxNodes: 10_000}
	docs, errs := decodeStream(data, lim)
	wantDocs, wantErrs := decodeDocuments(data, lim)
	if !reflect.DeepEqual(errs, wantErrs) {
		t.Errorf("%s: errors %v, document by document %v", name, errs, wantErrs)
	}
	if len(docs) != len(wantDocs) {
		t.Fatalf("%s: %d documents, document by document %d", name, len(docs), len(wantDocs))
	}
	for i := range docs {
		if !reflect.DeepEqual(docs[i].value, wantDocs[i].value) {
			t.Errorf("%s: document %d is %v, document by document %v", name, i, docs[i].value, wantDocs[i].value)
		}
		if diff := nodeDiff(docs[i].node, wantDocs[i].node); diff != "" {
			t.Errorf("%s: document %d: %s", name, i, diff)
		}
	}
}

// nodeDiff is where two node trees differ in what kubegate reads of them
// (kinds, tags, values, positions, aliases' targets); "" when nowhere.
func nodeDiff(a, b *yaml.Node) string {
	switch {
	case a == nil || b == nil:
		if a != b {
			return "one node is missing"
		}
		return ""
	case a.Kind != b.Kind || a.Tag != b.Tag || a.Value != b.Value || a.Line != b.Line || a.Column != b.Column || a.Anchor != b.Anchor || len(a.Content) != len(b.Content):
		return fmt.Sprintf("node %v:%d:%d %q differs from %v:%d:%d %q", a.Kind, a.Line, a.Column, a.Value, b.Kind, b.Line, b.Column, b.Value)
	case a.Kind == yaml.AliasNode:
		if a.Alias == nil || b.Alias == nil || a.Alias.Line != b.Alias.Line || a.Alias.Column != b.Alias.Column {
			return fmt.Sprintf("alias at %d:%d leads elsewhere", a.Line, a.Column)
		}
	}
	for i := range a.Content {
		if d := nodeDiff(a.Content[i], b.Content[i]); d != "" {
			return d
		}
	}
	return ""
}
