package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kubegate/kubegate/finding"
)

// hostileBound is how long one case may take, engine compilation included:
// generous, so that only a hang (or something quadratic in a huge input)
// fails, never a slow machine.
const hostileBound = 20 * time.Second

// plantedSecret is in every file beside the repository: no output may ever
// show it.
const plantedSecret = "planted-outside-the-repository"

// hostileGenerators write the cases that are too big to commit or that
// need symlinks. dir is the case's directory in the repository, outside the
// directory beside the repository.
var hostileGenerators = map[string]func(t *testing.T, dir, outside string){
	"deep-nesting": func(t *testing.T, dir, outside string) {
		write(t, filepath.Join(dir, "deep.yaml"), strings.Repeat("[", 10_000)+strings.Repeat("]", 10_000)+"\n")
		write(t, filepath.Join(dir, "deeper.yaml"), strings.Repeat("[", 1_000_000)+"\n")
		write(t, filepath.Join(dir, "deep-map.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n  k: "+strings.Repeat("{k: ", 20_000)+"v"+strings.Repeat("}", 20_000)+"\n")
	},
	"huge-scalar": func(t *testing.T, dir, outside string) {
		write(t, filepath.Join(dir, "big.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: huge}\ndata:\n  blob: "+strings.Repeat("x", 20_000_000)+"\n")
	},
	"over-size-cap": func(t *testing.T, dir, outside string) {
		p := filepath.Join(dir, "big.yaml")
		write(t, p, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\n")
		if err := os.Truncate(p, 100<<20); err != nil { // sparse: cheap on disk
			t.Fatal(err)
		}
	},
	"symlink-outside": func(t *testing.T, dir, outside string) {
		symlink(t, filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "link.yaml"))
		os.MkdirAll(filepath.Join(dir, "kust"), 0o755)
		write(t, filepath.Join(dir, "kust", "kustomization.yaml"), "kind: Kustomization\nresources:\n  - linked.yaml\n")
		symlink(t, filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "kust", "linked.yaml"))
		os.MkdirAll(filepath.Join(dir, "kust-base"), 0o755)
		write(t, filepath.Join(dir, "kust-base", "kustomization.yaml"), "kind: Kustomization\nresources:\n  - base\n")
		symlink(t, filepath.Join(outside, "base"), filepath.Join(dir, "kust-base", "base"))
	},
	"helm-escape": func(t *testing.T, dir, outside string) {
		os.MkdirAll(filepath.Join(dir, "files", "files"), 0o755)
		symlink(t, filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "files", "files", "secret.yaml"))
		symlink(t, filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "files", "templates", "leak.yaml"))
	},
	"symlink-loop": func(t *testing.T, dir, outside string) {
		symlink(t, "self.yaml", filepath.Join(dir, "self.yaml"))
		symlink(t, "b.yaml", filepath.Join(dir, "a.yaml"))
		symlink(t, "a.yaml", filepath.Join(dir, "b.yaml"))
		symlink(t, "..", filepath.Join(dir, "parent"))
		os.MkdirAll(filepath.Join(dir, "kust"), 0o755)
		write(t, filepath.Join(dir, "kust", "kustomization.yaml"), "resources:\n  - loop.yaml\n")
		symlink(t, "loop.yaml", filepath.Join(dir, "kust", "loop.yaml"))
	},
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
}

// hostileExpectation is a case's expected file: "exit N", then one
// "error SUBSTRING" line for each error the report must hold.
type hostileExpectation struct {
	exit   int
	errors []string
}

func readExpectation(t *testing.T, path, outside string) hostileExpectation {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var e hostileExpectation
	e.exit = -1
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "exit "):
			if e.exit, err = strconv.Atoi(strings.TrimPrefix(line, "exit ")); err != nil {
				t.Fatalf("%s: %q", path, line)
			}
		case strings.HasPrefix(line, "error "):
			e.errors = append(e.errors, strings.ReplaceAll(strings.TrimPrefix(line, "error "), "@OUTSIDE@", outside))
		default:
			t.Fatalf("%s: cannot read %q", path, line)
		}
	}
	if e.exit < 0 {
		t.Fatalf("%s: no exit line", path)
	}
	return e
}

