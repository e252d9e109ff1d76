package helm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubegate/kubegate/internal/golden"
)

// chart writes a chart of one template (and optional values) into a new
// repository.
func oneTemplateChart(t *testing.T, template, values string, extra map[string]string) (*Files, string) {
	t.Helper()
	dir := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(dir, "c", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\n")
	write("values.yaml", values)
	write("templates/t.yaml", template)
	for name, content := range extra {
		write(name, content)
	}
	return files(t, dir), filepath.Join(dir, "c")
}

func render(t *testing.T, fs *Files, dir string, lim Limits) *Rendering {
	t.Helper()
	c, err := Load(fs, dir, lim)
	if err != nil {
		t.Fatal(err)
	}
	return c.Render(context.Background(), Variant{Release: "r", Namespace: "default", KubeVersion: "v1.37.0"})
}

// TestRunawayTemplatesStop: a template that loops, recurses or builds a
// huge value is stopped by the budget, with a message that says so, and
// kubegate goes on. Each is stopped by a count (steps, elements, bytes),
// not by the clock, so the test does not depend on the machine's speed;
// the clock (Limits.Timeout) is the last resort for slow function calls.
func TestRunawayTemplatesStop(t *testing.T) {
	for _, tc := range []struct {
		name, template, values, want string
	}{
		{name: "until a hundred million",
			template: "{{ range until 100000000 }}x{{ end }}", want: "until would make 100000000 elements"},
		{name: "range over a huge number, no function called",
			template: "{{ range 1000000000 }}{{ end }}", want: "more than 2000000 steps"},
		{name: "nested ranges of allowed sizes",
			template: "{{ range until 1000 }}{{ range until 1000 }}{{ range until 1000 }}x{{ end }}{{ end }}{{ end }}", want: "more than 2000000 steps"},
		{name: "named templates calling each other twice, 40 deep",
			template: exponential(40), want: "more than 2000000 steps"},
		{name: "template recursion",
			template: `{{ define "self" }}{{ template "self" . }}{{ end }}{{ template "self" . }}`, want: "exceeded maximum template depth"},
		{name: "a loop hidden in the values, run by tpl",
			template: "{{ tpl .Values.t . }}", values: "t: '{{ range 1000000000 }}{{ end }}'\n", want: "more than 2000000 steps"},
		{name: "a string doubled",
			template: `{{ $s := "0123456789abcdef" }}{{ range until 64 }}{{ $s = printf "%s%s" $s $s }}{{ end }}{{ $s | len }}`, want: "printf returned a string of"},
		{name: "repeat",
			template: `{{ repeat 100000000 "ab" }}`, want: "repeat would make 200000000"},
		{name: "indent",
			template: `{{ "x" | indent 100000000 }}`, want: "indent would make 100000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, dir := oneTemplateChart(t, tc.template, tc.values, nil)
			lim := DefaultLimits
			lim.Timeout = time.Minute // the counts must stop it first
			r := render(t, fs, dir, lim)
			if len(r.Problems) != 1 || !strings.Contains(r.Problems[0].Message, tc.want) {
				t.Fatalf("problems %v, want one containing %q", r.Problems, tc.want)
			}
			if len(r.Outputs) != 0 {
				t.Errorf("a stopped rendering gave outputs")
			}
		})
	}
}

// exponential is a template whose named templates each call the next one
// twice: 2^n calls in all.
func exponential(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(`{{ define "t` + itoa(i) + `" }}{{ include "t` + itoa(i+1) + `" . }}{{ include "t` + itoa(i+1) + `" . }}{{ end }}`)
	}
	b.WriteString(`{{ define "t` + itoa(n) + `" }}x{{ end }}{{ include "t0" . }}`)
	return b.String()
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// TestTimeoutStopsSlowCalls: a loop of calls that are each slow (key
// generation) is stopped by the clock.
func TestTimeoutStopsSlowCalls(t *testing.T) {
	fs, dir := oneTemplateChart(t, `{{ range until 100000 }}{{ genPrivateKey "ecdsa" }}{{ end }}`, "", nil)
	lim := DefaultLimits
	lim.Timeout = time.Nanosecond
	r := render(t, fs, dir, lim)
	if len(r.Problems) != 1 || !strings.Contains(r.Problems[0].Message, "rendering took longer than 1ns") {
		t.Fatalf("problems %v", r.Problems)
	}
}

