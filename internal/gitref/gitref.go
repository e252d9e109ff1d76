// Package gitref reads a repository's files as they are at a git ref,
// in-process with go-git: no git binary (the Action's image has none), and
// the working tree is never touched. --trusted-policies reads the
// configuration and policies of the base branch through it, --baseline the
// whole tree of the base commit.
package gitref

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing/fstest"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	format "github.com/go-git/go-git/v5/plumbing/format/config"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"
)

// Tree is a commit's tree in the repository that holds a working directory.
type Tree struct {
	// Root is the working tree's top directory; Ref the ref as given;
	// Commit the commit it names.
	Root, Ref string
	Commit    plumbing.Hash
	tree      *object.Tree
	repo      *git.Repository
}

// Open finds the repository holding workDir and the commit ref names (a
// branch, remote branch, tag, hash or an expression such as HEAD~1). flag
// names the option in messages ("--baseline"). A ref the clone lacks is an
// error saying how to fetch it.
func Open(workDir, ref, flag string) (*Tree, error) {
	repo, err := open(workDir)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %s is not in a git repository (%v)", flag, ref, workDir, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, fmt.Errorf("%s %s: the repository has no working tree (%v)", flag, ref, err)
	}
	t := &Tree{Root: wt.Filesystem.Root(), Ref: ref}
	h, err := repo.ResolveRevision(plumbing.Revision(ref))
	if err != nil && plumbing.IsHash(ref) {
		// A full hash: say whether it is missing or not a commit.
		hash := plumbing.NewHash(ref)
		h, err = &hash, nil
	}
	if err != nil {
		hint := "fetch it first, for example git fetch origin main"
		if shallow, _ := repo.Storer.Shallow(); len(shallow) > 0 {
			hint = "the clone is shallow: fetch the base commit (git fetch --depth=1 origin " + ref + "), or clone with history (actions/checkout with fetch-depth: 0)"
		}
		return nil, fmt.Errorf("%s %s: no such commit, branch or tag in this clone; %s", flag, ref, hint)
	}
	c, err := repo.CommitObject(*h)
	if err != nil {
		if _, terr := repo.Object(plumbing.AnyObject, *h); terr == nil {
			return nil, fmt.Errorf("%s %s: %s is not a commit; name a commit, branch or tag", flag, ref, h)
		}
		return nil, fmt.Errorf("%s %s: commit %s is not in this clone (a shallow clone?); fetch it, or clone with history (actions/checkout with fetch-depth: 0)", flag, ref, h)
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("%s %s: the tree of commit %s is not in this clone (%v); fetch it, or clone with history (actions/checkout with fetch-depth: 0)", flag, ref, h, err)
	}
	t.Commit, t.tree, t.repo = c.Hash, tree, repo
	return t, nil
}

// open opens the repository holding dir as git.PlainOpenWithOptions does
// (the .git directory found upwards, a linked worktree's .git file and
// common directory followed), read-only, with its configuration seen
// without the extensions that only change how git writes or where it
// reads its configuration: go-git refuses a repository that has any, and
// `git sparse-checkout` (actions/checkout's sparse-checkout too) turns on
// worktreeConfig.
func open(dir string) (*git.Repository, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for {
		fi, err := os.Stat(filepath.Join(dir, ".git"))
		if err == nil {
			dot := osfs.New(filepath.Join(dir, ".git"))
			if !fi.IsDir() {
				b, err := os.ReadFile(filepath.Join(dir, ".git"))
				if err != nil {
					return nil, err
				}
				gitdir, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir: ")
				if !ok {
					return nil, errors.New(".git file has no gitdir: line")
				}
				if !filepath.IsAbs(gitdir) {
					gitdir = filepath.Join(dir, gitdir)
				}
				dot = osfs.New(gitdir)
			}
			var fsys billy.Filesystem = dot
			if b, err := os.ReadFile(filepath.Join(dot.Root(), "commondir")); err == nil {
				common := strings.TrimSpace(string(b))
				if !filepath.IsAbs(common) {
					common = filepath.Join(dot.Root(), common)
				}
				fsys = dotgit.NewRepositoryFilesystem(dot, osfs.New(common))
			}
			st := readStorer{filesystem.NewStorage(fsys, cache.NewObjectLRUDefault())}
			return git.Open(st, osfs.New(dir))
		}
		if !os.IsNotExist(err) {
			return nil, err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, git.ErrRepositoryNotExists
		}
		dir = parent
	}
}

// readSafe are the extensions reading objects and refs does not depend on.
var readSafe = map[string]bool{"worktreeconfig": true, "partialclone": true, "preciousobjects": true, "noop": true}

// readStorer is a storage whose configuration leaves out readSafe
// extensions; kubegate never writes through it.
type readStorer struct{ *filesystem.Storage }

