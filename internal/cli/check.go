package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubegate/kubegate/baseline"
	"github.com/kubegate/kubegate/evaluate"
	"github.com/kubegate/kubegate/exceptions"
	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/internal/gitref"
	"github.com/kubegate/kubegate/internal/progress"
	"github.com/kubegate/kubegate/load"
	"github.com/kubegate/kubegate/report"
	"github.com/kubegate/kubegate/schema"
)

// checkOptions are the check command's flags, validated.
type checkOptions struct {
	outputs     []output
	pss         evaluate.PSSModes
	exemptNS    []string
	exemptRC    []string
	failOn      finding.Severity
	offline     bool
	images      imageOptions
	allowRemote bool
	kubeVersion string
	charts      []load.ChartConfig
	exclude     []load.Exclude
	shard       load.Shard
	limits      load.Limits
	cfg         *config // nil without a configuration file
	cfgDir      string  // the configuration file's directory (absolute)
	// baseline is --baseline REF; failOnExisting and showChanges go with it.
	baseline       string
	github         githubOptions
	failOnExisting bool
	showChanges    bool
	quiet, timings bool
	policies       []string
	schemas        []string
	data           []string
	namespaces     []string
	regoVersion    evaluate.RegoVersion
	evaluator      evaluate.Evaluator
	debug          bool
	src            source // where policies, data and the configuration come from
	paths          []string
}

// output is one -o FORMAT[=FILE].
type output struct {
	format string
	write  report.WriteFunc
	file   string // "" is standard output
	opts   report.Options
}

// parseOutputs reads the -o FORMAT[=FILE] flags; none means github under
// GitHub Actions, else text.
func parseOutputs(specs []string, env Env) ([]output, error) {
	if len(specs) == 0 {
		def := "text"
		if env.getenv("GITHUB_ACTIONS") == "true" {
			def = "github"
		}
		specs = []string{def}
	}
	var outs []output
	for _, spec := range specs {
		format, file, _ := strings.Cut(spec, "=")
		w, err := report.Lookup(format)
		if err != nil {
			return nil, fmt.Errorf("-o %s: %v", spec, err)
		}
		outs = append(outs, output{format: format, write: w, file: file})
	}
	return outs, nil
}

// parseRegoVersion reads --rego-version: auto, v0 or v1.
func parseRegoVersion(s string) (evaluate.RegoVersion, error) {
	v, ok := map[string]evaluate.RegoVersion{"auto": evaluate.RegoAuto, "v0": evaluate.RegoV0, "v1": evaluate.RegoV1}[s]
	if !ok {
		return v, fmt.Errorf("--rego-version: %q is not v0, v1 or auto", s)
	}
	return v, nil
}

var kubeVersionRE = regexp.MustCompile(`^v?1\.(\d{1,3})(?:\.\d+)?$`)

// parseKubeVersion reads a Kubernetes version, vX.Y (v1.30; a patch
// release is accepted and ignored), up to the newest kubegate knows.
func parseKubeVersion(s string) (string, error) {
	m := kubeVersionRE.FindStringSubmatch(s)
	if m == nil {
		return "", fmt.Errorf("%q is not a Kubernetes version vX.Y (for example v1.30)", s)
	}
	minor, _ := strconv.Atoi(m[1])
	if minor > evaluate.NewestPolicyMinor {
		return "", fmt.Errorf("%s is newer than the newest Kubernetes kubegate knows, %s", s, load.DefaultKubeVersion)
	}
	return fmt.Sprintf("v1.%d", minor), nil
}

// parseShard reads I/N, 1 <= I <= N.
func parseShard(s string) (load.Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return load.Shard{}, fmt.Errorf("%q is not I/N with 1 <= I <= N (for example 2/4)", s)
	}
	return load.Shard{Index: i, Count: n}, nil
}

var errHelp = errors.New("help requested")

