package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kubegate/kubegate/evaluate"
)

// TestREADMERules keeps the rule table of docs/rules.md generated from
// the rules' METADATA, never hand-copied.
func TestREADMERules(t *testing.T) {
	const path = "../../docs/rules.md"
	const begin, end = "<!-- rules:begin -->\n", "<!-- rules:end -->"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("docs/rules.md lacks the %q ... %q markers", begin, end)
	}
	e, err := evaluate.New(evaluate.Options{PSS: evaluate.DefaultPSSModes})
	if err != nil {
		t.Fatal(err)
	}
	want := RulesMarkdown(e.Rules())
	if got := s[i+len(begin) : j]; got != want {
		if *update {
			if err := os.WriteFile(path, []byte(s[:i+len(begin)]+want+s[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("docs/rules.md's rule table is out of date: run go test ./internal/cli -run TestREADMERules -update")
	}
}

// TestREADMEFlags: every flag of check is in the flag table of
// docs/cli.md.
func TestREADMEFlags(t *testing.T) {
	data, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	if code := Main(context.Background(), []string{"check", "--help"}, Env{Stdout: &stdout, Stderr: &stdout}); code != ExitOK {
		t.Fatalf("check --help: exit %d\n%s", code, stdout.String())
	}
	n := 0
	for _, line := range strings.Split(stdout.String(), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		name := f[0]
		if strings.HasPrefix(name, "-") && !strings.HasPrefix(name, "--") && len(f) > 1 {
			name = strings.TrimSuffix(f[1], ",") // -o, --output
		}
		name, _, _ = strings.Cut(strings.TrimSuffix(name, ","), "[")
		if !strings.HasPrefix(name, "--") || name == "--help" {
			continue
		}
		n++
		// A row names the flag in code: `--flag` or `--flag VALUE`.
		if !strings.Contains(string(data), "`"+name+"`") && !strings.Contains(string(data), "`"+name+" ") && !strings.Contains(string(data), ", "+name+" ") {
			t.Errorf("docs/cli.md's flag table does not name %s", name)
		}
	}
	if n < 30 {
		t.Errorf("read %d flags from check --help; the parsing above is wrong", n)
	}
}

// TestDocsLinks: every relative link of README.md and docs/ names a file
// of the repository and, with #anchor, a heading or <a id> of it; every
// built-in rule has its anchor in docs/rules.md.
func TestDocsLinks(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading := regexp.MustCompile(`(?m)^#{1,4} (.+)$`)
	anchors := func(path string) map[string]bool {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		out := map[string]bool{}
		for _, m := range regexp.MustCompile(`<a id="([^"]+)"></a>`).FindAllStringSubmatch(string(data), -1) {
			out[m[1]] = true
		}
		for _, m := range heading.FindAllStringSubmatch(string(data), -1) {
			a := strings.Map(func(r rune) rune {
				switch {
				case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
					return r
				case r >= 'A' && r <= 'Z':
					return r + 'a' - 'A'
				case r == ' ':
					return '-'
				}
				return -1
			}, m[1])
			out[a] = true
		}
		return out
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(data), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			n++
			file, anchor, _ := strings.Cut(target, "#")
			path := f
			if file != "" {
				path = filepath.Join(filepath.Dir(f), filepath.FromSlash(file))
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s: link %s: no file %s", f, target, path)
					continue
				}
			}
			if anchor != "" && !anchors(path)[anchor] {
				t.Errorf("%s: link %s: no heading #%s in %s", f, target, anchor, path)
			}
		}
	}
	if n < 15 {
		t.Errorf("checked %d links; the parsing is wrong", n)
	}
	e, err := evaluate.New(evaluate.Options{PSS: evaluate.DefaultPSSModes})
	if err != nil {
		t.Fatal(err)
	}
	ruleAnchors := anchors("../../docs/rules.md")
	for _, r := range ruleInfo(e.Rules()) {
		file, anchor, _ := strings.Cut(r.Reference, "#")
		if file != RulesReference || !ruleAnchors[anchor] || anchor != r.ID {
			t.Errorf("%s: reference %q has no anchor in docs/rules.md", r.ID, r.Reference)
		}
	}
}
