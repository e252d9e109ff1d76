// Package load reads Kubernetes manifests (YAML and JSON files, `kind: List`,
// standard input, directories and kustomizations rendered in-process) into
// resources that remember, for every field, the file, line and column a
// person edits to change it.
package load

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"go.yaml.in/yaml/v3"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/load/internal/helm"
)

// Limits bound the resources that one input can consume.
type Limits struct {
	// MaxFileBytes is the largest file read; larger files are an error.
	MaxFileBytes int64
	// MaxNodes is the most YAML nodes one document may expand to (aliases
	// counted each time they are used).
	MaxNodes int
}

// DefaultLimits are generous for real manifests and small enough to stop
// alias bombs and runaway files.
var DefaultLimits = Limits{MaxFileBytes: 32 << 20, MaxNodes: 1_000_000}

// Options configure Load.
type Options struct {
	// WorkDir is where relative paths start and what reported file names
	// are relative to. Empty means the process's working directory.
	WorkDir string
	// Stdin is read for the path "-".
	Stdin io.Reader
	// AllowRemote lets kustomizations use remote bases and resources.
	AllowRemote bool
	Limits      Limits
	// Shard, when Count > 1, loads only the inputs of shard Index (1 to
	// Count): see Shard.
	Shard Shard
	// Progress, when set, is told how many inputs there are and counts
	// each one loaded.
	Progress interface {
		SetTotal(n int)
		Add(n int)
	}
	// KubeVersion is the target cluster's version (v1.N): charts render
	// with its capabilities. Empty means DefaultKubeVersion.
	KubeVersion string
	// Charts configure how charts render; a chart without an entry
	// renders with its own values.
	Charts []ChartConfig
	// ChartTimeout bounds one rendering of a chart (0: 10 s).
	ChartTimeout time.Duration
	// Exclude are the files and directories a directory scan leaves out.
	Exclude []Exclude

	// originAnnotations renders every kustomization with kustomize's
	// origin annotations, not markers (marks.go), and onRender is told of
	// every kustomization rendered and whether with markers: tests compare
	// the two ways.
	originAnnotations bool
	onRender          func(dir string, marked bool)
}

// Exclude is a glob (with ** for any depth) over "/"-separated paths
// relative to Base, an absolute directory: the working directory for
// --exclude, the configuration file's directory for its exclude: entries.
type Exclude struct {
	Base, Glob string
}

