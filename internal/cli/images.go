package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sethvargo/go-githubactions"
	"github.com/spf13/pflag"

	"github.com/kubegate/kubegate/evaluate"
	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/images"
	"github.com/kubegate/kubegate/load"
	"github.com/kubegate/kubegate/vuln"
)

// imageFlags are check's image and supply-chain flags.
type imageFlags struct {
	verifyFlags
	vulnDB, vulnFailSeverity, vulnMaxAge  *string
	vulnOnlyFixed                         *bool
	vex                                   *[]string
	sbomDir, sbomFormat, cacheDir, layout *string
	allowed                               *[]string
	noSBOM                                *bool
	platform                              *string
}

// verifyFlags say whose signatures an image needs (check and verify-self).
type verifyFlags struct {
	keys                              *[]string
	identity, issuer, roots, rekorKey *string
	ignoreTlog                        *bool
}

var verifyFlagNames = []string{"verify-key", "verify-identity", "verify-issuer", "verify-root", "rekor-public-key", "insecure-ignore-tlog"}

func addVerifyFlags(fs *pflag.FlagSet) verifyFlags {
	return verifyFlags{
		keys:       fs.StringArray("verify-key", nil, "require a cosign signature that verifies with the public key `FILE` (PEM); repeatable: any key will do"),
		identity:   fs.String("verify-identity", "", "require a keyless cosign signature whose certificate identity matches `REGEXP` (whole value); needs --verify-issuer"),
		issuer:     fs.String("verify-issuer", "", "the OIDC issuer `REGEXP` for keyless signatures (whole value), such as https://token.actions.githubusercontent.com"),
		roots:      fs.String("verify-root", "", "PEM `FILE` of CA certificates that keyless certificates chain to (a private CA; default Sigstore's public Fulcio)"),
		rekorKey:   fs.String("rekor-public-key", "", "PEM `FILE` of transparency-log (Rekor) public keys (a private Rekor, or air-gapped; default Sigstore's)"),
		ignoreTlog: fs.Bool("insecure-ignore-tlog", false, "verify signatures without a transparency log (air-gapped, key-signed images), as cosign's flag of the same name"),
	}
}

// changed says whether any of the flags was given.
func (f verifyFlags) changed(fs *pflag.FlagSet) bool {
	return slices.ContainsFunc(verifyFlagNames, fs.Changed)
}

// options are the flags' verification options, paths resolved from wd.
func (f verifyFlags) options(wd string) *images.VerifyOptions {
	v := &images.VerifyOptions{Identity: *f.identity, Issuer: *f.issuer, IgnoreTlog: *f.ignoreTlog}
	for _, k := range *f.keys {
		v.Keys = append(v.Keys, resolveKey(wd, k))
	}
	if *f.roots != "" {
		v.Roots = resolve(wd, *f.roots)
	}
	if *f.rekorKey != "" {
		v.RekorKeys = resolve(wd, *f.rekorKey)
	}
	return v
}

func addImageFlags(fs *pflag.FlagSet) *imageFlags {
	return &imageFlags{
		verifyFlags:      addVerifyFlags(fs),
		vulnDB:           fs.String("vuln-db", "", "match the images' packages against the grype vulnerability database `PATH` (its vulnerability.db, or the directory holding it, such as ~/.cache/grype/db)"),
		vulnFailSeverity: fs.String("vuln-fail-severity", "high", "vulnerabilities at or above `SEVERITY` (critical, high, medium, low, negligible) are errors; the rest are a notice"),
		vulnOnlyFixed:    fs.Bool("vuln-only-fixed", true, "only vulnerabilities with a fixed version are errors (--vuln-only-fixed=false: all at or above the severity)"),
		vulnMaxAge:       fs.String("vuln-db-max-age", "120h", "warn when the vulnerability database is older than `DURATION` (images.vulnerability-db)"),
		vex:              fs.StringArray("vex", nil, "OpenVEX or CycloneDX VEX `FILE` whose not_affected and fixed statements set vulnerabilities aside; repeatable"),
		sbomDir:          fs.String("sbom-dir", "", "write one SBOM per unique image digest to `DIR`"),
		sbomFormat:       fs.String("sbom-format", "cyclonedx-json", "SBOM `FORMAT` for --sbom-dir: cyclonedx-json or spdx-json"),
		noSBOM:           fs.Bool("no-sbom", false, "do not build SBOMs (images.compromised-package and SBOM policies then see no packages)"),
		cacheDir:         fs.String("cache-dir", "", "cache SBOMs and verified signatures by digest in `DIR` (default kubegate under the user cache directory)"),
		layout:           fs.String("image-layout", "", "read images from OCI layouts under `DIR` (as cosign save writes them, at DIR/REGISTRY/REPOSITORY/TAG) instead of registries"),
		platform:         fs.String("platform", "linux/amd64", "the `OS/ARCH[/VARIANT]` of a multi-platform image whose SBOM is built"),
		allowed:          fs.StringArray("allowed-registry", nil, "allow images only from `REGISTRY[/PREFIX]` (images.registry-not-allowed); repeatable"),
	}
}