func runCheck(ctx context.Context, args []string, env Env) int {
	o, err := parseCheck(args, env)
	if errors.Is(err, errHelp) {
		return ExitOK
	}
	if err != nil {
		return errorf(env, "check: %v (see kubegate check --help)", err)
	}
	// --baseline: the tree at REF is found first (a missing REF stops the
	// run before any work), and written out and loaded while the working
	// tree loads.
	var base chan baseLoad
	if o.baseline != "" {
		tree, err := gitref.Open(env.workDir(), o.baseline, "--baseline")
		if err != nil {
			return errorf(env, "check: %v", err)
		}
		base = make(chan baseLoad, 1)
		go func() { base <- loadBaseline(tree, o, env) }()
	}
	// The policies compile while the manifests load.
	type built struct {
		engine *evaluate.Engine
		err    error
	}
	compiled := make(chan built, 1)
	go func() {
		e, err := newEngine(o, env)
		compiled <- built{e, err}
	}()
	mode := progress.Detect(env.Stderr, env.getenv)
	if o.quiet {
		mode = progress.Off
	}
	prog := progress.New(env.Stderr, mode)
	defer prog.Close()
	phase := prog.Start("load", "loading", "inputs", 0)
	lopts := o.loadOptions(env.WorkDir, env.Stdin)
	lopts.Progress = phase
	loaded := load.Load(o.paths, lopts)
	phase.End(progress.Plural(loaded.Inputs, "input") + ", " + progress.Plural(len(loaded.Resources), "resource"))
	b := <-compiled
	var bl baseLoad
	if base != nil {
		bl = <-base
		defer os.RemoveAll(bl.dir)
	}
	if b.err != nil {
		return errorf(env, "%v", b.err)
	}
	if bl.err != nil {
		return errorf(env, "check: --baseline %s: %v", o.baseline, bl.err)
	}
	engine := b.engine
	if o.debug {
		if on := engine.OnTopdown(); len(on) == 0 {
			fmt.Fprintln(env.Stderr, "kubegate: every rule runs on the plan evaluator")
		} else {
			for _, x := range on {
				fmt.Fprintf(env.Stderr, "kubegate: on topdown: %s\n", x)
			}
		}
	}
	pol := exceptions.Policy{Rules: ruleInfo(engine.Rules()), Now: env.now(), WorkDir: env.workDir(), Sharded: o.shard.Count > 1}
	if o.cfg != nil {
		pol.File, pol.Dir, pol.Settings, pol.RuleLines, pol.Exceptions = o.cfg.file, o.cfgDir, o.cfg.Rules, o.cfg.ruleLines, o.cfg.Exceptions
	}
	if err := pol.CheckRuleIDs(); err != nil {
		return errorf(env, "%v", err)
	}
	if ctx.Err() != nil {
		return interrupted(ctx, env)
	}
	refs, uses := load.Images(loaded.Resources)
	phase = prog.Start("images", "checking images", "images", len(refs))
	imgOpts := o.images
	imgOpts.opts.Progress = phase
	checked, err := checkImages(ctx, imgOpts, refs, uses, env)
	facts := checked.facts
	if o.images.opts.Offline {
		phase.End(progress.Plural(len(refs), "image") + " (--offline: read, not resolved)")
	} else {
		phase.End(progress.Plural(len(refs), "image") + " resolved, verified and scanned")
	}
	if ctx.Err() != nil {
		return interrupted(ctx, env)
	}
	if err != nil {
		return errorf(env, "%v", err)
	}
	phase = prog.Start("evaluate", "evaluating", "resources", len(loaded.Resources))
	rep := evaluateRun(evaluate.WithProgress(ctx, phase), engine, pol, o, loaded, facts, checked.findings, env)
	phase.End(progress.Plural(len(loaded.Resources), "resource") + ", " + progress.Plural(len(rep.Findings), "finding"))
	rep.Errors = append(rep.Errors, checked.errs...)
	rep.Images = checked.summary
	rep.Summary.Images = len(refs)
	if ctx.Err() != nil {
		return interrupted(ctx, env)
	}
	if base != nil {
		phase = prog.Start("baseline", "comparing with "+o.baseline, "resources", 0)
		err := compareBaseline(ctx, rep, engine, pol, o, bl, loaded.Resources, refs, facts, checked.findings, env)
		phase.End(progress.Plural(countNew(rep), "new finding"))
		if err != nil {
			return errorf(env, "%v", err)
		}
		if ctx.Err() != nil {
			return interrupted(ctx, env)
		}
	}
	rep.Normalize()
	code := ExitOK
	if o.failOn != finding.SeverityNone && baseline.Gate(rep, base == nil || o.failOnExisting) >= o.failOn {
		code = ExitFindings
	}
	if len(rep.Errors) > 0 {
		code = ExitError
	}
	prog.StopDrawing()
	phase = prog.Start("report", "writing reports", "outputs", len(o.outputs))
	code = finish(ctx, o.outputs, o.github, rep, code, env)
	phase.End(progress.Plural(max(len(o.outputs), 1), "output"))
	prog.Close()
	if o.timings {
		prog.Timings(env.Stderr)
	}
	return code
}

