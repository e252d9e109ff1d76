package cli

import (
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
