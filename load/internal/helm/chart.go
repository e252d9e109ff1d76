// Package helm renders Helm charts in-process with the Helm SDK, as `helm
// template` does, and keeps what kubegate needs to point a finding at the
// line a person edits: the template line that wrote each field, and the
// values line that set a value the template copied.
//
// Chart files are read through an os.Root at the repository, so that no
// symlink and no .Files.Get reaches outside it, and rendering runs under a
// budget (see budget.go), so that no template can hang kubegate or exhaust
// its memory.
package helm

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/ignore"
)

// Problem is something wrong with a chart's files, at a file and line.
type Problem struct {
	File    string // display path
	Line    int
	Message string
}

func (p *Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	}
	return p.File + ": " + p.Message
}

// Dependency is a chart dependency named in Chart.yaml that is neither
// vendored under charts/ nor a local (file://) chart in the repository: it
// cannot be rendered offline.
type Dependency struct {
	Name, Version, Repository string
	Line                      int // of its entry in Chart.yaml
	// Condition and Tags decide whether a rendering would include it.
	Condition string
	Tags      []string
}

// Files reads the repository, confined to it.
type Files struct {
	Root    *os.Root // opened at RootDir
	RootDir string   // absolute
	// Display names a path in messages (relative to the working
	// directory).
	Display func(abs string) string
	// MaxFileBytes bounds one file.
	MaxFileBytes int64
}

func (f *Files) rel(abs string) (string, error) {
	rel, err := filepath.Rel(f.RootDir, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s is outside the repository", f.Display(abs))
	}
	return rel, nil
}

// ReadFile reads a file of the repository; a symlink may not lead out of it.
func (f *Files) ReadFile(abs string) ([]byte, error) {
	rel, err := f.rel(abs)
	if err != nil {
		return nil, err
	}
	fi, err := f.Root.Stat(rel)
	if err != nil {
		return nil, confinedError(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	if fi.Size() > f.MaxFileBytes {
		return nil, fmt.Errorf("file is %d bytes, over the %s limit (--max-file-size)", fi.Size(), formatBytes(f.MaxFileBytes))
	}
	data, err := f.Root.ReadFile(rel)
	if err != nil {
		return nil, confinedError(err)
	}
	return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), nil
}

// confinedError words the os.Root errors for a person.
func confinedError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if strings.Contains(err.Error(), "escapes") {
		return errors.New("it resolves outside the repository: kubegate reads no file outside it")
	}
	return err
}

// origin is where a chart's files are: a directory, or an archive.
type origin struct {
	dir     string // absolute
	archive string // absolute path of the .tgz
}

// file names one file of a chart for messages and locations.
func (o origin) file(f *Files, name string) (display, inArchive string) {
	if o.archive != "" {
		return f.Display(o.archive), name
	}
	return f.Display(filepath.Join(o.dir, filepath.FromSlash(name))), ""
}

// node is one chart as found: its own files and its subcharts.
type node struct {
	origin origin
	files  []*archive.BufferedFile // names relative to the chart
	subs   []*node
}

// Chart is a chart directory read once, rendered per variant.
type Chart struct {
	Dir  string // absolute
	Name string
	// Library charts are not rendered on their own.
	Library bool
	// Missing are the dependencies that could not be found.
	Missing []Dependency

	files *Files
	top   *node
	lim   Limits
	sites *sites

	mu       sync.Mutex
	rewrites map[rewriteKey]rewritten
}

// Load reads the chart in dir and its subcharts: those under charts/
// (directories and archives), and local dependencies (file://) elsewhere in
// the repository. .helmignore is honoured as Helm honours it.
func Load(files *Files, dir string, lim Limits) (*Chart, error) {
	c := &Chart{Dir: dir, files: files, lim: lim, sites: newSites(), rewrites: map[rewriteKey]rewritten{}}
	budget := lim.MaxChartBytes
	buffered, err := c.readDir(dir, &budget)
	if err != nil {
		return nil, err
	}
	c.top, err = c.split(buffered, origin{dir: dir}, &budget, 0)
	if err != nil {
		return nil, err
	}
	meta, err := c.top.metadata()
	if err != nil {
		return nil, &Problem{File: files.Display(filepath.Join(dir, "Chart.yaml")), Message: err.Error()}
	}
	c.Name, c.Library = meta.Name, meta.Type == "library"
	if err := c.resolve(c.top, meta, &budget, 0); err != nil {
		return nil, err
	}
	return c, nil
}