// excluded reports whether a scan leaves abs out.
func (l *loader) excluded(abs string) bool {
	for _, x := range l.opts.Exclude {
		rel, err := filepath.Rel(x.Base, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		if ok, _ := doublestar.Match(x.Glob, filepath.ToSlash(rel)); ok {
			return true
		}
	}
	return false
}

// Shard is one part of a run split across parallel jobs (a CI matrix).
// Inputs are assigned by a hash of their unit: a kustomization by its
// directory, a plain file by the directory that holds it, so that the
// files of one application stay together and cross-resource rules still
// see them side by side. The assignment depends only on the paths, so
// every input lands in exactly one shard in every run. Standard input is
// always in shard 1.
type Shard struct{ Index, Count int }

// owns reports whether the shard loads the unit named key.
func (s Shard) owns(key string) bool {
	if s.Count <= 1 {
		return true
	}
	if key == "" {
		return s.Index == 1
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64()%uint64(s.Count)) == s.Index-1
}

// Resource is one Kubernetes object as policies see it, with its source.
type Resource struct {
	Object map[string]any
	Source *Source
	// Variant names the values a chart was rendered with, when it is not
	// the chart's main rendering (ci/prod-values.yaml, say): resources of
	// one variant are evaluated together, apart from the rest.
	Variant string
	// Unit is what rendered the resource, as reports name it: the
	// kustomization or chart directory, or the plain file.
	Unit  string
	scope string
}

// Scope says which resources are deployed together: "" for everything
// but the variants of charts, each of which is a deployment of its own.
func (r *Resource) Scope() string { return r.scope }

// ID names the resource in findings.
func (r *Resource) ID() finding.Resource {
	meta, _ := r.Object["metadata"].(map[string]any)
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	return finding.Resource{
		APIVersion: str(r.Object, "apiVersion"),
		Kind:       str(r.Object, "kind"),
		Namespace:  str(meta, "namespace"),
		// An object named by the API server (a Helm hook Job, say) is
		// known by its generateName prefix.
		Name:    cmp.Or(str(meta, "name"), str(meta, "generateName")),
		Variant: r.Variant,
	}
}

// Locate maps a field path to where a person edits it.
func (r *Resource) Locate(p Path) finding.Location {
	return r.Source.Locate(r.Object, p)
}

// Where is Locate with the other places worth seeing (see Source.Where).
func (r *Resource) Where(p Path) (finding.Location, []finding.Location) {
	return r.Source.Where(r.Object, p)
}

// Result is everything Load read.
type Result struct {
	Resources []*Resource
	Errors    []finding.InputError
	// Inputs counts the files, kustomizations and charts loaded;
	// OtherShards those left to other shards.
	Inputs, OtherShards int
	// Skipped counts the files of scanned directories that hold no
	// Kubernetes object (Ansible playbooks, CI configuration, values).
	Skipped int
	// Unchecked are parts of charts that could not be rendered, for
	// reasons that are not errors in the input.
	Unchecked []Unchecked
}

// StdinName is the file name reported for standard input.
const StdinName = "<stdin>"

// Load reads every path: "-" for standard input, a file, a kustomization
// directory, or a directory walked recursively. Problems are collected, never
// fatal: whatever can be read is returned.
func Load(paths []string, opts Options) *Result {
	l, err := newLoader(opts)
	if err != nil {
		return &Result{Errors: []finding.InputError{{Message: err.Error()}}}
	}
	var jobs []job
	for _, p := range paths {
		for _, j := range l.plan(p) {
			if opts.Shard.owns(l.shardKey(j)) {
				jobs = append(jobs, j)
			} else {
				l.res.OtherShards++
			}
		}
	}
	l.res.Inputs = len(jobs)
	if opts.Progress != nil {
		opts.Progress.SetTotal(len(jobs))
	}
	l.run(jobs)
	l.closeRoots()
	res := l.res // not the loader's: what it keeps for loading is dropped
	return &res
}

type loader struct {
	opts  Options
	mu    sync.Mutex
	res   Result
	roots map[string]*helm.Files
	// marked is how to mark the files kustomize reads, made once per run
	// (marks.go), and paths where the paths it asks for lead.
	marked sync.Map
	paths  pathCache
}

func newLoader(opts Options) (*loader, error) {
	if opts.WorkDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		opts.WorkDir = wd
	}
	wd, err := filepath.Abs(opts.WorkDir)
	if err != nil {
		return nil, err
	}
	opts.WorkDir = wd
	if opts.Limits.MaxFileBytes <= 0 {
		opts.Limits.MaxFileBytes = DefaultLimits.MaxFileBytes
	}
	if opts.Limits.MaxNodes <= 0 {
		opts.Limits.MaxNodes = DefaultLimits.MaxNodes
	}
	return &loader{opts: opts}, nil
}

// shardKey names a job's unit for sharding: "/"-separated and relative to
// the working directory, so the assignment is the same on every machine.
func (l *loader) shardKey(j job) string {
	switch {
	case j.kust != "":
		return l.display(j.kust)
	case j.chart != "":
		return l.display(j.chart)
	case j.file == "-":
		return ""
	default:
		return l.display(filepath.Dir(j.file))
	}
}

// job is one unit of loading: a plain file, a kustomization or a chart to
// render.
type job struct {
	file  string // absolute path of a plain file ("-" for stdin)
	kust  string // absolute path of a kustomization directory
	chart string // absolute path of a chart directory
	root  string // no file outside it may be read
	// scanned: the file was found in a directory, not named: one that
	// holds no Kubernetes object is skipped, not an error.
	scanned bool
}

