package gitref

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"

	"github.com/kubegate/kubegate/internal/gitref/gitreftest"
)

func TestReadAtRef(t *testing.T) {
	dir := gitreftest.Repo(t,
		map[string]string{"app/a.yaml": "base\n", "policy/p.rego": "package p\n", "link.yaml": "->app/a.yaml"},
		map[string]string{"app/a.yaml": "head\n", "app/b.yaml": "new\n"},
	)
	sub := filepath.Join(dir, "app")
	for ref, want := range map[string]string{"HEAD~1": "base\n", "HEAD": "head\n", "master": "head\n"} {
		tr, err := Open(sub, ref, "--baseline")
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		got, err := tr.ReadFile(filepath.Join(sub, "a.yaml"))
		if err != nil || string(got) != want {
			t.Errorf("%s: app/a.yaml %q, %v; want %q", ref, got, err, want)
		}
	}
	base, err := Open(dir, "HEAD~1", "--baseline")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := base.ReadFile(filepath.Join(dir, "app/b.yaml")); err == nil || !strings.Contains(err.Error(), "HEAD~1:app/b.yaml: no such file at that ref") {
		t.Errorf("a file added later: %v", err)
	}
	if _, err := base.ReadFile(filepath.Join(filepath.Dir(dir), "elsewhere")); err == nil || !strings.Contains(err.Error(), "outside the repository") {
		t.Errorf("outside: %v", err)
	}
	fsys, err := base.DirFS(filepath.Join(dir, "policy"))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := fs.ReadFile(fsys, "p.rego"); err != nil || string(b) != "package p\n" {
		t.Errorf("DirFS: %q %v", b, err)
	}
	if n, _ := base.Name(filepath.Join(dir, "policy/p.rego")); n != "HEAD~1:policy/p.rego" {
		t.Errorf("name %q", n)
	}

	// Write: the whole tree, links as links, nothing of the working tree.
	out := t.TempDir()
	if err := base.Write(out, 1<<20); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "app/a.yaml")); string(b) != "base\n" {
		t.Errorf("written app/a.yaml %q", b)
	}
	if _, err := os.Stat(filepath.Join(out, "app/b.yaml")); !os.IsNotExist(err) {
		t.Errorf("app/b.yaml is not in the base commit: %v", err)
	}
	if target, err := os.Readlink(filepath.Join(out, "link.yaml")); err != nil || target != "app/a.yaml" {
		t.Errorf("link %q %v", target, err)
	}
	if err := base.Write(t.TempDir(), 8); err == nil || !strings.Contains(err.Error(), "holds more than 8 bytes") {
		t.Errorf("bounded write: %v", err)
	}
}

func TestRefErrors(t *testing.T) {
	dir := gitreftest.Repo(t, map[string]string{"a.yaml": "a\n"})
	r, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := r.Head()
	c, _ := r.CommitObject(head.Hash())
	for ref, want := range map[string]string{
		"no-such-branch":                           "--baseline no-such-branch: no such commit, branch or tag in this clone; fetch it first",
		c.TreeHash.String():                        "is not a commit; name a commit, branch or tag",
		"0123456789abcdef0123456789abcdef01234567": "not in this clone",
	} {
		if _, err := Open(dir, ref, "--baseline"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", ref, err, want)
		}
	}
	if _, err := Open(t.TempDir(), "HEAD", "--baseline"); err == nil || !strings.Contains(err.Error(), "is not in a git repository") {
		t.Errorf("outside a repository: %v", err)
	}
}

// A shallow clone lacking the base commit says how to fetch it.
func TestShallowClone(t *testing.T) {
	src := gitreftest.Repo(t, map[string]string{"a.yaml": "1\n"}, map[string]string{"a.yaml": "2\n"})
	dst := filepath.Join(t.TempDir(), "clone")
	if out, err := exec.Command("git", "clone", "--quiet", "--depth=1", "file://"+src, dst).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	_, err := Open(dst, "HEAD~1", "--baseline")
	if err == nil || !strings.Contains(err.Error(), "the clone is shallow") || !strings.Contains(err.Error(), "fetch-depth: 0") {
		t.Errorf("HEAD~1 of a shallow clone: %v", err)
	}
}

// A sparse checkout (git sparse-checkout, actions/checkout's
// sparse-checkout) turns on the worktreeConfig extension, which go-git
// alone refuses; reading at a ref must still work.
func TestSparseCheckout(t *testing.T) {
	dir := gitreftest.Repo(t, map[string]string{"app/a.yaml": "1\n", "docs/x.md": "x\n"}, map[string]string{"app/a.yaml": "2\n"})
	if out, err := exec.Command("git", "-C", dir, "sparse-checkout", "set", "app").CombinedOutput(); err != nil {
		t.Fatalf("git sparse-checkout: %v\n%s", err, out)
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, ".git", "config"))
	if !strings.Contains(strings.ToLower(string(cfg)), "worktreeconfig = true") {
		t.Fatalf("git did not turn on worktreeConfig:\n%s", cfg)
	}
	if _, err := git.PlainOpen(dir); err == nil {
		t.Log("go-git now opens worktreeConfig repositories itself: open's work-around may go")
	}
	tr, err := Open(dir, "HEAD~1", "--baseline")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := tr.ReadFile(filepath.Join(dir, "app/a.yaml")); err != nil || string(b) != "1\n" {
		t.Errorf("%q %v", b, err)
	}
}
