package load

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/kubegate/kubegate/finding"
)

// kustomize's bookkeeping annotations, stripped before policies see a
// resource.
const (
	originAnnotation          = "config.kubernetes.io/origin"
	transformationsAnnotation = "alpha.config.kubernetes.io/transformations"
)

// kust is one parsed kustomization (or component) file: what it includes
// and the positions of everything in it.
type kust struct {
	dir, file, display string
	data               []byte
	root               *yaml.Node
	rootPos            *posNode        // root's positions, made once
	resourceFiles      map[string]bool // absolute paths of resource files
	bases              []*kust         // resources that are directories
	components         []*kust
	helm               []helmEntry // helmCharts
}

// inputError is an error with a file and line, reported as such.
type inputError = finding.InputError

// kustTree parses the kustomization in dir and everything it includes.
// Remote bases are refused unless allowed; cycles are reported.
func (l *loader) kustTree(dir, root string, stack []string) (*kust, error) {
	file := kustomizationFile(dir)
	if file == "" {
		return nil, fmt.Errorf("%s: not a kustomization directory (no kustomization.yaml)", l.display(dir))
	}
	for _, s := range stack {
		if s == dir {
			return nil, inputError{File: l.display(file), Message: "kustomization cycle: it includes itself through " + strings.Join(displayAll(l, stack), " -> ")}
		}
	}
	data, err := l.readFile(file, root)
	if err != nil {
		return nil, inputError{File: l.display(file), Message: err.Error()}
	}
	k := &kust{dir: dir, file: file, display: l.display(file), data: data, resourceFiles: map[string]bool{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		e := yamlError(err, data, 0, lineMap(data))
		return nil, inputError{File: k.display, Line: e.line, Message: e.msg}
	}
	k.root = deref(&doc)
	if k.root == nil {
		k.root = &yaml.Node{Kind: yaml.MappingNode}
	}
	if err := l.refuseExecution(k, root); err != nil {
		return nil, err
	}
	if err := l.helmEntries(k, root); err != nil {
		return nil, err
	}
	stack = append(stack, dir)
	for _, field := range []string{"resources", "bases", "components"} {
		_, seq := mapValue(k.root, field)
		if seq == nil {
			continue
		}
		for _, e := range seq.Content {
			ref := e.Value
			if isRemote(ref) && !fileExists(filepath.Join(dir, ref)) {
				if !l.opts.AllowRemote {
					return nil, inputError{File: k.display, Line: e.Line, Message: fmt.Sprintf("remote %s %q refused: kubegate renders only local files unless --allow-remote is given", strings.TrimSuffix(field, "s"), ref)}
				}
				continue
			}
			p := entryPath(dir, ref)
			if err := l.insideRoot(k, e, field, ref, p, root); err != nil {
				return nil, err
			}
			fi, err := os.Stat(p)
			if err != nil {
				return nil, inputError{File: k.display, Line: e.Line, Message: fmt.Sprintf("%s entry %q: %v", field, ref, unwrapPathError(err))}
			}
			if !fi.IsDir() {
				k.resourceFiles[p] = true
				continue
			}
			sub, err := l.kustTree(p, root, stack)
			if err != nil {
				return nil, err
			}
			if field == "components" {
				k.components = append(k.components, sub)
			} else {
				k.bases = append(k.bases, sub)
			}
		}
	}
	return k, nil
}

// entryPath is where a kustomization entry points: relative to the
// kustomization's directory unless absolute.
func entryPath(dir, ref string) string {
	if filepath.IsAbs(ref) {
		return filepath.Clean(ref)
	}
	return filepath.Join(dir, ref)
}

// insideRoot refuses an entry that resolves (symlinks followed) outside
// the repository, at the entry's line, before anything reads it.
func (l *loader) insideRoot(k *kust, e *yaml.Node, field, ref, p, root string) error {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		real = p // missing or a loop: os.Stat says which
	}
	if Within(real, root) {
		return nil
	}
	return inputError{File: k.display, Line: e.Line, Message: fmt.Sprintf("%s entry %q is outside the repository%s: kubegate reads no file outside it", field, ref, l.rootName(root))}
}

// functionAnnotations mark a resource as a KRM function (exec, container or
// starlark) that kustomize would run as a generator, transformer or
// validator.
var functionAnnotations = []string{"config.kubernetes.io/function", "config.k8s.io/function"}

