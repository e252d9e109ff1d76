package cli

import (
	"strings"
	"testing"
)

// Progress: a line per phase in a CI log, nothing with --quiet or outside
// CI, and the phase table with --timings; never on standard output.
func TestCheckProgress(t *testing.T) {
	args := []string{"check", "-o", "json", "fixtures/plain"}
	stdout, stderr, _ := run(t, "", map[string]string{"CI": "true"}, "", args...)
	for _, want := range []string{"kubegate: load: 2 inputs, 4 resources in ", "kubegate: images: ", "kubegate: evaluate: ", "kubegate: report: 1 output in "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("CI log lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stdout, "kubegate: load") {
		t.Error("progress on standard output")
	}
	quiet, _, _ := run(t, "", map[string]string{"CI": "true"}, "", append(args, "--quiet")...)
	_, stderr, _ = run(t, "", map[string]string{"CI": "true"}, "", append(args, "--quiet")...)
	if strings.Contains(stderr, "kubegate: load") || quiet != stdout {
		t.Errorf("--quiet: %q", stderr)
	}
	if _, stderr, _ = run(t, "", nil, "", args...); strings.Contains(stderr, "kubegate: load") {
		t.Errorf("outside CI: %q", stderr)
	}
	_, stderr, _ = run(t, "", nil, "", append(args, "--timings")...)
	for _, want := range []string{"phase          time", "load ", "evaluate ", "total "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("--timings lacks %q:\n%s", want, stderr)
		}
	}
}
