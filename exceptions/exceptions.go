// Package exceptions applies what a team has decided about findings after
// evaluation: the configuration's per-rule settings (a severity, or
// disabled), its exceptions (waivers by rule, resource and file, with a
// reason and an optional expiry), and the kubegate.dev/ignore annotation a
// resource carries. Waived findings move to the report's suppressed list,
// so waivers stay visible; exceptions that expired or waive nothing are
// findings of their own (kubegate.exception-expired, -unused; their
// metadata is with kubegate's other own rules, in evaluate).
package exceptions

import (
	"cmp"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/kubegate/kubegate/evaluate"
	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/load"
)

// IgnoreAnnotation waives rules for one resource, written on the resource:
// "<rule>[,<rule>]: <reason>". Rules may be globs (pss.*).
const IgnoreAnnotation = "kubegate.dev/ignore"

// RuleAliases are former rule ids. A rules: setting, an exception or an
// ignore annotation written for one applies to the findings of the rule
// that took it over, on the kinds the former rule covered.
var RuleAliases = map[string]Alias{
	// hpa.deprecated-api became part of api.removed (every kind).
	"hpa.deprecated-api": {Rule: "api.removed", Kind: "HorizontalPodAutoscaler"},
}

// Alias is the rule and kind a former rule id now stands for.
type Alias struct{ Rule, Kind string }

// ruleIDs are the ids a finding answers to: its rule's, and the former
// ids that covered it.
func ruleIDs(f finding.Finding) []string {
	ids := []string{f.Rule}
	for id, a := range RuleAliases {
		if a.Rule == f.Rule && (a.Kind == "" || a.Kind == f.Resource.Kind) {
			ids = append(ids, id)
		}
	}
	return ids
}

// Setting is a rules: entry of the configuration.
type Setting struct {
	Severity string `yaml:"severity"`
	Disabled bool   `yaml:"disabled"`
}

// Exception waives a rule for the findings its selector matches. Rule,
// Kind, Namespace and Name are globs (path.Match; empty matches anything);
// Path is a glob of the file the finding is reported on, relative to the
// configuration file, where ** stands for any number of directories.
type Exception struct {
	Rule      string `yaml:"rule"`
	Kind      string `yaml:"kind"`
	Namespace string `yaml:"namespace"`
	Name      string `yaml:"name"`
	Path      string `yaml:"path"`
	// Vulnerability waives only the findings about this vulnerability id
	// (a glob: CVE-2024-3094, GHSA-*): images.vulnerability's.
	Vulnerability string `yaml:"vulnerability"`
	Reason        string `yaml:"reason"`
	Expires       string `yaml:"expires"`

	// Line and Column are where the exception is written.
	Line, Column int `yaml:"-"`

	expires time.Time // zero: never
}

// Validate checks what decoding alone does not, and reads the expiry date.
// Each problem is a message for the exception's line.
func (x *Exception) Validate() []string {
	var errs []string
	if x.Rule == "" {
		errs = append(errs, "exception without a rule: name the rule id it waives (a glob such as pss.* is allowed)")
	}
	if strings.TrimSpace(x.Reason) == "" {
		errs = append(errs, fmt.Sprintf("exception for %s has no reason: say why the rule does not apply (reason: ...), so the waiver stays reviewable", cmp.Or(x.Rule, "a rule")))
	}
	if x.Expires != "" {
		t, err := time.Parse(time.DateOnly, x.Expires)
		if err != nil {
			errs = append(errs, fmt.Sprintf("exception for %s: expires %q is not a date YYYY-MM-DD", x.Rule, x.Expires))
		}
		x.expires = t
	}
	for _, g := range []string{x.Rule, x.Kind, x.Namespace, x.Name, x.Vulnerability} {
		if _, err := path.Match(g, ""); err != nil {
			errs = append(errs, fmt.Sprintf("exception for %s: %q is not a valid glob", x.Rule, g))
		}
	}
	if x.Path != "" {
		if !doublestar.ValidatePattern(x.Path) || strings.HasPrefix(x.Path, "/") {
			errs = append(errs, fmt.Sprintf("exception for %s: path %q is not a valid glob relative to the configuration file (vendor/charts/** for example)", x.Rule, x.Path))
		} else if p := path.Clean(x.Path); p == ".." || strings.HasPrefix(p, "../") {
			errs = append(errs, fmt.Sprintf("exception for %s: path %q leaves the configuration file's directory; write it relative to that directory, inside it", x.Rule, x.Path))
		}
	}
	return errs
}

