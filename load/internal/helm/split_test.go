package helm

import (
	"reflect"
	"regexp"
	"testing"
)

// helmSeparator is the expression Helm splits a release's manifests with
// (pkg/release/v1/util.SplitManifests): manifestSeps must find its matches.
var helmSeparator = regexp.MustCompile("(?:^|\\s*\n)---\\s*")

// FuzzManifestSeps: manifestSeps finds exactly the matches of Helm's
// expression, in any text.
func FuzzManifestSeps(f *testing.F) {
	for _, s := range []string{
		"",
		"---",
		"---\na: 1\n---\nb: 2\n",
		"a: 1\n   \n\t\n---   \n\n---\nb: 2",
		"\n---x\n----\n --- \n\r\n---\f\v\n---",
		"a: |\n  ---\n  text\n---\n",
		"# Source: c/templates/a.yaml\napiVersion: v1\n---\n# Source: c/templates/b.yaml\n",
		"   \n---",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want [][2]int
		for _, m := range helmSeparator.FindAllStringIndex(s, -1) {
			want = append(want, [2]int{m[0], m[1]})
		}
		if got := manifestSeps(s); !reflect.DeepEqual(got, want) {
			t.Errorf("manifestSeps(%q) = %v, Helm's expression matches %v", s, got, want)
		}
	})
}

// BenchmarkSplitManifests splits a rendered chart: 40 documents, with the
// indentation and blank lines templates leave.
func BenchmarkSplitManifests(b *testing.B) {
	doc := "# Source: chart/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    \n    app: web\n    \n    \nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          \n          image: web:1\n          \n          resources:\n            {}\n"
	var text string
	for range 40 {
		text += "---\n" + doc + "\n        \n      \n"
	}
	for b.Loop() {
		if docs, _ := splitManifests(text); len(docs) != 40 {
			b.Fatalf("%d documents", len(docs))
		}
	}
}
