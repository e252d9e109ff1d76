package cli

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/kubegate/kubegate/evaluate"
)

// TestREADMERules keeps the README's rule table generated from the rules'
// METADATA, never hand-copied.
func TestREADMERules(t *testing.T) {
	const path = "../../README.md"
	const begin, end = "<!-- rules:begin -->\n", "<!-- rules:end -->"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q ... %q markers", begin, end)
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
		t.Errorf("README.md's rule table is out of date: run go test ./internal/cli -run TestREADMERules -update")
	}
}

// TestREADMEFlags: every flag of check is in the README's flag table.
func TestREADMEFlags(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
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
			t.Errorf("README.md's flag table does not name %s", name)
		}
	}
	if n < 30 {
		t.Errorf("read %d flags from check --help; the parsing above is wrong", n)
	}
}
