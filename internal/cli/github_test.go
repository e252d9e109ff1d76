package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestGitHubActionsStep runs check as a step of a GitHub Actions job would
// (the environment the runner sets) on the fixtures and checks the
// annotations, the job summary and the step outputs.
func TestGitHubActionsStep(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	summary, outputs := filepath.Join(tmp, "summary.md"), filepath.Join(tmp, "output")
	env := map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_STEP_SUMMARY": summary,
		"GITHUB_OUTPUT":       outputs,
		"GITHUB_WORKSPACE":    root,
		"GITHUB_SHA":          "5f1e0c4",
		"GITHUB_SERVER_URL":   "https://github.com",
		"GITHUB_REPOSITORY":   "acme/platform",
	}
	sarifFile := filepath.Join(tmp, "kubegate.sarif")
	stdout, stderr, code := run(t, "", env, "", "check", "-o", "github", "-o", "sarif="+sarifFile, "fixtures")
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d; stderr: %s", code, ExitFindings, stderr)
	}

	// Annotations: errors first, at most ten, the tenth saying how many
	// more; then warnings, then notices.
	cmd := regexp.MustCompile(`(?m)^::(error|warning|notice) ([^:]*)::(.*)$`)
	var kinds []string
	count := map[string]int{}
	for _, m := range cmd.FindAllStringSubmatch(stdout, -1) {
		kinds = append(kinds, m[1])
		count[m[1]]++
	}
	for i := 1; i < len(kinds); i++ {
		if rank(kinds[i]) > rank(kinds[i-1]) {
			t.Fatalf("a %s annotation after a %s one: %v", kinds[i], kinds[i-1], kinds)
		}
	}
	if count["error"] != 10 || count["warning"] != 10 || count["notice"] != 10 {
		t.Errorf("annotations per severity %v, want 10 of each (with notes)", count)
	}
	for _, want := range []string{
		"::error title=kubegate%3A 5 more errors::5 more errors not annotated here",
		"::warning title=kubegate%3A 18 more warnings::18 more warnings not annotated here",
		"::notice title=kubegate%3A 3 more notices::3 more notices not annotated here",
		// An error annotation with file, line and column on a chart's values.
		"::error col=1,endLine=19,file=fixtures/charts/prober/values.yaml,line=19,title=resources.memory-limit-missing%3A Memory limit missing::Deployment prober: container \"probe\" has no resources.limits.memory",
		"::group::kubegate: 26 findings beyond the annotation limit",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}

	// The job summary: counts and every finding linked to its line.
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		"## kubegate: 53 findings",
		"| 14 | 6 | 14 | 27 | 12 | 0 |",
		"### Errors (14)", "### Warnings (27)", "### Notices (12)",
		"[fixtures/shop/overlays/prod/hpa-scale.yaml:3:3](https://github.com/acme/platform/blob/5f1e0c4/fixtures/shop/overlays/prod/hpa-scale.yaml#L3)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	if n := strings.Count(s, "\n| [fixtures/"); n != 53 {
		t.Errorf("summary has %d finding rows, want 53", n)
	}

	// Step outputs, in the runner's file-command syntax.
	b, err = os.ReadFile(outputs)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	re := regexp.MustCompile(`(?s)([a-z-]+)<<(\S+)\n(.*?)\n(\S+)\n`)
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		if m[2] != m[4] {
			t.Fatalf("delimiters %q and %q differ", m[2], m[4])
		}
		got[m[1]] = m[3]
	}
	for k, v := range map[string]string{"errors": "14", "warnings": "27", "notices": "12", "resources": "14", "input-errors": "0", "reports": sarifFile} {
		if got[k] != v {
			t.Errorf("output %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

func rank(kind string) int {
	return map[string]int{"notice": 1, "warning": 2, "error": 3}[kind]
}