func (n *node) metadata() (*chart.Metadata, error) {
	for _, f := range n.files {
		if f.Name == "Chart.yaml" {
			var m chart.Metadata
			if err := yaml.Unmarshal(f.Data, &m); err != nil {
				return nil, err
			}
			return &m, nil
		}
	}
	return nil, errors.New("Chart.yaml is missing")
}

// readDir reads every file of a chart directory that .helmignore keeps.
func (c *Chart) readDir(dir string, budget *int64) ([]*archive.BufferedFile, error) {
	rules := ignore.Empty()
	if data, err := c.files.ReadFile(filepath.Join(dir, ignore.HelmIgnore)); err == nil {
		if rules, err = ignore.Parse(bytes.NewReader(data)); err != nil {
			return nil, &Problem{File: c.files.Display(filepath.Join(dir, ignore.HelmIgnore)), Message: err.Error()}
		}
	}
	rules.AddDefaults()
	var out []*archive.BufferedFile
	var walk func(abs, name string, depth int) error
	walk = func(abs, name string, depth int) error {
		if depth > 32 {
			return &Problem{File: c.files.Display(abs), Message: "directories nest more than 32 deep (a symlink loop?)"}
		}
		rel, err := c.files.rel(abs)
		if err != nil {
			return &Problem{File: c.files.Display(abs), Message: err.Error()}
		}
		d, err := c.files.Root.Open(rel)
		if err != nil {
			return &Problem{File: c.files.Display(abs), Message: confinedError(err).Error()}
		}
		entries, err := d.ReadDir(-1)
		d.Close()
		if err != nil {
			return &Problem{File: c.files.Display(abs), Message: err.Error()}
		}
		slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
		for _, e := range entries {
			child, childName := filepath.Join(abs, e.Name()), path.Join(name, e.Name())
			childRel, _ := c.files.rel(child)
			fi, err := c.files.Root.Stat(childRel) // follows symlinks, inside the root only
			if err != nil {
				return &Problem{File: c.files.Display(child), Message: confinedError(err).Error()}
			}
			if rules.Ignore(childName, fi) {
				continue
			}
			if fi.IsDir() {
				if err := walk(child, childName, depth+1); err != nil {
					return err
				}
				continue
			}
			if !fi.Mode().IsRegular() {
				return &Problem{File: c.files.Display(child), Message: "not a regular file"}
			}
			if *budget -= fi.Size(); *budget < 0 {
				return &Problem{File: c.files.Display(dir), Message: fmt.Sprintf("the chart's files are over the %s limit", formatBytes(c.lim.MaxChartBytes))}
			}
			data, err := c.files.ReadFile(child)
			if err != nil {
				return &Problem{File: c.files.Display(child), Message: err.Error()}
			}
			out = append(out, &archive.BufferedFile{Name: childName, Data: data})
		}
		return nil
	}
	return out, walk(dir, "", 0)
}

// split separates a chart's own files from its subcharts', as Helm's
// loader does: charts/NAME/... is a subchart directory, charts/NAME.tgz an
// archived one; names starting with _ or . are not charts.
func (c *Chart) split(files []*archive.BufferedFile, o origin, budget *int64, depth int) (*node, error) {
	if depth > 16 {
		return nil, &Problem{File: c.files.Display(o.dir + o.archive), Message: "subcharts nest more than 16 deep"}
	}
	n := &node{origin: o}
	groups := map[string][]*archive.BufferedFile{}
	for _, f := range files {
		rest, ok := strings.CutPrefix(f.Name, "charts/")
		if !ok || path.Ext(f.Name) == ".prov" {
			n.files = append(n.files, f)
			continue
		}
		name, _, _ := strings.Cut(rest, "/")
		groups[name] = append(groups[name], &archive.BufferedFile{Name: rest, ModTime: f.ModTime, Data: f.Data})
	}
	for _, name := range slices.Sorted(maps.Keys(groups)) {
		group := groups[name]
		if strings.IndexAny(name, "_.") == 0 {
			continue
		}
		var sub *node
		var err error
		if path.Ext(name) == ".tgz" {
			archived := o
			if o.archive == "" {
				archived = origin{archive: filepath.Join(o.dir, "charts", name)}
			}
			var unpacked []*archive.BufferedFile
			unpacked, err = archive.LoadArchiveFiles(bytes.NewReader(group[0].Data))
			if err == nil {
				for _, f := range unpacked {
					*budget -= int64(len(f.Data))
				}
				if *budget < 0 {
					err = fmt.Errorf("the chart's files are over the %s limit", formatBytes(c.lim.MaxChartBytes))
				} else {
					sub, err = c.split(unpacked, archived, budget, depth+1)
				}
			}
		} else {
			var trimmed []*archive.BufferedFile
			for _, f := range group {
				if _, rest, ok := strings.Cut(f.Name, "/"); ok {
					trimmed = append(trimmed, &archive.BufferedFile{Name: rest, ModTime: f.ModTime, Data: f.Data})
				}
			}
			sub, err = c.split(trimmed, origin{dir: filepath.Join(o.dir, "charts", name), archive: o.archive}, budget, depth+1)
		}
		if err != nil {
			var p *Problem
			if errors.As(err, &p) {
				return nil, err
			}
			display, _ := o.file(c.files, "charts/"+name)
			return nil, &Problem{File: display, Message: "cannot read subchart: " + err.Error()}
		}
		n.subs = append(n.subs, sub)
	}
	return n, nil
}