func (s readStorer) Config() (*config.Config, error) {
	cfg, err := s.Storage.Config()
	if err != nil || cfg.Raw == nil || !cfg.Raw.HasSection("extensions") {
		return cfg, err
	}
	sec := cfg.Raw.Section("extensions")
	var kept []*format.Option
	for _, o := range sec.Options {
		if !readSafe[strings.ToLower(o.Key)] {
			kept = append(kept, o)
		}
	}
	c := *cfg
	raw := *cfg.Raw
	raw.Sections = nil
	for _, x := range cfg.Raw.Sections {
		if x == sec {
			y := *x
			y.Options = kept
			x = &y
		}
		raw.Sections = append(raw.Sections, x)
	}
	c.Raw = &raw
	return &c, nil
}

// Rel is a working-tree path relative to the repository root, with "/";
// an error for a path outside the repository.
func (t *Tree) Rel(abs string) (string, error) {
	root := t.Root
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	if a, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(a, filepath.Base(abs))
	}
	r, err := filepath.Rel(root, abs)
	if err != nil || !filepath.IsLocal(r) && r != "." {
		return "", fmt.Errorf("%s is outside the repository", abs)
	}
	return filepath.ToSlash(r), nil
}

// ReadFile reads a file, named by its path in the working tree, as it is
// at the commit.
func (t *Tree) ReadFile(abs string) ([]byte, error) {
	r, err := t.Rel(abs)
	if err != nil {
		return nil, err
	}
	f, err := t.tree.File(r)
	if err != nil {
		return nil, fmt.Errorf("%s:%s: no such file at that ref", t.Ref, r)
	}
	s, err := f.Contents()
	return []byte(s), err
}

// DirFS is a directory, named by its path in the working tree, as it is at
// the commit: its regular files (symbolic links are not followed).
func (t *Tree) DirFS(abs string) (fs.FS, error) {
	r, err := t.Rel(abs)
	if err != nil {
		return nil, err
	}
	sub := t.tree
	if r != "." {
		if sub, err = t.tree.Tree(r); err != nil {
			return nil, fmt.Errorf("no such directory at %s", t.Ref)
		}
	}
	files := fstest.MapFS{}
	err = sub.Files().ForEach(func(f *object.File) error {
		if f.Mode != filemode.Regular && f.Mode != filemode.Executable {
			return nil
		}
		s, err := f.Contents()
		if err != nil {
			return err
		}
		files[f.Name] = &fstest.MapFile{Data: []byte(s), Mode: 0o444}
		return nil
	})
	return files, err
}

// Name is how messages name a path at the ref: "origin/main:policy/x.rego".
func (t *Tree) Name(abs string) (string, bool) {
	r, err := t.Rel(abs)
	if err != nil {
		return "", false
	}
	return t.Ref + ":" + r, true
}

// Write writes the commit's tree into dir, an empty directory: regular
// files, executables and symbolic links (as links; whoever reads them
// confines itself to dir, as it does in the working tree). Submodules are
// left out. Files are streamed; maxBytes bounds their total size.
func (t *Tree) Write(dir string, maxBytes int64) error {
	var total int64
	w := object.NewTreeWalker(t.tree, true, nil)
	defer w.Close()
	for {
		name, e, err := w.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the tree at %s: %v", t.Ref, err)
		}
		if e.Mode != filemode.Regular && e.Mode != filemode.Executable && e.Mode != filemode.Symlink {
			continue // directories are made as needed; submodules left out
		}
		if !filepath.IsLocal(filepath.FromSlash(name)) || strings.HasPrefix(path.Clean(name), ".git/") {
			continue // never written by git; refuse to write outside dir
		}
		blob, err := t.repo.BlobObject(e.Hash)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return fmt.Errorf("the clone lacks the content of %s at %s (a partial clone, or objects missing); fetch it (git fetch --refetch origin), or clone without --filter", name, t.Ref)
		}
		if err != nil {
			return fmt.Errorf("%s at %s: %v", name, t.Ref, err)
		}
		total += blob.Size
		if total > maxBytes {
			return fmt.Errorf("the tree at %s holds more than %d bytes (at %s)", t.Ref, maxBytes, name)
		}
		if err := writeBlob(filepath.Join(dir, filepath.FromSlash(name)), blob, e.Mode == filemode.Symlink); err != nil {
			return fmt.Errorf("%s at %s: %v", name, t.Ref, err)
		}
	}
}

// writeBlob writes a blob as a file, or as a symbolic link to the path it
// holds.
func writeBlob(dst string, blob *object.Blob, link bool) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	r, err := blob.Reader()
	if err != nil {
		return err
	}
	defer r.Close()
	if link {
		target, err := io.ReadAll(io.LimitReader(r, 4096))
		if err != nil {
			return err
		}
		return os.Symlink(string(target), dst)
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, r)
	return errors.Join(err, out.Close())
}