// refuseExecution refuses, at its line, anything in a kustomization that
// would run a program: KRM functions. kustomize would refuse them too
// (plugins are built-ins only), but with a message that does not say why.
// (Helm charts are rendered in-process: see kustomize_helm.go.)
func (l *loader) refuseExecution(k *kust, root string) error {
	for _, field := range []string{"generators", "transformers", "validators"} {
		_, seq := mapValue(k.root, field)
		if seq == nil {
			continue
		}
		for _, e := range seq.Content {
			if e.Kind != yaml.ScalarNode {
				continue
			}
			data, what := []byte(e.Value), field+" entry"
			if !strings.Contains(e.Value, "\n") {
				p := entryPath(k.dir, e.Value)
				if err := l.insideRoot(k, e, field, e.Value, p, root); err != nil {
					return err
				}
				fi, err := os.Stat(p)
				if err != nil || !fi.Mode().IsRegular() {
					continue // a directory or missing: kustomize reports it
				}
				if data, err = l.readFile(p, root); err != nil {
					return inputError{File: k.display, Line: e.Line, Message: fmt.Sprintf("%s entry %q: %v", field, e.Value, err)}
				}
				what = fmt.Sprintf("%s entry %q", field, e.Value)
			}
			if fn := krmFunction(data); fn != "" {
				return inputError{File: k.display, Line: e.Line, Message: fmt.Sprintf("%s is a KRM function (%s): kubegate never runs plugins or KRM functions", what, fn)}
			}
		}
	}
	return nil
}

// krmFunction describes the first KRM function configured in a YAML
// stream ("exec: ./fn", "container: image"), or "" when there is none.
func krmFunction(data []byte) string {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc struct {
			Metadata struct {
				Annotations map[string]any `yaml:"annotations"`
			} `yaml:"metadata"`
		}
		if err := dec.Decode(&doc); err != nil {
			return ""
		}
		for _, a := range functionAnnotations {
			v, ok := doc.Metadata.Annotations[a]
			if !ok {
				continue
			}
			s, _ := v.(string)
			var spec struct {
				Exec      struct{ Path string }  `yaml:"exec"`
				Container struct{ Image string } `yaml:"container"`
				Starlark  struct{ Path string }  `yaml:"starlark"`
			}
			_ = yaml.Unmarshal([]byte(s), &spec)
			switch {
			case spec.Exec.Path != "":
				return "exec: " + spec.Exec.Path
			case spec.Container.Image != "":
				return "container: " + spec.Container.Image
			case spec.Starlark.Path != "":
				return "starlark: " + spec.Starlark.Path
			}
			return a + " annotation"
		}
	}
}

func displayAll(l *loader, ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = l.display(p)
	}
	return out
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

var remoteRE = regexp.MustCompile(`^(?:[a-z][a-z0-9+.-]*://|git@|git::|github\.com/|gitlab\.com/|bitbucket\.org/)|\?ref=|\.git(?:$|//|\?)`)

// isRemote reports whether a kustomization entry names a remote base or
// resource (a URL or a git repository spec) rather than a local path.
func isRemote(ref string) bool { return remoteRE.MatchString(ref) }

// kustomizationDeps lists the directories of the kustomization in dir and of
// every kustomization and component it includes.
func (l *loader) kustomizationDeps(dir, root string) []string {
	k, err := l.kustTree(dir, root, nil)
	if err != nil {
		return nil // reported when it is rendered
	}
	var out []string
	var visit func(*kust)
	visit = func(k *kust) {
		out = append(out, k.dir)
		for _, h := range k.helm {
			out = append(out, h.chart) // rendered through the kustomization
		}
		for _, b := range k.bases {
			visit(b)
		}
		for _, c := range k.components {
			visit(c)
		}
	}
	visit(k)
	return out
}

