// Package golden holds tests to reviewed files: a list or a rendering that
// must only change on purpose (an upgrade of OPA or Helm, a new rule) is
// compared with a file in testdata, rewritten by a flag after review.
package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// Check compares got with the file at path. With update it first writes got
// there. On a difference the test fails with hint (what to review, and the
// command that rewrites the file) and got.
func Check(t testing.TB, path, got string, update bool, hint string) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs: %s\n%s", path, hint, got)
	}
}
