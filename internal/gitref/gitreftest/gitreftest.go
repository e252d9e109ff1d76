// Package gitreftest builds git repositories for tests, in-process with
// go-git: no git binary, fixed authors and times, so commits are the same
// on every run.
package gitreftest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Repo makes a repository in a new directory with one commit per map of
// files and returns the directory; HEAD is the last commit. A value ""
// deletes the file, "->TARGET" makes it a symbolic link to TARGET.
func Repo(tb testing.TB, commits ...map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	r, err := git.PlainInit(dir, false)
	if err != nil {
		tb.Fatal(err)
	}
	wt, err := r.Worktree()
	if err != nil {
		tb.Fatal(err)
	}
	for i, files := range commits {
		for name, content := range files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				tb.Fatal(err)
			}
			if content == "" {
				continue
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				tb.Fatal(err)
			}
			if target, ok := strings.CutPrefix(content, "->"); ok {
				err = os.Symlink(target, p)
			} else {
				err = os.WriteFile(p, []byte(content), 0o644)
			}
			if err != nil {
				tb.Fatal(err)
			}
		}
		if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
			tb.Fatal(err)
		}
		sig := &object.Signature{Name: "ci", Email: "ci@example.com", When: time.Date(2026, 12, 3, 9, i, 0, 0, time.UTC)}
		if _, err := wt.Commit("commit", &git.CommitOptions{Author: sig, Committer: sig, AllowEmptyCommits: true}); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}
