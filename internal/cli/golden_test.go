package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestGolden runs `kubegate check -o text ARGS` for every case under
// testdata/golden (ARGS from the case's args file, run from testdata/golden)
// and compares the output and exit code with expected.txt. Each expected
// line is a finding's file:line:col: the place a person must edit.
func TestGolden(t *testing.T) {
	root, err := filepath.Abs("testdata/golden")
	if err != nil {
		t.Fatal(err)
	}
	cases, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if !c.IsDir() {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			dir := filepath.Join(root, c.Name())
			args, err := os.ReadFile(filepath.Join(dir, "args"))
			if err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), offline(append([]string{"check", "-o", "text"}, strings.Fields(string(args))...)), Env{
				Stdout: &stdout, Stderr: &stderr, WorkDir: root, Getenv: func(string) string { return "" },
			})
			got := fmt.Sprintf("%s%sexit %d\n", stdout.String(), stderr.String(), code)
			want := filepath.Join(dir, "expected.txt")
			if *update {
				if err := os.WriteFile(want, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			exp, err := os.ReadFile(want)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(exp) {
				t.Errorf("output differs from %s (rerun with -update to accept)\n--- got\n%s--- want\n%s", want, got, exp)
			}
		})
	}
}