func (l *loader) errorf(file string, line int, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.res.Errors = append(l.res.Errors, finding.InputError{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
}

func (l *loader) add(rs []*Resource) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.res.Resources = append(l.res.Resources, rs...)
}

// display turns an absolute path into the name reports use: relative to the
// working directory, with "/" separators.
func (l *loader) display(abs string) string {
	if abs == "-" {
		return StdinName
	}
	if rel, err := filepath.Rel(l.opts.WorkDir, abs); err == nil {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(abs)
}

func (l *loader) abs(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(l.opts.WorkDir, p)
}

// plan turns one command-line path into jobs.
func (l *loader) plan(p string) []job {
	if p == "-" {
		return []job{{file: "-"}}
	}
	abs := l.abs(p)
	fi, err := os.Stat(abs)
	if err != nil {
		l.errorf(l.display(abs), 0, "cannot read: %v", unwrapPathError(err))
		return nil
	}
	root := repositoryRoot(abs, l.opts.WorkDir)
	if !fi.IsDir() {
		switch base := filepath.Base(abs); {
		case isKustomizationFile(base):
			return []job{{kust: filepath.Dir(abs), root: root}}
		case base == chartFile:
			return []job{{chart: filepath.Dir(abs), root: root}}
		}
		return []job{{file: abs, root: root}}
	}
	if isChart(abs) {
		return []job{{chart: abs, root: root}}
	}
	if kustomizationFile(abs) != "" {
		return []job{{kust: abs, root: root}}
	}
	return l.walk(abs, root)
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// walk finds the manifests under a directory: every chart and every
// kustomization that no other chart or kustomization here uses (each
// rendered as one unit), and every YAML or JSON file that is not inside a
// chart's or a kustomization's directory.
func (l *loader) walk(dir, root string) []job {
	var files, kusts, charts []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			l.errorf(l.display(p), 0, "cannot read: %v", unwrapPathError(err))
			return nil
		}
		if p != dir && l.excluded(p) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			// An OCI image layout (images for --image-layout) holds
			// index.json and blobs, not manifests.
			if _, err := os.Lstat(filepath.Join(p, "oci-layout")); err == nil {
				return filepath.SkipDir
			}
			// A chart is one unit: its templates, values and subcharts
			// are never manifests of their own.
			if isChart(p) {
				charts = append(charts, p)
				return filepath.SkipDir
			}
			if kustomizationFile(p) != "" {
				kusts = append(kusts, p)
			}
			return nil
		}
		if isManifestName(d.Name()) && !isKustomizationFile(d.Name()) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		l.errorf(l.display(dir), 0, "cannot read: %v", err)
	}
	used := map[string]bool{}
	for _, k := range kusts {
		for _, dep := range l.kustomizationDeps(k, root) {
			if dep != k {
				used[dep] = true
			}
		}
	}
	var jobs []job
	for _, c := range charts {
		info := l.chartInfo(c, root)
		for _, dep := range info.local {
			used[dep] = true
		}
	}
	for _, c := range charts {
		// A library chart renders only through a chart that uses it; a
		// chart another one uses (file://) or a kustomization inflates
		// renders through it.
		if !used[c] && !l.chartInfo(c, root).library {
			jobs = append(jobs, job{chart: c, root: root})
		}
	}
	for _, k := range kusts {
		// A component only means something inside a kustomization; one
		// that nothing here uses cannot be built on its own.
		if !used[k] && !isComponent(k) {
			jobs = append(jobs, job{kust: k, root: root})
		}
	}
	for _, f := range files {
		if !insideAny(f, kusts) {
			jobs = append(jobs, job{file: f, root: root, scanned: true})
		}
	}
	return jobs
}