// TestWrappedFunctions: the functions kubegate bounds are a reviewed list
// (testdata/wrapped-functions.golden): an upgrade of sprig or Helm that
// adds one, or a Helm function that starts shadowing one, shows up here.
// Run with -update to rewrite it.
func TestWrappedFunctions(t *testing.T) {
	golden.Check(t, "testdata/wrapped-functions.golden", strings.Join(wrappedNames(), "\n")+"\n", *update,
		"the wrapped functions changed; review the difference and run go test ./load/internal/helm -run TestWrappedFunctions -update")
}

// TestChartStaysInRepository: nothing a chart says makes kubegate read a
// file outside the repository: not a symlinked template, not a file for
// .Files.Get, not a $ref of values.schema.json, not a file:// dependency.
func TestChartStaysInRepository(t *testing.T) {
	const planted = "planted-outside-the-repository"
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.yaml"), []byte("kind: Secret\ntoken: "+planted+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "string.json"), []byte(`{"type": "string"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, r *Rendering, want string) {
		t.Helper()
		var all []string
		for _, p := range r.Problems {
			all = append(all, p.Error())
		}
		for _, o := range r.Outputs {
			for _, d := range o.Docs {
				all = append(all, d.Text)
			}
		}
		text := strings.Join(all, "\n")
		if strings.Contains(text, planted) {
			t.Fatalf("a file outside the repository was read:\n%s", text)
		}
		if !strings.Contains(text, want) {
			t.Fatalf("want %q in:\n%s", want, text)
		}
	}
	t.Run("a symlinked template", func(t *testing.T) {
		fs, dir := oneTemplateChart(t, "kind: ConfigMap\n", "", nil)
		if err := os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "templates", "leak.yaml")); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(fs, dir, DefaultLimits); err == nil || !strings.Contains(err.Error(), "c/templates/leak.yaml: it resolves outside the repository") {
			t.Fatalf("Load: %v", err)
		}
	})
	t.Run(".Files.Get of a symlinked file", func(t *testing.T) {
		fs, dir := oneTemplateChart(t, "data: {{ .Files.Get \"files/secret.yaml\" | quote }}\n", "", nil)
		if err := os.MkdirAll(filepath.Join(dir, "files"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "files", "secret.yaml")); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(fs, dir, DefaultLimits); err == nil || !strings.Contains(err.Error(), "it resolves outside the repository") {
			t.Fatalf("Load: %v", err)
		}
	})
	t.Run("a schema's $ref to a local file", func(t *testing.T) {
		schema := `{"type": "object", "properties": {"port": {"$ref": "file://` + filepath.Join(outside, "string.json") + `"}, "other": {"$ref": "https://schemas.example.com/x.json"}}}`
		fs, dir := oneTemplateChart(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {port: {{ .Values.port | quote }}}\n", "port: 8080\n", map[string]string{"values.schema.json": schema})
		r := render(t, fs, dir, DefaultLimits)
		// Read, string.json would reject the number 8080.
		if len(r.Problems) > 0 {
			t.Fatalf("problems: %v", r.Problems)
		}
		check(t, r, `port: "8080"`)
	})
	t.Run("a file:// dependency outside", func(t *testing.T) {
		if err := os.MkdirAll(filepath.Join(outside, "dep", "templates"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(outside, "dep", "Chart.yaml"), []byte("apiVersion: v2\nname: dep\nversion: 0.1.0\n"), 0o644)
		os.WriteFile(filepath.Join(outside, "dep", "templates", "s.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "+planted+"}\n"), 0o644)
		fs, dir := oneTemplateChart(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: own}\n", "", nil)
		os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n  - name: dep\n    version: 0.1.0\n    repository: file://"+filepath.Join(outside, "dep")+"\n"), 0o644)
		c, err := Load(fs, dir, DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Missing) != 1 || c.Missing[0].Name != "dep" || c.Missing[0].Line != 5 {
			t.Errorf("missing %+v, want dep at line 5", c.Missing)
		}
		check(t, c.Render(context.Background(), Variant{Release: "r", Namespace: "default", KubeVersion: "v1.37.0"}), "name: own")
	})
}