// imageOptions merges the image flags with the configuration file's
// images: section: a flag set on the command line wins over the file.
type imageOptions struct {
	opts    images.Options
	allowed []string
	bad     []compromisedPackage
	vuln    vulnSettings
}

// vulnSettings are images.vulnerability's: the policy's (data) and the
// database's age limit.
type vulnSettings struct {
	failSeverity string
	onlyFixed    bool
	maxAge       time.Duration
}

func (f *imageFlags) options(fs *pflag.FlagSet, cfg *config, cfgDir, wd string, offline bool, src source, env Env) (imageOptions, error) {
	var o imageOptions
	o.opts.Offline = offline
	o.opts.SBOM = !*f.noSBOM
	if *f.layout != "" {
		o.opts.Layout = resolve(wd, *f.layout)
	}
	if *f.sbomDir != "" {
		o.opts.SBOMDir = resolve(wd, *f.sbomDir)
	}
	o.opts.SBOMFormat = *f.sbomFormat
	if !fs.Changed("sbom-format") && cfg.Images.SBOMFormat != "" {
		o.opts.SBOMFormat = cfg.Images.SBOMFormat
	}
	p, err := v1.ParsePlatform(*f.platform)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return o, fmt.Errorf("--platform %q: want OS/ARCH[/VARIANT], for example linux/arm64", *f.platform)
	}
	o.opts.Platform = *p
	if err := images.CheckSBOMFormat(o.opts.SBOMFormat); err != nil {
		return o, err
	}
	o.opts.CacheDir = cacheDir(*f.cacheDir, wd)
	v := &images.VerifyOptions{}
	if f.verifyFlags.changed(fs) {
		v = f.verifyFlags.options(wd)
	} else {
		// Keys named by the configuration come from where it came from:
		// with --trusted-policies, the base branch, so that a pull
		// request cannot swap the key its images are checked against.
		v.ReadFile = src.readFile
		cv := cfg.Images.Verify
		for _, k := range cv.Keys {
			v.Keys = append(v.Keys, resolveKey(cfgDir, k))
		}
		v.Identity, v.Issuer, v.IgnoreTlog = cv.Identity, cv.Issuer, cv.IgnoreTlog
		if cv.Roots != "" {
			v.Roots = resolve(cfgDir, cv.Roots)
		}
		if cv.RekorPublicKey != "" {
			v.RekorKeys = resolve(cfgDir, cv.RekorPublicKey)
		}
	}
	if v.Enabled() {
		v.Name = func(p string) string { return display(env, p) }
		o.opts.Verify = v
	} else if v.IgnoreTlog || v.Roots != "" || v.RekorKeys != "" {
		return o, fmt.Errorf("--insecure-ignore-tlog, --verify-root and --rekor-public-key only apply with --verify-key or --verify-identity and --verify-issuer")
	}
	o.allowed = cfg.Images.AllowedRegistries
	if fs.Changed("allowed-registry") {
		o.allowed = *f.allowed
	}
	o.bad = cfg.Images.CompromisedPackages
	if err := f.vulnerabilities(fs, cfg, cfgDir, wd, &o); err != nil {
		return o, err
	}
	return o, nil
}

