package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/kubegate/kubegate/evaluate"
	"github.com/kubegate/kubegate/exceptions"
	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/load"
	"github.com/kubegate/kubegate/report"
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
	policies    []string
	data        []string
	namespaces  []string
	regoVersion evaluate.RegoVersion
	evaluator   evaluate.Evaluator
	debug       bool
	src         source // where policies, data and the configuration come from
	paths       []string
}

// output is one -o FORMAT[=FILE].
type output struct {
	format string
	write  report.WriteFunc
	file   string // "" is standard output
}

func parseCheck(args []string, env Env) (*checkOptions, error) {
	fs := pflag.NewFlagSet("kubegate check", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	outputs := fs.StringArrayP("output", "o", nil, "output `FORMAT[=FILE]`, repeatable; FORMAT is text, json, sarif, junit, gitlab or github (default github under GitHub Actions, else text)")
	configFile := fs.String("config", "", "configuration `FILE` (default .kubegate.yaml at the repository root, if there is one)")
	policies := fs.StringArray("policy", nil, "load the user's policies from `DIR` beside the built-in ones (kubegate-style or conftest-style, Rego v1 or v0); repeatable")
	dataFiles := fs.StringArray("data", nil, "JSON or YAML `FILE` whose top-level keys the policies read as data.KEY; repeatable")
	namespaces := fs.StringArray("namespace", nil, "package `NAME` whose deny, violation and warn rules are conftest-style rules (default main; * for all); repeatable")
	trusted := fs.String("trusted-policies", "", "read the configuration, policies and data from git `REF` (the base branch) instead of the working tree, so a pull request cannot weaken its own gate")
	regoVersion := fs.String("rego-version", "auto", "parse the user's policies as `VERSION`: v0, v1, or auto (each file as v1, else v0)")
	evaluator := fs.String("evaluator", "plan", "evaluate policies with `EVALUATOR`: plan (kubegate's evaluator of OPA's query plans, the fast one) or topdown (OPA's reference evaluator)")
	enforce := fs.String("pss-enforce", "baseline:latest", "Pod Security `LEVEL[:VERSION]` whose violations are errors")
	warn := fs.String("pss-warn", "restricted:latest", "Pod Security `LEVEL[:VERSION]` whose violations are warnings")
	audit := fs.String("pss-audit", "privileged", "Pod Security `LEVEL[:VERSION]` whose violations are notices")
	exemptNS := fs.StringArray("pss-exempt-namespace", nil, "exempt resources in `NAMESPACE` from Pod Security checks, as the admission controller's exemptions; repeatable")
	exemptRC := fs.StringArray("pss-exempt-runtime-class", nil, "exempt pods whose runtimeClassName is `NAME` from Pod Security checks; repeatable")
	failOn := fs.String("fail-on", "error", "exit 1 when a finding is at or above `SEVERITY`: error, warning, notice or never")
	offline := fs.Bool("offline", false, "never contact a registry: the image checks that need one are reported as images.not-checked notices")
	allowRemote := fs.Bool("allow-remote", false, "let kustomizations use remote bases and resources")
	shard := fs.String("shard", "", "check only shard `I/N` of the inputs (charts, kustomizations, and plain files by directory), for a CI matrix; merge the JSON reports with kubegate merge")
	exclude := fs.StringArray("exclude", nil, "leave files and directories matching `GLOB` (relative to the working directory; ** for any depth) out of directory scans; repeatable")
	kubeVersion := fs.String("kube-version", "", "the target cluster's Kubernetes `vX.Y`: charts render with its capabilities (default "+load.DefaultKubeVersion+", the newest kubegate knows)")
	imageFlags := addImageFlags(fs)
	limits := addLimitFlags(fs)
	debug := fs.Bool("debug", false, "print to standard error which rules OPA's topdown evaluates rather than the plan evaluator, and why")
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *help {
		fmt.Fprintf(env.Stdout, "Usage: kubegate check [flags] [PATH...]\n\nPATH is a file, a directory, a kustomization directory or - for standard input (default .).\n\nFlags:\n%s", fs.FlagUsages())
		return nil, errHelp
	}
	wd := env.workDir()
	var src source = workTree{}
	if *trusted != "" {
		g, err := newGitRef(*trusted, wd)
		if err != nil {
			return nil, err
		}
		src = g
	}
	cfgPath, err := findConfig(*configFile, wd, src)
	if err != nil {
		return nil, err
	}
	cfg := &config{}
	cfgDir := wd
	if cfgPath != "" {
		if cfg, err = readConfig(src, cfgPath, src.name(cfgPath, env)); err != nil {
			return nil, err
		}
		cfgDir = filepath.Dir(cfgPath)
	}
	// A flag set on the command line wins over the file.
	pick := func(flag string, value *string, fromFile string) {
		if !fs.Changed(flag) && fromFile != "" {
			*value = fromFile
		}
	}
	pick("pss-enforce", enforce, cfg.PSS.Enforce)
	pick("pss-warn", warn, cfg.PSS.Warn)
	pick("pss-audit", audit, cfg.PSS.Audit)
	pick("fail-on", failOn, cfg.FailOn)
	pick("rego-version", regoVersion, cfg.RegoVersion)
	pick("kube-version", kubeVersion, cfg.KubeVersion)
	if !fs.Changed("pss-exempt-namespace") {
		*exemptNS = append(*exemptNS, cfg.PSS.ExemptNamespaces...)
	}
	if !fs.Changed("pss-exempt-runtime-class") {
		*exemptRC = append(*exemptRC, cfg.PSS.ExemptRuntimeClasses...)
	}
	if !fs.Changed("output") {
		*outputs = cfg.Outputs
	}
	if !fs.Changed("namespace") {
		*namespaces = cfg.Namespaces
	}
	o := &checkOptions{offline: *offline, allowRemote: *allowRemote, paths: fs.Args(), exemptNS: *exemptNS, exemptRC: *exemptRC, namespaces: *namespaces, src: src, debug: *debug}
	if cfgPath != "" {
		o.cfg, o.cfgDir = cfg, cfgDir
	}
	// Paths in the file are relative to the file; on the command line, to
	// the working directory.
	for _, d := range cfg.Policies {
		o.policies = append(o.policies, resolve(cfgDir, d))
	}
	for _, d := range *policies {
		o.policies = append(o.policies, resolve(wd, d))
	}
	for _, f := range cfg.Data {
		o.data = append(o.data, resolve(cfgDir, f))
	}
	for _, f := range *dataFiles {
		o.data = append(o.data, resolve(wd, f))
	}
	if o.regoVersion, err = parseRegoVersion(*regoVersion); err != nil {
		return nil, err
	}
	if o.evaluator, err = evaluate.ParseEvaluator(*evaluator); err != nil {
		return nil, fmt.Errorf("--evaluator: %v", err)
	}
	if len(o.paths) == 0 {
		o.paths = []string{"."}
	}
	for _, m := range []struct {
		flag, value string
		dst         *evaluate.LevelVersion
	}{{"pss-enforce", *enforce, &o.pss.Enforce}, {"pss-warn", *warn, &o.pss.Warn}, {"pss-audit", *audit, &o.pss.Audit}} {
		if *m.dst, err = evaluate.ParseLevelVersion(m.value); err != nil {
			return nil, fmt.Errorf("--%s: %v", m.flag, err)
		}
	}
	if o.failOn, err = finding.ParseSeverity(*failOn, true); err != nil {
		return nil, fmt.Errorf("--fail-on: %v", err)
	}
	if o.outputs, err = parseOutputs(*outputs, env); err != nil {
		return nil, err
	}
	if *kubeVersion != "" {
		if o.kubeVersion, err = parseKubeVersion(*kubeVersion); err != nil {
			return nil, fmt.Errorf("--kube-version: %v", err)
		}
	}
	for _, g := range cfg.Exclude {
		o.exclude = append(o.exclude, load.Exclude{Base: cfgDir, Glob: g})
	}
	for _, g := range *exclude {
		if !doublestar.ValidatePattern(g) {
			return nil, fmt.Errorf("--exclude: %q is not a valid glob", g)
		}
		o.exclude = append(o.exclude, load.Exclude{Base: wd, Glob: g})
	}
	for _, c := range cfg.Charts {
		entry := load.ChartConfig{Path: resolve(cfgDir, c.Path), Variant: c.Variant, Release: c.ReleaseName, Namespace: c.Namespace, CIValues: c.CIValues, File: cfg.file}
		for _, f := range c.ValuesFiles {
			entry.ValuesFiles = append(entry.ValuesFiles, resolve(cfgDir, f))
		}
		if c.Values.Kind != 0 {
			values := c.Values
			entry.Values = &values
		}
		o.charts = append(o.charts, entry)
	}
	if *shard != "" {
		if o.shard, err = parseShard(*shard); err != nil {
			return nil, fmt.Errorf("--shard: %v", err)
		}
	}
	if o.limits, err = limits(); err != nil {
		return nil, err
	}
	if o.images, err = imageFlags.options(fs, cfg, cfgDir, wd, *offline, src, env); err != nil {
		return nil, err
	}
	return o, nil
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

func runCheck(args []string, env Env) int {
	o, err := parseCheck(args, env)
	if errors.Is(err, errHelp) {
		return ExitOK
	}
	if err != nil {
		return errorf(env, "check: %v (see kubegate check --help)", err)
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
	loaded := load.Load(o.paths, load.Options{WorkDir: env.WorkDir, Stdin: env.Stdin, AllowRemote: o.allowRemote, Shard: o.shard, Limits: o.limits, KubeVersion: o.kubeVersion, Charts: o.charts, Exclude: o.exclude})
	b := <-compiled
	if b.err != nil {
		return errorf(env, "%v", b.err)
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
	rep := &finding.Report{
		Tool:   finding.Tool{Name: "kubegate", Version: Version},
		Errors: loaded.Errors,
		Rules:  ruleInfo(engine.Rules()),
	}
	rep.Summary.Resources = len(loaded.Resources)
	rep.Summary.Skipped = loaded.Skipped
	refs, uses := load.Images(loaded.Resources)
	rep.Summary.Images = len(refs)
	// A shard that holds no input is not an error: a matrix may have more
	// shards than inputs.
	if len(loaded.Resources) == 0 && (loaded.Inputs > 0 || loaded.OtherShards == 0) {
		rep.Errors = append(rep.Errors, finding.InputError{Message: fmt.Sprintf("no Kubernetes resources found in %s: nothing was evaluated", strings.Join(o.paths, ", "))})
	}
	ctx := context.Background()
	facts, imgErrs, imgs, err := checkImages(ctx, o.images, refs, uses, env)
	if err != nil {
		return errorf(env, "%v", err)
	}
	rep.Errors = append(rep.Errors, imgErrs...)
	rep.Images = imgs
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
	pol.Apply(rep, loaded.Resources)
	rep.Normalize()
	code := ExitOK
	if o.failOn != finding.SeverityNone && rep.Worst() >= o.failOn {
		code = ExitFindings
	}
	if len(rep.Errors) > 0 {
		code = ExitError
	}
	return finish(o.outputs, rep, code, env)
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
func finish(outputs []output, rep *finding.Report, code int, env Env) int {
	var files []string
	for _, out := range outputs {
		if err := writeOutput(out, rep, env); err != nil {
			fmt.Fprintf(env.Stderr, "kubegate: writing %s output: %v\n", out.format, err)
			code = ExitError
		} else if out.file != "" && out.file != "-" {
			files = append(files, out.file)
		}
	}
	if env.getenv("GITHUB_ACTIONS") == "true" {
		if err := githubStep(rep, files, env); err != nil {
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
	}
	return m
}

func writeOutput(out output, rep *finding.Report, env Env) error {
	if out.file == "" || out.file == "-" {
		return out.write(env.Stdout, rep, report.Options{Color: out.format == "text" && env.isTerminal(env.Stdout)})
	}
	path := resolve(env.workDir(), out.file)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := out.write(f, rep, report.Options{}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