func insideAny(file string, dirs []string) bool {
	for _, d := range dirs {
		if strings.HasPrefix(file, d+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

func isManifestName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

func isKustomizationFile(name string) bool { return slices.Contains(kustomizationNames, name) }

// kustomizationFile returns the kustomization file in dir, or "".
func kustomizationFile(dir string) string {
	for _, n := range kustomizationNames {
		p := filepath.Join(dir, n)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// isComponent reports whether the kustomization in dir is a kustomize
// Component (kind: Component).
func isComponent(dir string) bool {
	data, err := os.ReadFile(kustomizationFile(dir))
	if err != nil {
		return false
	}
	var head struct {
		Kind string `yaml:"kind"`
	}
	_ = yaml.Unmarshal(data, &head)
	return head.Kind == "Component"
}

// repositoryRoot is the boundary no input may read outside of: the git
// work tree holding path, else the working directory when path is inside
// it, else path itself (its directory for a file).
func repositoryRoot(path, workDir string) string {
	for d := path; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	if Within(path, workDir) {
		return workDir
	}
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		return filepath.Dir(path)
	}
	return path
}

// within reports whether path is root or below it.
// Within says whether path is root or below it (both cleaned, absolute or
// both relative).
func Within(path, root string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// run executes jobs in parallel and orders the results deterministically.
func (l *loader) run(jobs []job) {
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	results := make([][]*Resource, len(jobs))
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			defer func() {
				if r := recover(); r != nil {
					name := cmp.Or(j.kust, j.chart, j.file)
					l.errorf(l.display(name), 0, "internal error while loading (please report it): %v", r)
				}
			}()
			if l.opts.Progress != nil {
				defer l.opts.Progress.Add(1)
			}
			switch {
			case j.kust != "":
				results[i] = l.renderKustomization(j.kust, j.root)
			case j.chart != "":
				results[i] = l.renderChart(j.chart, j.root)
			default:
				results[i] = l.loadFile(j.file, j.root, j.scanned)
			}
		}()
	}
	wg.Wait()
	for i, rs := range results {
		unit := l.display(cmp.Or(jobs[i].kust, jobs[i].chart, jobs[i].file))
		for _, r := range rs {
			r.Unit = unit
		}
		l.add(rs)
	}
}

// readFile reads a file that must lie inside root, within the size limit.
func (l *loader) readFile(abs, root string) ([]byte, error) {
	var r io.Reader
	if abs == "-" {
		if l.opts.Stdin == nil {
			return nil, errors.New("no standard input")
		}
		r = l.opts.Stdin
	} else {
		f, err := l.open(abs, root)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > l.opts.Limits.MaxFileBytes {
			return nil, fmt.Errorf("file is %d bytes, over the %s limit (--max-file-size)", fi.Size(), FormatBytes(l.opts.Limits.MaxFileBytes))
		}
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, l.opts.Limits.MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > l.opts.Limits.MaxFileBytes {
		return nil, fmt.Errorf("input is over the %s limit (--max-file-size)", FormatBytes(l.opts.Limits.MaxFileBytes))
	}
	return data, nil
}

// open opens a file of the repository through an os.Root at root: a
// symbolic link may lead anywhere inside the repository, never out of it,
// and the check and the read are one operation.
func (l *loader) open(abs, root string) (*os.File, error) {
	files, err := l.files(root)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %v", unwrapPathError(err))
	}
	f, err := OpenIn(files.Root, root, abs)
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, ErrOutside):
		return nil, fmt.Errorf("refusing to read %s: it resolves outside the repository%s", l.display(abs), l.rootName(root))
	}
	return nil, fmt.Errorf("cannot read: %v", unwrapPathError(err))
}

// ErrOutside is a path that leads out of the repository (or of the
// directory OpenIn confines to).
var ErrOutside = errors.New("outside the repository")

// OpenIn opens abs through root (the os.Root of the directory rootDir);
// ErrOutside when it leads out of rootDir.
// os.Root refuses an absolute symbolic link even when it points inside the
// root; such a link is followed when, resolved, it stays inside (and the
// resolved path is opened through the root all the same).
func OpenIn(root *os.Root, rootDir, abs string) (*os.File, error) {
	rel, err := filepath.Rel(rootDir, abs)
	if err != nil || !Within(abs, rootDir) {
		return nil, ErrOutside
	}
	f, err := root.Open(rel)
	if err == nil || !isEscape(err) {
		return f, err
	}
	real, rerr := filepath.EvalSymlinks(abs)
	if rerr != nil || !Within(real, rootDir) {
		return nil, ErrOutside
	}
	if realRoot, rerr := filepath.EvalSymlinks(rootDir); rerr == nil {
		if rel, rerr = filepath.Rel(realRoot, real); rerr == nil {
			if f, err = root.Open(rel); err == nil {
				return f, nil
			}
		}
	}
	if isEscape(err) {
		return nil, ErrOutside
	}
	return nil, err
}

// isEscape reports whether an os.Root refused a path for leaving it.
func isEscape(err error) bool {
	return err != nil && strings.Contains(err.Error(), "escapes from parent")
}

// FormatBytes writes a size as limits are written: "32 MiB", "1 KiB", or
// a number of bytes.
func FormatBytes(n int64) string {
	for _, u := range []struct {
		shift int
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n > 0 && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// rootName names the repository root in a message: nothing more when it
// is the working directory.
func (l *loader) rootName(root string) string {
	if d := l.display(root); d != "." {
		return " " + d
	}
	return ""
}

// loadFile reads one plain YAML/JSON file. A file found in a scanned
// directory that holds no Kubernetes object (an Ansible playbook, a CI
// configuration, Helm values) is skipped; one named on the command line
// is an error.
func (l *loader) loadFile(abs, root string, scanned bool) []*Resource {
	name := l.display(abs)
	data, err := l.readFile(abs, root)
	if err != nil {
		l.errorf(name, 0, "%v", err)
		return nil
	}
	if strings.EqualFold(filepath.Ext(abs), ".json") {
		// kubectl decodes a file that looks like JSON as JSON, strictly:
		// YAML would accept a trailing comma or a comment.
		if e := checkJSON(data); e != nil {
			if scanned && !looksLikeManifest(data) {
				l.skipped()
				return nil
			}
			l.errorf(name, e.line, "%s", e.msg)
			return nil
		}
	}
	docs, errs := decodeStream(data, l.opts.Limits)
	if len(errs) > 0 && scanned && (!looksLikeManifest(data) || bytes.Contains(data, []byte("{{"))) {
		// Not YAML kubegate can read, and either nothing in it says
		// Kubernetes or it is a template of some other tool ({{ }}), which
		// no cluster could take as it is.
		l.skipped()
		return nil
	}
	for _, e := range errs {
		l.errorf(name, e.line, "%s", e.msg)
	}
	before := l.errorCount()
	var out []*Resource
	for _, d := range docs {
		out = append(out, l.resources(name, d, scanned)...)
	}
	if len(out) == 0 && len(errs) == 0 && l.errorCount() == before {
		if scanned {
			l.skipped()
		} else if !hasKustomizeDoc(docs) {
			l.errorf(name, 0, "no Kubernetes object in this file (a mapping with apiVersion and kind): nothing to check")
		}
	}
	return out
}

func (l *loader) errorCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.res.Errors)
}

func (l *loader) skipped() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.res.Skipped++
}