// countNew counts the findings a baselined run calls new.
func countNew(rep *finding.Report) int {
	n := 0
	for _, f := range rep.Findings {
		if f.Baseline == finding.BaselineNew {
			n++
		}
	}
	return n
}

// loadOptions are load's options for a run whose relative paths start at
// workDir.
func (o *checkOptions) loadOptions(workDir string, stdin io.Reader) load.Options {
	return load.Options{WorkDir: workDir, Stdin: stdin, AllowRemote: o.allowRemote, Shard: o.shard, Limits: o.limits, KubeVersion: o.kubeVersion, Charts: o.charts, Exclude: o.exclude}
}

// evaluateRun evaluates what was loaded (with the image checks' facts) and
// applies the configuration's settings and exceptions: a report without
// its image section.
// evaluateRun evaluates the loaded resources; extra are kubegate's own
// findings about the run (images.vulnerability-db), which the rules'
// settings and the exceptions apply to as to any other.
func evaluateRun(ctx context.Context, engine *evaluate.Engine, pol exceptions.Policy, o *checkOptions, loaded *load.Result, facts map[string]any, extra []finding.Finding, env Env) *finding.Report {
	rep := &finding.Report{
		Tool:   finding.Tool{Name: "kubegate", Version: Version},
		Errors: loaded.Errors,
		Rules:  ruleInfo(engine.Rules()),
	}
	rep.Summary.Resources = len(loaded.Resources)
	rep.Summary.Skipped = loaded.Skipped
	// A shard that holds no input is not an error: a matrix may have more
	// shards than inputs.
	if len(loaded.Resources) == 0 && (loaded.Inputs > 0 || loaded.OtherShards == 0) {
		rep.Errors = append(rep.Errors, finding.InputError{Message: fmt.Sprintf("no Kubernetes resources found in %s: nothing was evaluated", strings.Join(o.paths, ", "))})
	}
	res, err := engine.Evaluate(ctx, loaded.Resources, facts)
	if err != nil {
		rep.Errors = append(rep.Errors, finding.InputError{Message: err.Error()})
	}
	if res != nil {
		rep.Findings = res.Findings
		rep.Errors = append(rep.Errors, res.Errors...)
		for _, x := range res.Retried {
			fmt.Fprintf(env.Stderr, "kubegate: the plan evaluator failed on %s; topdown evaluated it instead (please report this)\n", x)
		}
	}
	rep.Findings = append(rep.Findings, uncheckedFindings(loaded.Unchecked)...)
	rep.Findings = append(rep.Findings, extra...)
	pol.Apply(rep, loaded.Resources)
	rep.Normalize()
	return rep
}

// interrupted ends a cancelled run: no report, since what it would say is
// incomplete, and exit 2.
func interrupted(ctx context.Context, env Env) int {
	return errorf(env, "check: interrupted (%v): stopped without a report", context.Cause(ctx))
}

// uncheckedFindings are kubegate's notices about the parts of charts it
// could not render (see evaluate's hostrules.go).
func uncheckedFindings(us []load.Unchecked) []finding.Finding {
	var out []finding.Finding
	for _, u := range us {
		rule := evaluate.RuleChartNotRendered
		if u.Reason == load.DependencyMissing {
			rule = evaluate.RuleChartDependencyMissing
		}
		out = append(out, finding.Finding{Rule: rule.ID, Severity: rule.Severity, Message: u.Message, Resource: u.Chart, Location: u.Location})
	}
	return out
}

// finish writes every output and, under GitHub Actions, the job summary
// and the step outputs; a failure to write is exit 2.
func finish(ctx context.Context, outputs []output, gh githubOptions, rep *finding.Report, code int, env Env) int {
	var files []string
	pub := publishGitHub(ctx, gh, rep, code, env)
	for _, out := range outputs {
		if out.format == "github" {
			out.opts.AnnotatedOn = pub.CheckRun
			if !pub.Annotated {
				out.opts.AnnotatedOn = ""
			}
		}
		if err := writeOutput(out, rep, env); err != nil {
			fmt.Fprintf(env.Stderr, "kubegate: writing %s output: %v\n", out.format, err)
			code = ExitError
		} else if out.file != "" && out.file != "-" {
			files = append(files, out.file)
		}
	}
	if env.getenv("GITHUB_ACTIONS") == "true" {
		if err := githubStep(rep, files, pub, env); err != nil {
			fmt.Fprintf(env.Stderr, "kubegate: writing the GitHub job summary and outputs: %v\n", err)
			code = ExitError
		}
	}
	return code
}