// renderKustomization builds the kustomization in dir with kustomize
// (krusty, load restrictions on, plugins off) and gives every resource the
// layers that shaped it.
func (l *loader) renderKustomization(dir, root string) []*Resource {
	tree, err := l.kustTree(dir, root, nil)
	if err != nil {
		var ie inputError
		if errors.As(err, &ie) {
			l.errorf(ie.File, ie.Line, "%s", ie.Message)
		} else {
			l.errorf(l.display(dir), 0, "%v", err)
		}
		return nil
	}
	charts, ok := l.inflate(tree, root)
	if !ok {
		return nil // reported
	}
	confined, err := l.files(root)
	if err != nil {
		l.errorf(tree.display, 0, "cannot read: %v", err)
		return nil
	}
	read := &readCache{text: map[string][]byte{}, docs: map[string][]document{}}
	for f, docs := range charts.docs {
		read.docs[f] = docs
	}
	fsys := &guardedFS{FileSystem: filesys.MakeFsOnDisk(), root: root, files: confined.Root, maxBytes: l.opts.Limits.MaxFileBytes, top: tree.file, allowRemote: l.opts.AllowRemote, charts: charts, paths: &l.paths}
	marked := false
	if !l.opts.originAnnotations {
		fsys.marked, marked = l.markTree(tree, root, charts, read.text)
		if !marked {
			fsys.marked = nil
		}
	}
	if l.opts.onRender != nil {
		l.opts.onRender(dir, marked)
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, dir)
	if err != nil && marked && (strings.Contains(err.Error(), markerField) || strings.Contains(err.Error(), markerAnnotation)) {
		// A message that quotes a marker: built again as the user's files
		// are, for kustomize's message about them.
		marked, fsys.marked = false, nil
		m, err = krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, dir)
	}
	if err != nil {
		l.errorf(tree.display, 0, "kustomize build failed: %v", err)
		return nil
	}
	var out []*Resource
	for _, res := range m.Resources() {
		obj, err := res.Map()
		if err != nil {
			l.errorf(tree.display, 0, "kustomize produced an unreadable resource %s: %v", res.CurId(), err)
			continue
		}
		var o *origin
		if marked {
			o = takeMarker(obj)
		} else {
			o = fromAnnotation(res.GetOrigin())
		}
		stripBookkeeping(obj)
		r := &Resource{Object: obj}
		r.Source = l.sourceOf(tree, r, o, root, read)
		out = append(out, r)
	}
	return out
}

// fromAnnotation is where kustomize's origin annotation says a resource
// came from, its paths relative to the top kustomization's directory.
func fromAnnotation(ko *resource.Origin, _ error) *origin {
	if ko == nil {
		return nil
	}
	return &origin{file: ko.Path, kustomization: ko.ConfiguredIn, generator: ko.ConfiguredBy.Name, relative: true}
}

// stripBookkeeping removes kustomize's own annotations from a rendered
// object.
func stripBookkeeping(obj map[string]any) {
	meta, _ := obj["metadata"].(map[string]any)
	ann, _ := meta["annotations"].(map[string]any)
	if ann == nil {
		return
	}
	delete(ann, originAnnotation)
	delete(ann, transformationsAnnotation)
	if len(ann) == 0 {
		delete(meta, "annotations")
	}
}

// guardedFS is the disk as kustomize sees it through kubegate: no read
// outside the repository root (symlinks resolved), and the top
// kustomization asks for origin annotations so that every rendered resource
// names the file it came from.
type guardedFS struct {
	filesys.FileSystem
	root, top   string
	allowRemote bool
	// charts serves the helmCharts' output as resource files, and the
	// kustomizations that have them without them.
	charts *inflated
	// files reads the repository's files (os.Root at root), so that what
	// kustomize reads is what was checked.
	files    *os.Root
	maxBytes int64
	// marked is the tree's files with markers, by the paths kustomize may
	// read them at (marks.go); nil to ask for origin annotations instead.
	marked map[string][]byte
	paths  *pathCache
}

// pathCache remembers, for a run, where paths lead (symlinks resolved):
// kustomize asks again for every file and directory of a base in every
// overlay that includes it, and each answer costs a system call per
// path element. The files kubegate reads do not change while it runs.
type pathCache struct {
	real, cleaned sync.Map
}

// evalSymlinks is filepath.EvalSymlinks(p), once per path that exists (a
// missing one may be made: a remote base's checkout).
func (c *pathCache) evalSymlinks(p string) (string, error) {
	if v, ok := c.real.Load(p); ok {
		return v.(string), nil
	}
	real, err := filepath.EvalSymlinks(p)
	if err == nil {
		c.real.Store(p, real)
	}
	return real, err
}

type cleanedPath struct {
	dir  filesys.ConfirmedDir
	name string
}

// cleanedAbs is fsys.CleanedAbs(p), once per path that exists.
func (c *pathCache) cleanedAbs(fsys filesys.FileSystem, p string) (filesys.ConfirmedDir, string, error) {
	if v, ok := c.cleaned.Load(p); ok {
		r := v.(cleanedPath)
		return r.dir, r.name, nil
	}
	dir, name, err := fsys.CleanedAbs(p)
	if err == nil {
		c.cleaned.Store(p, cleanedPath{dir, name})
	}
	return dir, name, err
}