// Policy is what the configuration says about findings.
type Policy struct {
	// File is the configuration file as reports name it ("" when there is
	// none); Dir is its directory, absolute: Path globs are relative to it.
	File, Dir string
	// WorkDir is the directory the findings' file names are relative to.
	WorkDir string
	// Settings are the rules: entries, and RuleLines their lines.
	Settings  map[string]Setting
	RuleLines map[string]int
	// Exceptions are the exceptions: entries, validated.
	Exceptions []Exception
	// Rules are every rule there is, by id.
	Rules map[string]finding.RuleInfo
	// Now is the time exceptions expire by.
	Now time.Time
	// Sharded: this run saw only a shard of the inputs, so an exception
	// that waived nothing here may waive something in another shard.
	Sharded bool
}

// CheckRuleIDs reports configuration entries that name no rule.
func (p Policy) CheckRuleIDs() error {
	var errs []string
	for _, id := range slices.Sorted(maps.Keys(p.Settings)) {
		if _, ok := p.Rules[id]; !ok && RuleAliases[id].Rule == "" {
			errs = append(errs, fmt.Sprintf("%s:%d: rules: %q is not a rule (kubegate rules lists them)", p.File, p.RuleLines[id], id))
		}
	}
	for _, x := range p.Exceptions {
		if !p.anyRule(x.Rule) {
			errs = append(errs, fmt.Sprintf("%s:%d: exception: %q matches no rule (kubegate rules lists them)", p.File, x.Line, x.Rule))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

func (p Policy) anyRule(glob string) bool {
	for id := range p.Rules {
		if ok, _ := path.Match(glob, id); ok {
			return true
		}
	}
	for id := range RuleAliases {
		if ok, _ := path.Match(glob, id); ok {
			return true
		}
	}
	return false
}

// Apply changes severities, drops disabled rules, moves waived findings to
// rep.Suppressed, adds findings about expired and unused exceptions (to
// which the rules: settings apply too), and input errors about malformed
// annotations on the resources.
func (p Policy) Apply(rep *finding.Report, resources []*load.Resource) {
	annotations := map[finding.Resource]*annotationWaiver{}
	for _, r := range resources {
		if w := p.readAnnotation(rep, r); w != nil {
			annotations[r.ID()] = w
		}
	}
	used := make([]bool, len(p.Exceptions))
	kept := rep.Findings[:0]
	for _, f := range rep.Findings {
		if !p.tune(&f) {
			continue
		}
		if w := annotations[f.Resource]; w != nil && slices.ContainsFunc(ruleIDs(f), func(id string) bool { return matchAny(w.rules, id) }) {
			rep.Suppressed = append(rep.Suppressed, finding.Suppressed{Finding: f, Reason: w.reason, By: w.at})
			continue
		}
		waived := false
		for i, x := range p.Exceptions {
			if x.expired(p.Now) || !p.matches(x, f) {
				continue
			}
			used[i] = true
			rep.Suppressed = append(rep.Suppressed, finding.Suppressed{Finding: f, Reason: x.Reason, By: p.at(x), Expires: x.Expires})
			waived = true
			break
		}
		if !waived {
			kept = append(kept, f)
		}
	}
	rep.Findings = kept
	for _, f := range p.own(used) {
		if p.tune(&f) {
			rep.Findings = append(rep.Findings, f)
		}
	}
}

// tune applies the rule's setting to a finding: false when the rule is
// disabled.
func (p Policy) tune(f *finding.Finding) bool {
	var s Setting
	ok := false
	for _, id := range ruleIDs(*f) {
		if s, ok = p.Settings[id]; ok {
			break
		}
	}
	if !ok {
		return true
	}
	if s.Disabled {
		return false
	}
	if s.Severity != "" {
		f.Severity, _ = finding.ParseSeverity(s.Severity, false)
	}
	return true
}

// own are the findings about the exceptions themselves: expired ones, and
// (over the whole input, not a shard) ones that waived nothing.
func (p Policy) own(used []bool) []finding.Finding {
	var out []finding.Finding
	self := finding.Resource{APIVersion: "kubegate.dev/v1", Kind: "Config", Name: path.Base(filepath.ToSlash(p.File))}
	for i, x := range p.Exceptions {
		f := finding.Finding{Resource: self, Location: p.at(x)}
		switch {
		case x.expired(p.Now):
			r := evaluate.RuleExceptionExpired
			f.Rule, f.Severity, f.Field = r.ID, r.Severity, fmt.Sprintf("exceptions[%d].expires", i)
			f.Message = fmt.Sprintf("the exception for %s (%s) expired on %s and no longer applies; fix what it waived, or renew it with a new expiry date and reason", x.Rule, x.selector(), x.Expires)
		case !used[i] && !p.Sharded:
			r := evaluate.RuleExceptionUnused
			f.Rule, f.Severity, f.Field = r.ID, r.Severity, fmt.Sprintf("exceptions[%d]", i)
			f.Message = fmt.Sprintf("the exception for %s (%s) waives no finding; remove it, or correct its %s", x.Rule, x.selector(), x.fields())
		default:
			continue
		}
		out = append(out, f)
	}
	return out
}

func (p Policy) at(x Exception) finding.Location {
	return finding.Location{File: p.File, Line: x.Line, Column: x.Column}
}

// matches reports whether the exception's selector covers a finding: the
// rule, kind, namespace and name globs, and the path glob against the
// file the finding is reported on.
func (p Policy) matches(x Exception, f finding.Finding) bool {
	if x.Rule != "" && !slices.ContainsFunc(ruleIDs(f), func(id string) bool { ok, _ := path.Match(x.Rule, id); return ok }) {
		return false
	}
	if x.Vulnerability != "" && !slices.ContainsFunc(f.Tags, func(t string) bool { ok, _ := path.Match(x.Vulnerability, t); return ok }) {
		return false
	}
	for _, m := range [][2]string{{x.Kind, f.Resource.Kind}, {x.Namespace, f.Resource.Namespace}, {x.Name, f.Resource.Name}} {
		if m[0] == "" {
			continue
		}
		if ok, _ := path.Match(m[0], m[1]); !ok {
			return false
		}
	}
	if x.Path == "" {
		return true
	}
	rel, ok := p.relative(f.Location.File)
	if !ok {
		return false
	}
	match, _ := doublestar.Match(path.Clean(x.Path), rel)
	return match
}

// relative is a finding's file relative to the configuration file's
// directory, with "/" separators; false for standard input and files
// outside that directory.
func (p Policy) relative(file string) (string, bool) {
	if file == "" || file == load.StdinName || p.Dir == "" {
		return "", false
	}
	abs := filepath.FromSlash(file)
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(p.WorkDir, abs)
	}
	rel, err := filepath.Rel(p.Dir, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// expired: the expiry date has passed (the exception applies through the
// whole day it names, UTC).
func (x Exception) expired(now time.Time) bool {
	return !x.expires.IsZero() && !now.UTC().Before(x.expires.AddDate(0, 0, 1))
}

func (x Exception) selector() string {
	var parts []string
	for _, kv := range [][2]string{{"kind", x.Kind}, {"namespace", x.Namespace}, {"name", x.Name}, {"path", x.Path}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+" "+kv[1])
		}
	}
	if len(parts) == 0 {
		return "every resource"
	}
	return strings.Join(parts, ", ")
}

// fields names what an unused exception's author may have got wrong.
func (x Exception) fields() string {
	if x.Path != "" {
		return "rule, kind, namespace, name or path"
	}
	return "rule, kind, namespace or name"
}

// annotationWaiver is a resource's kubegate.dev/ignore annotation.
type annotationWaiver struct {
	rules  []string
	reason string
	at     finding.Location
}

// readAnnotation reads a resource's waiver; a malformed one is an input
// error at the annotation's line and waives nothing.
func (p Policy) readAnnotation(rep *finding.Report, r *load.Resource) *annotationWaiver {
	meta, _ := r.Object["metadata"].(map[string]any)
	ann, _ := meta["annotations"].(map[string]any)
	raw, ok := ann[IgnoreAnnotation]
	if !ok {
		return nil
	}
	at := r.Locate(load.Path{"metadata", "annotations", IgnoreAnnotation})
	fail := func(format string, args ...any) *annotationWaiver {
		rep.Errors = append(rep.Errors, finding.InputError{File: at.File, Line: at.Line, Message: fmt.Sprintf("%s: %s", r.ID(), fmt.Sprintf(format, args...))})
		return nil
	}
	s, _ := raw.(string)
	list, reason, found := strings.Cut(s, ":")
	reason = strings.TrimSpace(reason)
	if !found || reason == "" {
		return fail("annotation %s: %q has no reason; write \"<rule>[,<rule>]: <why the rule does not apply here>\"", IgnoreAnnotation, s)
	}
	w := &annotationWaiver{reason: reason, at: at}
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		if _, err := path.Match(id, ""); err != nil || id == "" || !p.anyRule(id) {
			return fail("annotation %s: %q is not a rule (kubegate rules lists them)", IgnoreAnnotation, id)
		}
		w.rules = append(w.rules, id)
	}
	return w
}

func matchAny(globs []string, id string) bool {
	return slices.ContainsFunc(globs, func(g string) bool { ok, _ := path.Match(g, id); return ok })
}