// vulnerabilities reads the vulnerability settings, flags over the
// configuration's vulnerabilities: section, and opens the database.
func (f *imageFlags) vulnerabilities(fs *pflag.FlagSet, cfg *config, cfgDir, wd string, o *imageOptions) error {
	vc := cfg.Vulnerabilities
	pick := func(flag string, value *string, configured string) string {
		if !fs.Changed(flag) && configured != "" {
			return configured
		}
		return *value
	}
	o.vuln.failSeverity = strings.ToLower(pick("vuln-fail-severity", f.vulnFailSeverity, vc.FailSeverity))
	if r := vuln.Rank(o.vuln.failSeverity); r == 0 {
		return fmt.Errorf("--vuln-fail-severity %q: want critical, high, medium, low or negligible", o.vuln.failSeverity)
	}
	o.vuln.onlyFixed = *f.vulnOnlyFixed
	if !fs.Changed("vuln-only-fixed") && vc.OnlyFixed != nil {
		o.vuln.onlyFixed = *vc.OnlyFixed
	}
	age := pick("vuln-db-max-age", f.vulnMaxAge, vc.MaxAge)
	d, err := time.ParseDuration(age)
	if err != nil || d <= 0 {
		return fmt.Errorf("--vuln-db-max-age %q: want a duration such as 120h", age)
	}
	o.vuln.maxAge = d
	var vexFiles []string
	if fs.Changed("vex") {
		for _, v := range *f.vex {
			vexFiles = append(vexFiles, resolve(wd, v))
		}
	} else {
		for _, v := range vc.VEX {
			vexFiles = append(vexFiles, resolve(cfgDir, v))
		}
	}
	for _, v := range vexFiles {
		if _, err := os.Stat(v); err != nil {
			return fmt.Errorf("--vex %v", err)
		}
	}
	o.opts.VEX = vexFiles
	path := ""
	if fs.Changed("vuln-db") || vc.DB == "" {
		if *f.vulnDB != "" {
			path = resolve(wd, *f.vulnDB)
		}
	} else {
		path = resolve(cfgDir, vc.DB)
	}
	if path == "" || o.opts.Offline || !o.opts.SBOM {
		return nil // no SBOM is built, so nothing would be matched
	}
	db, err := vuln.Open(path)
	if err != nil {
		return fmt.Errorf("--vuln-db: %v", err)
	}
	o.opts.Vulnerabilities = db
	return nil
}

// vulnerabilityDBFindings say, once, that the images' packages were not
// matched (no database) or were matched against an old database: at the
// first line (in file order) that names an image whose SBOM was built.
// They are about the run (Rule.OncePerRun): kubegate merge keeps the
// first of the shards', which is the one run's.
func vulnerabilityDBFindings(o imageOptions, found []*images.Image, uses map[string][]load.ImageUse, env Env) []finding.Finding {
	var f finding.Finding
	for _, img := range found {
		if !img.Scanned {
			continue
		}
		for _, u := range uses[img.Ref] {
			at := finding.Finding{Resource: u.Resource.ID(), Field: u.Path.String(), Location: u.Resource.Locate(u.Path)}
			if f.Location.File == "" || finding.Before(at, f) {
				f = at
			}
		}
	}
	if f.Location.File == "" {
		return nil
	}
	rule := evaluate.RuleVulnerabilityDB
	f.Rule, f.Severity = rule.ID, rule.Severity
	db, now := o.opts.Vulnerabilities, env.now()
	switch {
	case db == nil:
		f.Severity = finding.Notice
		f.Message = "the images' packages were not matched against a vulnerability database: give one with --vuln-db (kubegate db update downloads grype's)"
	case now.Sub(db.Built) > o.vuln.maxAge:
		f.Message = fmt.Sprintf("the vulnerability database %s was built on %s, more than --vuln-db-max-age (%s) ago: advisories published since are not matched; update it (kubegate db update, or grype db update)",
			display(env, db.Path), db.Built.Format(time.DateOnly), o.vuln.maxAge)
	default:
		return nil
	}
	return []finding.Finding{f}
}

