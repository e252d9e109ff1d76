package load

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubegate/kubegate/finding"
)

func TestPathString(t *testing.T) {
	for _, tc := range []struct {
		p    Path
		want string
	}{
		{Path{"spec", "template", "spec", "containers", 0, "securityContext", "privileged"}, "spec.template.spec.containers[0].securityContext.privileged"},
		{Path{"metadata", "annotations", "container.apparmor.security.beta.kubernetes.io/web"}, `metadata.annotations["container.apparmor.security.beta.kubernetes.io/web"]`},
		{Path{}, ""},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.p, got, tc.want)
		}
	}
}

func loadString(t *testing.T, name, content string) *Result {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load([]string{name}, Options{WorkDir: dir})
}

const noObject = "no Kubernetes object in this file (a mapping with apiVersion and kind): nothing to check"

func TestDecodeEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name, file, content string
		resources           int
		errs                []finding.InputError
	}{
		// Named on the command line, a file with nothing to check is an
		// error (in a scanned directory it is skipped: see
		// TestScannedNonKubernetes).
		{name: "empty file", file: "a.yaml", content: "", errs: []finding.InputError{{File: "a.yaml", Message: noObject}}},
		{name: "empty documents", file: "a.yaml", content: "---\n---\n# only a comment\n---\n", errs: []finding.InputError{{File: "a.yaml", Message: noObject}}},
		{name: "not kubernetes", file: "values.yaml", content: "replicaCount: 3\nimage: {tag: x}\n", errs: []finding.InputError{{File: "values.yaml", Message: noObject}}},
		{name: "kind without apiVersion", file: "a.yaml", content: "\n\nkind: Pod\nmetadata: {name: x}\n",
			errs: []finding.InputError{{File: "a.yaml", Line: 3, Message: `Kubernetes object of kind "Pod" has no apiVersion`}}},
		{name: "scalar document", file: "a.yaml", content: "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\njust text\n",
			resources: 1, errs: []finding.InputError{{File: "a.yaml", Line: 5, Message: "document is not a Kubernetes object (a mapping with apiVersion and kind)"}}},
		{name: "duplicate key", file: "a.yaml", content: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n",
			errs: []finding.InputError{{File: "a.yaml", Line: 5, Message: `mapping key "name" is defined twice`}}},
		{name: "tab indentation", file: "a.yaml", content: "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: a\n",
			errs: []finding.InputError{{File: "a.yaml", Line: 4, Message: "yaml: found character that cannot start any token (a tab: YAML indents with spaces only)"}}},
		{name: "kustomization file read as a file", file: "k.yaml", content: "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"},
		{name: "JSON list", file: "l.json", content: `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}},{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}]}`,
			resources: 2},
		{name: "broken then good", file: "a.yaml", content: "apiVersion: v1\nkind: Pod\nmetadata: {name: [}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: ok}\n",
			resources: 1, errs: []finding.InputError{{File: "a.yaml", Line: 3, Message: "yaml: did not find expected node content"}}},
		{name: "unclosed block mapping", file: "a.yaml", content: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n labels: {}\n",
			errs: []finding.InputError{{File: "a.yaml", Line: 5, Message: "yaml: did not find expected key"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := loadString(t, tc.file, tc.content)
			if len(r.Resources) != tc.resources {
				t.Errorf("%d resources, want %d", len(r.Resources), tc.resources)
			}
			if len(r.Errors) != len(tc.errs) {
				t.Fatalf("errors %+v, want %+v", r.Errors, tc.errs)
			}
			for i := range tc.errs {
				if r.Errors[i] != tc.errs[i] {
					t.Errorf("error %+v, want %+v", r.Errors[i], tc.errs[i])
				}
			}
		})
	}
}

func TestAliasBombIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n")
	prev := "a"
	for i := 0; i < 9; i++ {
		name := string(rune('b' + i))
		b.WriteString("  " + name + ": &" + name + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
		prev = name
	}
	r := loadString(t, "bomb.yaml", b.String())
	if len(r.Resources) != 0 || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "too large") {
		t.Fatalf("resources %d, errors %+v", len(r.Resources), r.Errors)
	}
}