// resolve finds each dependency of Chart.yaml that is not vendored: a
// local one (repository file://...) is read from the repository; any other
// is recorded as missing (the chart renders without it, as if disabled).
func (c *Chart) resolve(n *node, meta *chart.Metadata, budget *int64, depth int) error {
	if depth > 16 {
		return nil
	}
	have := map[string]bool{}
	for _, s := range n.subs {
		if m, err := s.metadata(); err == nil {
			have[m.Name] = true
		}
	}
	var chartYAML *yaml.Node
	for i, dep := range meta.Dependencies {
		if dep == nil || have[dep.Name] {
			continue
		}
		if local, ok := strings.CutPrefix(dep.Repository, "file://"); ok && n.origin.archive == "" {
			dir := filepath.FromSlash(local)
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(n.origin.dir, dir)
			}
			// Only a chart inside the repository: one outside it is
			// as good as missing.
			if rel, err := c.files.rel(dir); err == nil {
				if fi, err := c.files.Root.Stat(filepath.Join(rel, "Chart.yaml")); err == nil && fi.Mode().IsRegular() {
					files, err := c.readDir(dir, budget)
					if err != nil {
						return err
					}
					sub, err := c.split(files, origin{dir: dir}, budget, depth+1)
					if err != nil {
						return err
					}
					subMeta, err := sub.metadata()
					if err != nil {
						return &Problem{File: c.files.Display(filepath.Join(dir, "Chart.yaml")), Message: err.Error()}
					}
					n.subs = append(n.subs, sub) // its own dependencies are resolved below
					have[subMeta.Name] = true
					continue
				}
			}
		}
		if n != c.top {
			continue // a subchart's own missing dependencies: Helm renders without them too
		}
		if chartYAML == nil {
			chartYAML = &yaml.Node{}
			for _, f := range n.files {
				if f.Name == "Chart.yaml" {
					_ = yaml.Unmarshal(f.Data, chartYAML)
				}
			}
		}
		c.Missing = append(c.Missing, Dependency{Name: dep.Name, Version: dep.Version, Repository: dep.Repository, Line: dependencyLine(chartYAML, i), Condition: dep.Condition, Tags: dep.Tags})
	}
	for _, s := range n.subs {
		if m, err := s.metadata(); err == nil && s.origin.archive == "" && depth < 16 {
			if err := c.resolve(s, m, budget, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// dependencyLine is the line of the i-th entry of Chart.yaml's
// dependencies.
func dependencyLine(doc *yaml.Node, i int) int {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return 0
	}
	for k := 0; k+1 < len(root.Content); k += 2 {
		if root.Content[k].Value == "dependencies" {
			seq := root.Content[k+1]
			if seq.Kind == yaml.SequenceNode && i < len(seq.Content) {
				return seq.Content[i].Line
			}
		}
	}
	return 0
}

// build makes Helm's chart from the files read: loaded afresh for every
// rendering, since rendering changes a chart (disabled dependencies are
// removed, aliased ones copied).
func (c *Chart) build(n *node, from map[*chart.Chart]*node) (*chart.Chart, error) {
	ch, err := loader.LoadFiles(n.files)
	if err != nil {
		display, inArchive := n.origin.file(c.files, "Chart.yaml")
		if inArchive != "" {
			display += " (" + inArchive + ")"
		}
		return nil, &Problem{File: display, Message: err.Error()}
	}
	from[ch] = n
	for _, s := range n.subs {
		sc, err := c.build(s, from)
		if err != nil {
			return nil, err
		}
		ch.AddDependency(sc)
	}
	return ch, nil
}
