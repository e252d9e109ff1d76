package cli

import (
	"errors"
	"io/fs"
	"os"

	"github.com/kubegate/kubegate/internal/gitref"
)

// source is where the configuration, the user's policies and their data
// are read from: the working tree, or (--trusted-policies REF) a git ref,
// so that a pull request cannot weaken the gate it is judged by.
type source interface {
	// readFile reads a file named by its absolute path in the working tree.
	readFile(abs string) ([]byte, error)
	// dirFS is a directory named by its absolute path in the working tree.
	dirFS(abs string) (fs.FS, error)
	// name is how messages name a path ("policy/x.rego", or
	// "origin/main:policy/x.rego").
	name(abs string, env Env) string
}

type workTree struct{}

func (workTree) readFile(abs string) ([]byte, error) { return os.ReadFile(abs) }

func (workTree) dirFS(abs string) (fs.FS, error) {
	fi, err := os.Stat(abs)
	if err != nil || !fi.IsDir() {
		return nil, errors.New("not a readable directory")
	}
	return os.DirFS(abs), nil
}

func (workTree) name(abs string, env Env) string { return display(env, abs) }

// gitRef reads files as they are at a git ref of the repository holding
// the working directory, in-process (package gitref).
type gitRef struct{ t *gitref.Tree }

func newGitRef(ref, workDir string) (*gitRef, error) {
	t, err := gitref.Open(workDir, ref, "--trusted-policies")
	if err != nil {
		return nil, err
	}
	return &gitRef{t}, nil
}

func (g *gitRef) readFile(abs string) ([]byte, error) { return g.t.ReadFile(abs) }

func (g *gitRef) dirFS(abs string) (fs.FS, error) { return g.t.DirFS(abs) }

func (g *gitRef) name(abs string, env Env) string {
	if n, ok := g.t.Name(abs); ok {
		return n
	}
	return display(env, abs)
}