func TestLocateMissingFieldUsesNearestParent(t *testing.T) {
	r := loadString(t, "p.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: a\n      image: x\n    - name: b\n      resources:\n        limits: {cpu: 1}\n")
	res := r.Resources[0]
	for _, tc := range []struct {
		p    Path
		want finding.Location
	}{
		{Path{"spec", "containers", 1, "resources", "limits", "memory"}, finding.Location{File: "p.yaml", Line: 10, Column: 9}},
		{Path{"spec", "containers", 0, "resources", "limits", "memory"}, finding.Location{File: "p.yaml", Line: 6, Column: 7}},
		{Path{"spec", "securityContext", "runAsNonRoot"}, finding.Location{File: "p.yaml", Line: 4, Column: 1}},
		{Path{"spec", "containers", 1, "image"}, finding.Location{File: "p.yaml", Line: 8, Column: 7}},
		{nil, finding.Location{File: "p.yaml", Line: 1, Column: 1}},
	} {
		if got := res.Locate(tc.p); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.p, got, tc.want)
		}
	}
}

func TestPointerPath(t *testing.T) {
	obj := map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "a"}, map[string]any{"name": "b"}}}, "a/b": map[string]any{"~x": 1}}
	for ptr, want := range map[string]string{
		"/spec/containers/1/image": "spec.containers[1].image",
		"/spec/containers/-":       "spec.containers[1]",
		"/a~1b/~0x":                `["a/b"]["~x"]`,
	} {
		if got := pointerPath(obj, ptr).String(); got != want {
			t.Errorf("%s: got %s, want %s", ptr, got, want)
		}
	}
}

func TestIsRemote(t *testing.T) {
	for ref, want := range map[string]bool{
		"https://github.com/org/repo//base?ref=v1": true,
		"github.com/org/repo/base?ref=main":        true,
		"git@github.com:org/repo.git":              true,
		"ssh://git@example.com/repo.git":           true,
		"../base":                                  false,
		"deployment.yaml":                          false,
		"overlays/github.com-mirror":               false,
	} {
		if got := isRemote(ref); got != want {
			t.Errorf("isRemote(%q) = %v, want %v", ref, got, want)
		}
	}
}

// Rendered resources carry none of kustomize's bookkeeping annotations, yet
// each still knows the file it came from.
func TestKustomizeBookkeepingIsStripped(t *testing.T) {
	r := Load([]string{"fixtures/shop/overlays/prod", "fixtures/shop/overlays/dev"}, Options{WorkDir: "../"})
	if len(r.Errors) > 0 || len(r.Resources) != 6 {
		t.Fatalf("%d resources, errors %v", len(r.Resources), r.Errors)
	}
	for _, res := range r.Resources {
		meta, _ := res.Object["metadata"].(map[string]any)
		ann, _ := meta["annotations"].(map[string]any)
		for k := range ann {
			if strings.HasPrefix(k, "config.kubernetes.io/") || strings.HasPrefix(k, "alpha.config.kubernetes.io/") || strings.HasPrefix(k, "internal.config.kubernetes.io/") {
				t.Errorf("%s keeps kustomize's annotation %s", res.ID(), k)
			}
		}
		if !strings.HasPrefix(res.Source.File, "fixtures/shop/base/") {
			t.Errorf("%s: declared in %q, want a file of the base", res.ID(), res.Source.File)
		}
	}
}

// TestSymlinksInsideTheRepository: a file is read through an os.Root at
// the repository: a symbolic link inside it is followed, relative or
// absolute; one that leads out of it is refused.
func TestSymlinksInsideTheRepository(t *testing.T) {
	repo, outside := t.TempDir(), t.TempDir()
	os.Mkdir(filepath.Join(repo, ".git"), 0o755)
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
	os.MkdirAll(filepath.Join(repo, "real"), 0o755)
	os.WriteFile(filepath.Join(repo, "real", "pod.yaml"), []byte(pod), 0o644)
	os.WriteFile(filepath.Join(outside, "secret.yaml"), []byte(pod), 0o644)
	for name, target := range map[string]string{
		"relative.yaml": "real/pod.yaml",
		"absolute.yaml": filepath.Join(repo, "real", "pod.yaml"),
		"outside.yaml":  filepath.Join(outside, "secret.yaml"),
	} {
		if err := os.Symlink(target, filepath.Join(repo, name)); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]string{"relative.yaml": "", "absolute.yaml": "", "outside.yaml": "refusing to read outside.yaml: it resolves outside the repository"} {
		r := Load([]string{name}, Options{WorkDir: repo})
		var got string
		if len(r.Errors) > 0 {
			got = r.Errors[0].Message
		}
		if got != want || (want == "" && len(r.Resources) != 1) {
			t.Errorf("%s: %d resources, error %q; want %q", name, len(r.Resources), got, want)
		}
	}
}