// manifestKeys finds apiVersion and kind keys at the start of a line.
var manifestKeys = regexp.MustCompile(`(?m)^\s*(?:- )?["']?(apiVersion|kind)["']?\s*:`)

// looksLikeManifest reports whether text that did not parse names both an
// apiVersion and a kind: a broken manifest rather than some other file.
func looksLikeManifest(data []byte) bool {
	seen := map[string]bool{}
	for _, m := range manifestKeys.FindAllSubmatch(data, -1) {
		seen[string(m[1])] = true
	}
	return seen["apiVersion"] && seen["kind"]
}

func hasKustomizeDoc(docs []document) bool {
	for _, d := range docs {
		if m, ok := d.value.(map[string]any); ok {
			if k, _ := m["kind"].(string); k == "Kustomization" || k == "Component" {
				return true
			}
		}
	}
	return false
}

// resources turns one decoded document into resources: a List is unpacked.
// A document that is not a Kubernetes object is an error in a file named
// on the command line and skipped in a scanned one (Ansible playbooks are
// lists; Helm's index.yaml has an apiVersion and no kind).
func (l *loader) resources(name string, d document, scanned bool) []*Resource {
	obj, ok := d.value.(map[string]any)
	if !ok {
		if !scanned {
			l.errorf(name, d.node.Line, "document is not a Kubernetes object (a mapping with apiVersion and kind)")
		}
		return nil
	}
	kind, _ := obj["kind"].(string)
	apiVersion, _ := obj["apiVersion"].(string)
	switch {
	case kind == "" && apiVersion == "":
		// Some other YAML (Helm values, CI config ...): not ours to judge.
		return nil
	case kind == "":
		if !scanned {
			l.errorf(name, d.node.Line, "Kubernetes object has apiVersion %q but no kind", apiVersion)
		}
		return nil
	case apiVersion == "":
		if !scanned {
			l.errorf(name, d.node.Line, "Kubernetes object of kind %q has no apiVersion", kind)
		}
		return nil
	case kind == "Kustomization" || kind == "Component":
		return nil
	case kind == "List":
		items, _ := obj["items"].([]any)
		_, itemsNode := mapValue(d.node, "items")
		var out []*Resource
		for i, it := range items {
			var n = d.node
			if itemsNode != nil && i < len(itemsNode.Content) {
				n = deref(itemsNode.Content[i])
			}
			out = append(out, l.resources(name, document{node: n, value: it}, scanned)...)
		}
		return out
	}
	return []*Resource{{Object: obj, Source: &Source{File: name, pos: compact(d.node)}}}
}
