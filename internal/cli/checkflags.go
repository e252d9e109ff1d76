package cli

// The check command's options in three steps: the flags as given
// (checkFlags), the configuration file under them (a flag set on the
// command line wins), and validation into checkOptions, each path resolved
// against where it was written.

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/spf13/pflag"

	"github.com/kubegate/kubegate/evaluate"
	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/load"
)

// checkFlags are the check command's flags, as given.
type checkFlags struct {
	fs                                                *pflag.FlagSet
	outputs, policies, dataFiles, namespaces, schemas *[]string
	exemptNS, exemptRC, exclude                       *[]string
	configFile, trusted, regoVersion, evaluator       *string
	baseline                                          *string
	failOnExisting, showChanges                       *bool
	enforce, warn, audit, failOn, shard, kubeVersion  *string
	offline, allowRemote, debug, help, quiet, timings *bool
	images                                            *imageFlags
	comment                                           *bool
	checkName                                         *string
	limits                                            func() (load.Limits, error)
}

func newCheckFlags() *checkFlags {
	fs := pflag.NewFlagSet("kubegate check", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := &checkFlags{
		fs:             fs,
		outputs:        fs.StringArrayP("output", "o", nil, "output `FORMAT[=FILE]`, repeatable; FORMAT is text, json, sarif, junit, gitlab or github (default github under GitHub Actions, else text)"),
		configFile:     fs.String("config", "", "configuration `FILE` (default .kubegate.yaml at the repository root, if there is one)"),
		policies:       fs.StringArray("policy", nil, "load the user's policies from `DIR` beside the built-in ones (kubegate-style or conftest-style, Rego v1 or v0); repeatable"),
		schemas:        fs.StringArray("schema", nil, "validate custom resources also against the CRDs in `DIR` (YAML or JSON) and its JSON schemas laid out as <group>/<kind>_<version>.json; repeatable"),
		dataFiles:      fs.StringArray("data", nil, "JSON or YAML `FILE` whose top-level keys the policies read as data.KEY; repeatable"),
		namespaces:     fs.StringArray("namespace", nil, "package `NAME` whose deny, violation and warn rules are conftest-style rules (default main; * for all); repeatable"),
		baseline:       fs.String("baseline", "", "also check the same paths as they are at git `REF` (the pull request's base; read in-process), mark each finding new or existing, list what is fixed and which rendered resources change; --fail-on then judges new findings"),
		failOnExisting: fs.Bool("fail-on-existing", false, "with --baseline, let --fail-on judge existing findings too, not only new ones"),
		showChanges:    fs.Bool("show-changes", false, "with --baseline, print the rendered resources that change, field by field, in the text report"),
		trusted:        fs.String("trusted-policies", "", "read the configuration, policies and data from git `REF` (the base branch) instead of the working tree, so a pull request cannot weaken its own gate"),
		regoVersion:    fs.String("rego-version", "auto", "parse the user's policies as `VERSION`: v0, v1, or auto (each file as v1, else v0)"),
		evaluator:      fs.String("evaluator", "plan", "evaluate policies with `EVALUATOR`: plan (kubegate's evaluator of OPA's query plans, the fast one) or topdown (OPA's reference evaluator)"),
		enforce:        fs.String("pss-enforce", "baseline:latest", "Pod Security `LEVEL[:VERSION]` whose violations are errors"),
		warn:           fs.String("pss-warn", "restricted:latest", "Pod Security `LEVEL[:VERSION]` whose violations are warnings"),
		audit:          fs.String("pss-audit", "privileged", "Pod Security `LEVEL[:VERSION]` whose violations are notices"),
		exemptNS:       fs.StringArray("pss-exempt-namespace", nil, "exempt resources in `NAMESPACE` from Pod Security checks, as the admission controller's exemptions; repeatable"),
		exemptRC:       fs.StringArray("pss-exempt-runtime-class", nil, "exempt pods whose runtimeClassName is `NAME` from Pod Security checks; repeatable"),
		failOn:         fs.String("fail-on", "error", "exit 1 when a finding is at or above `SEVERITY`: error, warning, notice or never"),
		offline:        fs.Bool("offline", false, "never contact a registry: the image checks that need one are reported as images.not-checked notices"),
		allowRemote:    fs.Bool("allow-remote", false, "let kustomizations use remote bases and resources"),
		shard:          fs.String("shard", "", "check only shard `I/N` of the inputs (charts, kustomizations, and plain files by directory), for a CI matrix; merge the JSON reports with kubegate merge"),
		exclude:        fs.StringArray("exclude", nil, "leave files and directories matching `GLOB` (relative to the working directory; ** for any depth) out of directory scans; repeatable"),
		kubeVersion:    fs.String("kube-version", "", "the target cluster's Kubernetes `vX.Y`: charts render with its capabilities (default "+load.DefaultKubeVersion+", the newest kubegate knows)"),
		images:         addImageFlags(fs),
		limits:         addLimitFlags(fs),
		quiet:          fs.Bool("quiet", false, "show no progress on standard error (a status line on a terminal, a line per phase in CI logs)"),
		timings:        fs.Bool("timings", false, "print a table of where the run's time went (load, images, evaluate, baseline, report) to standard error"),
		debug:          fs.Bool("debug", false, "print to standard error which rules OPA's topdown evaluates rather than the plan evaluator, and why"),
		help:           fs.BoolP("help", "h", false, "show this help"),
	}
	f.comment, f.checkName = addGitHubFlags(fs)
	return f
}

// parseCheck reads the check command's flags and configuration file into
// validated options.
func parseCheck(args []string, env Env) (*checkOptions, error) {
	f := newCheckFlags()
	if err := f.fs.Parse(args); err != nil {
		return nil, err
	}
	if *f.help {
		fmt.Fprintf(env.Stdout, "Usage: kubegate check [flags] [PATH...]\n\nPATH is a file, a directory, a kustomization directory or - for standard input (default .).\n\nFlags:\n%s", f.fs.FlagUsages())
		return nil, errHelp
	}
	wd := env.workDir()
	var src source = workTree{}
	if *f.trusted != "" {
		g, err := newGitRef(*f.trusted, wd)
		if err != nil {
			return nil, err
		}
		src = g
	}
	cfgPath, err := findConfig(*f.configFile, wd, src)
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
	f.underConfig(cfg)
	o, err := f.options(cfg, cfgDir, wd, src, env)
	if err != nil {
		return nil, err
	}
	if cfgPath != "" {
		o.cfg, o.cfgDir = cfg, cfgDir
	}
	return o, nil
}

// underConfig fills in, from the configuration file, the settings the
// command line did not set: a flag set on the command line wins over the
// file, and for lists replaces it.
func (f *checkFlags) underConfig(cfg *config) {
	pick := func(flag string, value *string, fromFile string) {
		if !f.fs.Changed(flag) && fromFile != "" {
			*value = fromFile
		}
	}
	pick("pss-enforce", f.enforce, cfg.PSS.Enforce)
	pick("pss-warn", f.warn, cfg.PSS.Warn)
	pick("pss-audit", f.audit, cfg.PSS.Audit)
	pick("fail-on", f.failOn, cfg.FailOn)
	pick("rego-version", f.regoVersion, cfg.RegoVersion)
	pick("kube-version", f.kubeVersion, cfg.KubeVersion)
	if !f.fs.Changed("pss-exempt-namespace") {
		*f.exemptNS = append(*f.exemptNS, cfg.PSS.ExemptNamespaces...)
	}
	if !f.fs.Changed("pss-exempt-runtime-class") {
		*f.exemptRC = append(*f.exemptRC, cfg.PSS.ExemptRuntimeClasses...)
	}
	if !f.fs.Changed("output") {
		*f.outputs = cfg.Outputs
	}
	if !f.fs.Changed("namespace") {
		*f.namespaces = cfg.Namespaces
	}
}

// options validates the settings and resolves their paths: those in the
// file against the file's directory, those on the command line against
// the working directory.
func (f *checkFlags) options(cfg *config, cfgDir, wd string, src source, env Env) (*checkOptions, error) {
	o := &checkOptions{github: githubOptions{comment: *f.comment, checkName: *f.checkName}, baseline: *f.baseline, failOnExisting: *f.failOnExisting, showChanges: *f.showChanges, offline: *f.offline, allowRemote: *f.allowRemote, paths: f.fs.Args(), exemptNS: *f.exemptNS, exemptRC: *f.exemptRC, namespaces: *f.namespaces, src: src, debug: *f.debug, quiet: *f.quiet, timings: *f.timings}
	for _, d := range cfg.Policies {
		o.policies = append(o.policies, resolve(cfgDir, d))
	}
	for _, d := range *f.policies {
		o.policies = append(o.policies, resolve(wd, d))
	}
	for _, d := range cfg.Schemas {
		o.schemas = append(o.schemas, resolve(cfgDir, d))
	}
	for _, d := range *f.schemas {
		o.schemas = append(o.schemas, resolve(wd, d))
	}
	for _, file := range cfg.Data {
		o.data = append(o.data, resolve(cfgDir, file))
	}
	for _, file := range *f.dataFiles {
		o.data = append(o.data, resolve(wd, file))
	}
	var err error
	if o.regoVersion, err = parseRegoVersion(*f.regoVersion); err != nil {
		return nil, err
	}
	if o.evaluator, err = evaluate.ParseEvaluator(*f.evaluator); err != nil {
		return nil, fmt.Errorf("--evaluator: %v", err)
	}
	if len(o.paths) == 0 {
		o.paths = []string{"."}
	}
	if o.baseline == "" && (*f.failOnExisting || *f.showChanges) {
		return nil, fmt.Errorf("--fail-on-existing and --show-changes need --baseline REF")
	}
	if o.baseline != "" && slices.Contains(o.paths, "-") {
		return nil, fmt.Errorf("--baseline %s: standard input has no baseline to compare with; name files or directories", o.baseline)
	}
	for _, m := range []struct {
		flag, value string
		dst         *evaluate.LevelVersion
	}{{"pss-enforce", *f.enforce, &o.pss.Enforce}, {"pss-warn", *f.warn, &o.pss.Warn}, {"pss-audit", *f.audit, &o.pss.Audit}} {
		if *m.dst, err = evaluate.ParseLevelVersion(m.value); err != nil {
			return nil, fmt.Errorf("--%s: %v", m.flag, err)
		}
	}
	if o.failOn, err = finding.ParseSeverity(*f.failOn, true); err != nil {
		return nil, fmt.Errorf("--fail-on: %v", err)
	}
	if o.outputs, err = parseOutputs(*f.outputs, env); err != nil {
		return nil, err
	}
	for i := range o.outputs {
		o.outputs[i].opts.ShowChanges = o.showChanges
	}
	if *f.kubeVersion != "" {
		if o.kubeVersion, err = parseKubeVersion(*f.kubeVersion); err != nil {
			return nil, fmt.Errorf("--kube-version: %v", err)
		}
	}
	for _, g := range cfg.Exclude {
		o.exclude = append(o.exclude, load.Exclude{Base: cfgDir, Glob: g})
	}
	for _, g := range *f.exclude {
		if !doublestar.ValidatePattern(g) {
			return nil, fmt.Errorf("--exclude: %q is not a valid glob", g)
		}
		o.exclude = append(o.exclude, load.Exclude{Base: wd, Glob: g})
	}
	for _, c := range cfg.Charts {
		entry := load.ChartConfig{Path: resolve(cfgDir, c.Path), Variant: c.Variant, Release: c.ReleaseName, Namespace: c.Namespace, CIValues: c.CIValues, File: cfg.file}
		for _, file := range c.ValuesFiles {
			entry.ValuesFiles = append(entry.ValuesFiles, resolve(cfgDir, file))
		}
		if c.Values.Kind != 0 {
			values := c.Values
			entry.Values = &values
		}
		o.charts = append(o.charts, entry)
	}
	if *f.shard != "" {
		if o.shard, err = parseShard(*f.shard); err != nil {
			return nil, fmt.Errorf("--shard: %v", err)
		}
	}
	if o.limits, err = f.limits(); err != nil {
		return nil, err
	}
	if o.images, err = f.images.options(f.fs, cfg, cfgDir, wd, *f.offline, src, env); err != nil {
		return nil, err
	}
	return o, nil
}