// newEngine compiles the built-in policies and the user's, with their data.
func newEngine(o *checkOptions, env Env) (*evaluate.Engine, error) {
	opts := evaluate.Options{PSS: o.pss, PSSExemptNamespaces: o.exemptNS, PSSExemptRuntimeClasses: o.exemptRC, Namespaces: o.namespaces, RegoVersion: o.regoVersion, Evaluator: o.evaluator}
	src := o.src
	if src == nil {
		src = workTree{}
	}
	for _, d := range o.policies {
		dfs, err := src.dirFS(d)
		if err != nil {
			return nil, fmt.Errorf("policy directory %s: %v", src.name(d, env), err)
		}
		opts.UserPolicies = append(opts.UserPolicies, evaluate.PolicyDir{Name: src.name(d, env), FS: dfs})
	}
	if len(o.data) > 0 {
		opts.Data = map[string]any{}
		for _, f := range o.data {
			if err := readData(src, f, src.name(f, env), opts.Data); err != nil {
				return nil, err
			}
		}
	}
	if o.cfg != nil {
		// A disabled rule's findings are dropped (exceptions.Policy.Apply):
		// it is not evaluated either.
		for id, s := range o.cfg.Rules {
			if s.Disabled {
				if opts.Skip == nil {
					opts.Skip = map[string]bool{}
				}
				opts.Skip[id] = true
			}
		}
	}
	minor, _ := strconv.Atoi(strings.TrimPrefix(cmp.Or(o.kubeVersion, load.DefaultKubeVersion), "v1."))
	opts.KubeMinor = minor
	cat, err := schema.New(minor)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, d := range o.schemas {
		dfs, err := src.dirFS(d)
		if err != nil {
			return nil, fmt.Errorf("schema directory %s: %v", src.name(d, env), err)
		}
		var errs []error
		cat, errs = cat.WithFS(dfs, src.name(d, env))
		for _, err := range errs {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("reading schemas:\n%s", strings.Join(problems, "\n"))
	}
	opts.Schemas = cat
	return evaluate.New(opts)
}

// resolve makes p absolute: relative paths start at base.
func resolve(base, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// display names a path as messages do: relative to the working directory.
func display(env Env, p string) string {
	wd := env.workDir()
	if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(p)
}

// readData merges a JSON or YAML data file's top-level keys into data; a
// key two files set is an error.
func readData(from source, path, name string, data map[string]any) error {
	src, err := from.readFile(path)
	if err != nil {
		if u := errors.Unwrap(err); u != nil {
			err = u
		}
		return fmt.Errorf("data file %s: %v", name, err)
	}
	var v map[string]any
	if err := yaml.Unmarshal(src, &v); err != nil {
		return fmt.Errorf("data file %s: %v", name, err)
	}
	for k, x := range v {
		if _, dup := data[k]; dup {
			return fmt.Errorf("data file %s: key %q is also set by another data file", name, k)
		}
		data[k] = x
	}
	return nil
}

// ruleInfo is what reports say about each rule.
func ruleInfo(rules []evaluate.Rule) map[string]finding.RuleInfo {
	m := make(map[string]finding.RuleInfo, len(rules))
	for _, r := range rules {
		m[r.ID] = finding.RuleInfo{ID: r.ID, Title: r.Title, Severity: r.Severity, Rationale: r.Rationale, Fix: r.Fix, Docs: r.Docs}
		if !r.User {
			info := m[r.ID]
			info.Reference = RulesReference + "#" + r.ID
			m[r.ID] = info
		}
	}
	return m
}

// RulesReference is where the built-in rules are documented, each at its
// id's anchor (RulesMarkdown writes them).
const RulesReference = "https://github.com/kubegate/kubegate/blob/main/docs/rules.md"

func writeOutput(out output, rep *finding.Report, env Env) error {
	if out.file == "" || out.file == "-" {
		opts := out.opts
		opts.Color = out.format == "text" && env.isTerminal(env.Stdout)
		return out.write(env.Stdout, rep, opts)
	}
	path := resolve(env.workDir(), out.file)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := out.write(f, rep, out.opts); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
