package cli

import (
	"archive/tar"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing/fstest"
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
// the working directory.
type gitRef struct {
	root, ref string
}

func newGitRef(ref, workDir string) (*gitRef, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, fmt.Errorf("--trusted-policies %s: needs git on PATH to read the ref", ref)
	}
	out, err := exec.Command("git", "-C", workDir, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return nil, fmt.Errorf("--trusted-policies %s: %s is not in a git repository", ref, workDir)
	}
	g := &gitRef{root: strings.TrimSpace(string(out)), ref: ref}
	if err := exec.Command("git", "-C", g.root, "rev-parse", "--verify", "--quiet", ref+"^{commit}").Run(); err != nil {
		return nil, fmt.Errorf("--trusted-policies %s: no such commit, branch or tag (fetch the base branch first, e.g. git fetch origin main)", ref)
	}
	return g, nil
}

// rel is a working-tree path relative to the repository root, with "/".
func (g *gitRef) rel(abs string) (string, error) {
	root, err := filepath.EvalSymlinks(g.root)
	if err != nil {
		root = g.root
	}
	if a, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(a, filepath.Base(abs))
	}
	r, err := filepath.Rel(root, abs)
	if err != nil || r == ".." || strings.HasPrefix(r, "../") {
		return "", fmt.Errorf("%s is outside the repository", abs)
	}
	return filepath.ToSlash(r), nil
}

func (g *gitRef) readFile(abs string) ([]byte, error) {
	r, err := g.rel(abs)
	if err != nil {
		return nil, err
	}
	out, err := exec.Command("git", "-C", g.root, "show", g.ref+":"+r).Output()
	if err != nil {
		return nil, fmt.Errorf("%s:%s: no such file at that ref", g.ref, r)
	}
	return out, nil
}

func (g *gitRef) dirFS(abs string) (fs.FS, error) {
	r, err := g.rel(abs)
	if err != nil {
		return nil, err
	}
	if r == "." {
		r = ""
	}
	cmd := exec.Command("git", "-C", g.root, "archive", "--format=tar", g.ref, "--", cmp.Or(r, "."))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("no such directory at %s (%s)", g.ref, strings.TrimSpace(stderr.String()))
	}
	files := fstest.MapFS{}
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue // directories are implied; symlinks are not followed
		}
		name := strings.TrimPrefix(h.Name, r+"/")
		if r == "" {
			name = h.Name
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		files[name] = &fstest.MapFile{Data: data, Mode: 0o444}
	}
	return files, nil
}

func (g *gitRef) name(abs string, env Env) string {
	if r, err := g.rel(abs); err == nil {
		return g.ref + ":" + r
	}
	return display(env, abs)
}