// cacheDir is --cache-dir's directory: the flag's, else the default.
func cacheDir(flag, wd string) string {
	if flag != "" {
		return resolve(wd, flag)
	}
	return images.DefaultCacheDir()
}

// resolveKey resolves a key file's path; a KMS or Kubernetes URI stays as
// written (the image checks refuse it with advice).
func resolveKey(base, k string) string {
	if filepath.IsAbs(k) || strings.Contains(k, "://") {
		return k
	}
	return filepath.Join(base, k)
}

// imageCheck is what checking the images gave: the facts for the policies,
// an error per image that could not be checked (at the first field that
// names it), the report's image entries, and kubegate's own findings about
// the check (images.vulnerability-db).
type imageCheck struct {
	facts    map[string]any
	errs     []finding.InputError
	summary  []finding.Image
	findings []finding.Finding
}

// checkImages checks every image the resources name.
func checkImages(ctx context.Context, o imageOptions, refs []string, uses map[string][]load.ImageUse, env Env) (imageCheck, error) {
	facts := map[string]any{"image_policy": map[string]any{
		"allowed_registries": nonNil(o.allowed),
		"compromised":        nonNil(o.bad),
		"vulnerabilities":    map[string]any{"fail_severity": o.vuln.failSeverity, "only_fixed": o.vuln.onlyFixed},
	}}
	if len(refs) == 0 {
		facts["images"] = map[string]any{}
		return imageCheck{facts: facts}, nil
	}
	checker, err := images.New(o.opts)
	if err != nil {
		return imageCheck{}, err
	}
	found := checker.Check(ctx, refs)
	if env.getenv("GITHUB_ACTIONS") == "true" {
		// Credentials never reach a log, even if a registry echoes one.
		gh := githubactions.New(githubactions.WithWriter(env.Stdout))
		for _, s := range checker.Secrets() {
			gh.AddMask(s)
		}
	}
	byRef := map[string]any{}
	var errs []finding.InputError
	var summary []finding.Image
	for _, img := range found {
		b, err := json.Marshal(img)
		if err != nil {
			return imageCheck{}, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return imageCheck{}, err
		}
		// The first field that names the image, so that a note about the
		// image itself (images.not-checked) is made once, not per use.
		if u := uses[img.Ref]; len(u) > 0 {
			id := u[0].Resource.ID()
			m["uses"] = len(u)
			m["first_use"] = map[string]any{"kind": id.Kind, "namespace": id.Namespace, "name": id.Name, "path": []any(u[0].Path)}
		}
		byRef[img.Ref] = m
		summary = append(summary, imageSummary(img, o.opts.Vulnerabilities, env))
		if img.Error != "" {
			e := finding.InputError{Message: img.Error}
			if u := uses[img.Ref]; len(u) > 0 {
				loc := u[0].Resource.Locate(u[0].Path)
				e.File, e.Line = loc.File, loc.Line
			}
			errs = append(errs, e)
		}
	}
	facts["images"] = byRef
	return imageCheck{facts: facts, errs: errs, summary: summary, findings: vulnerabilityDBFindings(o, found, uses, env)}, nil
}

// imageSummary is an image's entry in the report.
func imageSummary(img *images.Image, db *vuln.DB, env Env) finding.Image {
	r := finding.Image{Ref: img.Ref, Digest: img.Resolved, NotChecked: img.Skipped}
	if img.Error != "" {
		r.NotChecked = "see errors"
	}
	if img.Signature != nil {
		r.Signed, r.Signers = &img.Signature.Verified, img.Signature.Signers
	}
	if img.Scanned {
		n := len(img.Packages)
		r.Packages = &n
	}
	if img.SBOMFile != "" {
		r.SBOM = display(env, img.SBOMFile)
	}
	if img.VulnerabilitiesChecked {
		v := &finding.VulnerabilitySummary{Counts: map[string]int{}, Suppressed: len(img.VEXSuppressed), Database: db.Built.Format(time.RFC3339)}
		seen := map[string]bool{}
		for _, x := range img.Vulnerabilities {
			if !seen[x.ID] {
				seen[x.ID] = true
				v.Counts[x.Severity]++
			}
		}
		r.Vulnerabilities = v
	}
	return r
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