// copyCase copies a case's files (not its expected file) into dst,
// replacing @OUTSIDE@ with outside, keeping the executable bit.
func copyCase(t *testing.T, src, dst, outside string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if rel == "expected" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, bytes.ReplaceAll(data, []byte("@OUTSIDE@"), []byte(outside)), fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// goodPod is in every run beside the bad input: its finding proves that
// the rest of the input is still evaluated.
const goodPod = "apiVersion: v1\nkind: Pod\nmetadata: {name: good}\nspec:\n  hostPID: true\n  containers:\n    - {name: app, image: example.com/app:1.0}\n"

// TestHostileInput runs kubegate over every case of testdata/hostile, each
// in a repository of its own beside a directory that must never be read,
// with a good manifest whose finding must still be reported. See each
// case's expected file.
func TestHostileInput(t *testing.T) {
	cases, err := os.ReadDir("testdata/hostile")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			top := t.TempDir()
			repo, outside := filepath.Join(top, "repo"), filepath.Join(top, "outside")
			for _, d := range []string{filepath.Join(repo, ".git"), filepath.Join(outside, "base")} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: " + plantedSecret + "}\nstringData: {token: " + plantedSecret + "}\n"
			write(t, filepath.Join(outside, "secret.yaml"), secret)
			write(t, filepath.Join(outside, "base", "secret.yaml"), secret)
			write(t, filepath.Join(outside, "base", "kustomization.yaml"), "resources: [secret.yaml]\n")
			write(t, filepath.Join(repo, "good.yaml"), goodPod)
			src := filepath.Join("testdata/hostile", c.Name())
			want := readExpectation(t, filepath.Join(src, "expected"), outside)
			dir := filepath.Join(repo, c.Name())
			copyCase(t, src, dir, outside)
			if gen := hostileGenerators[c.Name()]; gen != nil {
				gen(t, dir, outside)
			}

			type result struct {
				stdout, stderr string
				code           int
				panicked       any
				stack          []byte
			}
			done := make(chan result, 1)
			start := time.Now()
			go func() {
				var r result
				defer func() {
					if p := recover(); p != nil {
						r.panicked, r.stack = p, debug.Stack()
					}
					done <- r
				}()
				var stdout, stderr bytes.Buffer
				r.code = Main(context.Background(), []string{"check", "--offline", "-o", "json", "."}, Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }, WorkDir: repo})
				r.stdout, r.stderr = stdout.String(), stderr.String()
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(hostileBound):
				t.Fatalf("still running after %v: a hang", hostileBound)
			}
			t.Logf("%v", time.Since(start).Round(time.Millisecond))
			if r.panicked != nil {
				t.Fatalf("panic: %v\n%s", r.panicked, r.stack)
			}
			if strings.Contains(r.stdout+r.stderr, plantedSecret) {
				t.Errorf("a file outside the repository was read:\n%s", r.stdout)
			}
			if _, err := os.Stat(filepath.Join(dir, "PWNED")); err == nil {
				t.Errorf("a KRM function was executed")
			}
			var rep finding.Report
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatalf("not a JSON report (%v); stderr: %s", err, r.stderr)
			}
			var msgs []string
			for _, e := range rep.Errors {
				msgs = append(msgs, e.Error())
			}
			all := strings.Join(msgs, "\n")
			t.Logf("exit %d\n%s", r.code, all)
			if r.code != want.exit {
				t.Errorf("exit %d, want %d; errors:\n%s", r.code, want.exit, all)
			}
			for _, w := range want.errors {
				if !strings.Contains(all, w) {
					t.Errorf("no error contains %q; errors:\n%s", w, all)
				}
			}
			if want.exit != ExitError && len(rep.Errors) > 0 {
				t.Errorf("unexpected errors:\n%s", all)
			}
			// Every error names a file in the case (a line where the
			// expected file gives one); no error is about the good file.
			for _, e := range rep.Errors {
				if !strings.HasPrefix(e.File, c.Name()+"/") {
					t.Errorf("error does not name a file of the case: %s", e.Error())
				}
			}
			good := false
			for _, f := range rep.Findings {
				good = good || (f.Location.File == "good.yaml" && f.Rule == "pss.hostNamespaces" && f.Location.Line == 5)
			}
			if !good {
				t.Errorf("the good manifest's finding is missing: %s", fmt.Sprint(rep.Findings))
			}
		})
	}
}