func (g *guardedFS) check(p string) error {
	abs, err := filepath.Abs(p)
	if err != nil {
		return err
	}
	real, err := g.paths.evalSymlinks(abs)
	if err != nil {
		real = abs // a missing file: let the real call say so
	}
	if !Within(real, g.root) && !(g.allowRemote && Within(real, os.TempDir())) {
		return fmt.Errorf("refusing to read %s: outside the repository %s", p, g.root)
	}
	return nil
}

func (g *guardedFS) ReadFile(p string) ([]byte, error) {
	if g.marked != nil {
		if data, ok := g.marked[g.abs(p)]; ok {
			return data, nil
		}
		if data, ok := g.marked[g.paths.resolved(g.abs(p))]; ok {
			return data, nil
		}
	}
	if data, ok := g.virtual(p); ok {
		return data, nil
	}
	if err := g.check(p); err != nil {
		return nil, err
	}
	data, err := g.read(p)
	if err != nil {
		return data, err
	}
	if g.charts != nil {
		if rewritten, ok := g.charts.kustomization[g.abs(p)]; ok {
			data = rewritten
		}
	}
	if g.abs(p) != g.top || g.marked != nil {
		return data, nil
	}
	return withOriginAnnotations(data)
}

// read reads a file of the repository through its os.Root (a remote
// base's checkout in the temporary directory, with --allow-remote, from
// the disk).
func (g *guardedFS) read(p string) ([]byte, error) {
	abs := g.abs(p)
	if !Within(abs, g.root) || g.files == nil {
		return g.FileSystem.ReadFile(p)
	}
	f, err := OpenIn(g.files, g.root, abs)
	if errors.Is(err, ErrOutside) {
		return nil, fmt.Errorf("refusing to read %s: outside the repository %s", p, g.root)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, g.maxBytes+1))
	if err == nil && int64(len(data)) > g.maxBytes {
		return nil, fmt.Errorf("%s is over the %s limit (--max-file-size)", p, FormatBytes(g.maxBytes))
	}
	return data, err
}

func (g *guardedFS) abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

// virtual is a chart's output served as a file.
func (g *guardedFS) virtual(p string) ([]byte, bool) {
	if g.charts == nil {
		return nil, false
	}
	data, ok := g.charts.files[g.abs(p)]
	return data, ok
}

func (g *guardedFS) Exists(p string) bool {
	if _, ok := g.virtual(p); ok {
		return true
	}
	return g.FileSystem.Exists(p)
}

func (g *guardedFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	if _, ok := g.virtual(p); ok {
		dir, err := filepath.EvalSymlinks(filepath.Dir(g.abs(p)))
		if err != nil {
			return "", "", err
		}
		return filesys.ConfirmedDir(dir), filepath.Base(p), nil
	}
	return g.paths.cleanedAbs(g.FileSystem, p)
}

func (g *guardedFS) IsDir(p string) bool {
	if _, ok := g.virtual(p); ok {
		return false
	}
	return g.FileSystem.IsDir(p)
}

func (g *guardedFS) Open(p string) (filesys.File, error) {
	if _, ok := g.virtual(p); ok {
		return nil, fmt.Errorf("%s is read whole", p)
	}
	if err := g.check(p); err != nil {
		return nil, err
	}
	return g.FileSystem.Open(p)
}

func (g *guardedFS) ReadDir(p string) ([]string, error) {
	if err := g.check(p); err != nil {
		return nil, err
	}
	return g.FileSystem.ReadDir(p)
}

func (g *guardedFS) Glob(pattern string) ([]string, error) {
	matches, err := g.FileSystem.Glob(pattern)
	var ok []string
	for _, m := range matches {
		if g.check(m) == nil {
			ok = append(ok, m)
		}
	}
	return ok, err
}

// withOriginAnnotations adds originAnnotations to a kustomization's
// buildMetadata.
func withOriginAnnotations(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return data, nil
	}
	root := doc.Content[0]
	key, seq := mapValue(root, "buildMetadata")
	if key == nil {
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "buildMetadata"}, &yaml.Node{Kind: yaml.SequenceNode})
		_, seq = mapValue(root, "buildMetadata")
	}
	for _, e := range seq.Content {
		if e.Value == types.OriginAnnotations {
			return data, nil
		}
	}
	seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: types.OriginAnnotations})
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(&doc); err != nil {
		return data, nil
	}
	return buf.Bytes(), nil
}
