package cli

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"

	"github.com/kubegate/kubegate/baseline"
	"github.com/kubegate/kubegate/evaluate"
	"github.com/kubegate/kubegate/exceptions"
	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/internal/gitref"
	"github.com/kubegate/kubegate/load"
)

// maxBaselineBytes bounds the tree --baseline writes out.
const maxBaselineBytes = 8 << 30

// baseLoad is the inputs as they are at the baseline commit: written into
// dir (removed when the run ends) and loaded from there.
type baseLoad struct {
	dir    string
	loaded *load.Result
	err    error
}

// loadBaseline writes the tree at the baseline commit into a temporary
// directory (in-process: the working tree and the repository are never
// touched) and loads the same paths from it, with the same options, each
// working-tree path mapped to its place in that copy.
func loadBaseline(tree *gitref.Tree, o *checkOptions, env Env) baseLoad {
	dir, err := os.MkdirTemp("", "kubegate-baseline-")
	if err != nil {
		return baseLoad{err: err}
	}
	bl := baseLoad{dir: dir}
	if bl.err = tree.Write(dir, maxBaselineBytes); bl.err != nil {
		return bl
	}
	// The copy is a repository root as the working tree is: nothing is
	// read outside it.
	if bl.err = os.Mkdir(filepath.Join(dir, ".git"), 0o755); bl.err != nil {
		return bl
	}
	at := func(abs string) string {
		rel, err := tree.Rel(abs)
		if err != nil {
			return abs // outside the repository: refused by load as in the head run
		}
		return filepath.Join(dir, filepath.FromSlash(rel))
	}
	wd := at(env.workDir())
	if err := os.MkdirAll(wd, 0o755); err != nil {
		bl.err = err
		return bl
	}
	opts := o.loadOptions(wd, nil)
	opts.Charts = nil
	for _, c := range o.charts {
		c.Path = at(c.Path)
		vs := make([]string, len(c.ValuesFiles))
		for i, f := range c.ValuesFiles {
			vs[i] = at(f)
		}
		c.ValuesFiles = vs
		opts.Charts = append(opts.Charts, c)
	}
	opts.Exclude = nil
	for _, x := range o.exclude {
		opts.Exclude = append(opts.Exclude, load.Exclude{Base: at(x.Base), Glob: x.Glob})
	}
	paths := make([]string, len(o.paths))
	for i, p := range o.paths {
		if filepath.IsAbs(p) {
			p = at(p)
		}
		paths[i] = p
	}
	bl.loaded = load.Load(paths, opts)
	return bl
}

// compareBaseline evaluates the baseline's inputs with the same engine,
// configuration and exceptions, and classifies head's findings against
// them; head's report gains its fixed findings and the rendered changes.
// Images only the baseline names are checked too (their facts decide its
// findings), but they are not head's images.
func compareBaseline(ctx context.Context, rep *finding.Report, engine *evaluate.Engine, pol exceptions.Policy, o *checkOptions, bl baseLoad, head []*load.Resource, headRefs []string, headFacts map[string]any, extra []finding.Finding, env Env) error {
	refs, uses := load.Images(bl.loaded.Resources)
	known := map[string]bool{}
	for _, r := range headRefs {
		known[r] = true
	}
	var missing []string
	for _, r := range refs {
		if !known[r] {
			missing = append(missing, r)
		}
	}
	facts := headFacts
	if len(missing) > 0 {
		checked, err := checkImages(ctx, o.images, missing, uses, env)
		if err != nil {
			return err
		}
		more := checked.facts
		facts = maps.Clone(headFacts)
		imgs := map[string]any{}
		for _, m := range []map[string]any{headFacts, more} {
			if x, ok := m["images"].(map[string]any); ok {
				maps.Copy(imgs, x)
			}
		}
		facts["images"] = imgs
	}
	base := evaluateRun(ctx, engine, pol, o, bl.loaded, facts, extra, env)
	if n := len(base.Errors); n > 0 {
		fmt.Fprintf(env.Stderr, "kubegate: --baseline %s: %d input error(s) at %s, so the findings they hid there count as new; the first: %s\n", o.baseline, n, o.baseline, base.Errors[0].Error())
	}
	baseline.Classify(rep, base)
	rep.Changes = baseline.Changes(head, bl.loaded.Resources)
	return nil
}
