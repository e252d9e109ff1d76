package cli

import (
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/load"
)

// IgnoreAnnotation waives rules for one resource, written on the resource:
// "<rule>[,<rule>]: <reason>". Rules may be globs (pss.*).
const IgnoreAnnotation = "kubegate.dev/ignore"

// The findings kubegate makes about its own configuration.
var (
	ruleExpired = finding.RuleInfo{
		ID: "kubegate.exception-expired", Title: "Exception expired", Severity: finding.Warning,
		Rationale: "An exception with an expiry date stops applying on that date, so waivers are revisited instead of forgotten.",
		Fix:       "Fix what the exception waived, or renew the exception with a new expiry date and an up-to-date reason.",
	}
	ruleUnused = finding.RuleInfo{
		ID: "kubegate.exception-unused", Title: "Exception matches nothing", Severity: finding.Notice,
		Rationale: "An exception that waives no finding is dead configuration; its selector may also be wrong and waive nothing it was meant to.",
		Fix:       "Remove the exception, or correct its rule, kind, namespace or name.",
	}
)

// policy is what the configuration does to findings: severity overrides,
// disabled rules and exceptions.
type policy struct {
	cfg   *config
	rules map[string]finding.RuleInfo // every rule there is
	now   time.Time
}

// checkRuleIDs reports configuration entries that name no rule.
func (p policy) checkRuleIDs() error {
	if p.cfg == nil {
		return nil
	}
	var errs []string
	for _, id := range slices.Sorted(maps.Keys(p.cfg.Rules)) {
		if _, ok := p.rules[id]; !ok {
			errs = append(errs, fmt.Sprintf("%s:%d: rules: %q is not a rule (kubegate rules lists them)", p.cfg.file, p.cfg.ruleLines[id], id))
		}
	}
	for _, x := range p.cfg.Exceptions {
		if !p.anyRule(x.Rule) {
			errs = append(errs, fmt.Sprintf("%s:%d: exception: %q matches no rule (kubegate rules lists them)", p.cfg.file, x.line, x.Rule))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

func (p policy) anyRule(glob string) bool {
	for id := range p.rules {
		if ok, _ := path.Match(glob, id); ok {
			return true
		}
	}
	return false
}

// apply changes severities, drops disabled rules, moves waived findings to
// rep.Suppressed, and adds findings about expired and unused exceptions
// and input errors about malformed annotations on the resources.
func (p policy) apply(rep *finding.Report, resources []*load.Resource, sharded bool) {
	annotations := map[finding.Resource]*annotationWaiver{}
	for _, r := range resources {
		if w := p.readAnnotation(rep, r); w != nil {
			annotations[r.ID()] = w
		}
	}
	var cfgRules map[string]ruleConfig
	var exceptions []exception
	if p.cfg != nil {
		cfgRules, exceptions = p.cfg.Rules, p.cfg.Exceptions
	}
	used := make([]bool, len(exceptions))
	kept := rep.Findings[:0]
	for _, f := range rep.Findings {
		if rc, ok := cfgRules[f.Rule]; ok {
			if rc.Disabled {
				continue
			}
			if rc.Severity != "" {
				f.Severity, _ = finding.ParseSeverity(rc.Severity, false)
			}
		}
		if w := annotations[f.Resource]; w != nil && matchAny(w.rules, f.Rule) {
			rep.Suppressed = append(rep.Suppressed, finding.Suppressed{Finding: f, Reason: w.reason, By: w.at})
			continue
		}
		waived := false
		for i, x := range exceptions {
			if !x.matches(f) || x.expired(p.now) {
				continue
			}
			used[i] = true
			rep.Suppressed = append(rep.Suppressed, finding.Suppressed{Finding: f, Reason: x.Reason, By: finding.Location{File: p.cfg.file, Line: x.line, Column: x.column}, Expires: x.Expires})
			waived = true
			break
		}
		if !waived {
			kept = append(kept, f)
		}
	}
	rep.Findings = kept
	self := finding.Resource{APIVersion: "kubegate.dev/v1", Kind: "Config", Name: filepath.Base(p.cfgFile())}
	for i, x := range exceptions {
		at := finding.Location{File: p.cfg.file, Line: x.line, Column: x.column}
		switch {
		case x.expired(p.now):
			rep.Findings = append(rep.Findings, finding.Finding{
				Rule: ruleExpired.ID, Severity: ruleExpired.Severity, Resource: self, Location: at, Field: fmt.Sprintf("exceptions[%d].expires", i),
				Message: fmt.Sprintf("the exception for %s (%s) expired on %s and no longer applies; fix what it waived, or renew it with a new expiry date and reason", x.Rule, x.selector(), x.Expires),
			})
		case !used[i] && !sharded:
			rep.Findings = append(rep.Findings, finding.Finding{
				Rule: ruleUnused.ID, Severity: ruleUnused.Severity, Resource: self, Location: at, Field: fmt.Sprintf("exceptions[%d]", i),
				Message: fmt.Sprintf("the exception for %s (%s) waives no finding; remove it, or correct its rule, kind, namespace or name", x.Rule, x.selector()),
			})
		}
	}
	if rep.Rules != nil {
		rep.Rules[ruleExpired.ID] = ruleExpired
		rep.Rules[ruleUnused.ID] = ruleUnused
	}
}

func (p policy) cfgFile() string {
	if p.cfg == nil {
		return ConfigName
	}
	return p.cfg.file
}

// annotationWaiver is a resource's kubegate.dev/ignore annotation.
type annotationWaiver struct {
	rules  []string
	reason string
	at     finding.Location
}

// readAnnotation reads a resource's waiver; a malformed one is an input
// error at the annotation's line and waives nothing.
func (p policy) readAnnotation(rep *finding.Report, r *load.Resource) *annotationWaiver {
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

// matches reports whether the exception's selector covers a finding: the
// rule, kind, namespace and name globs (an empty one matches anything).
func (x exception) matches(f finding.Finding) bool {
	for _, m := range [][2]string{{x.Rule, f.Rule}, {x.Kind, f.Resource.Kind}, {x.Namespace, f.Resource.Namespace}, {x.Name, f.Resource.Name}} {
		if m[0] == "" {
			continue
		}
		if ok, _ := path.Match(m[0], m[1]); !ok {
			return false
		}
	}
	return true
}

// expired: the expiry date has passed (the exception applies through the
// whole day it names, UTC).
func (x exception) expired(now time.Time) bool {
	return !x.expires.IsZero() && !now.UTC().Before(x.expires.AddDate(0, 0, 1))
}

func (x exception) selector() string {
	var parts []string
	for _, kv := range [][2]string{{"kind", x.Kind}, {"namespace", x.Namespace}, {"name", x.Name}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+" "+kv[1])
		}
	}
	if len(parts) == 0 {
		return "every resource"
	}
	return strings.Join(parts, ", ")
}
