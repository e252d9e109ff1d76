package exceptions

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubegate/kubegate/evaluate"
	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/load"
)

var known = map[string]finding.RuleInfo{
	"pss.privileged":                       {ID: "pss.privileged"},
	"pss.hostNamespaces":                   {ID: "pss.hostNamespaces"},
	"resources.cpu-limit-missing":          {ID: "resources.cpu-limit-missing"},
	evaluate.RuleExceptionUnused.ID:        {ID: evaluate.RuleExceptionUnused.ID},
	evaluate.RuleExceptionExpired.ID:       {ID: evaluate.RuleExceptionExpired.ID},
	evaluate.RuleChartDependencyMissing.ID: {ID: evaluate.RuleChartDependencyMissing.ID},
}

func found(rule, kind, name, file string) finding.Finding {
	return finding.Finding{
		Rule: rule, Severity: finding.Error,
		Resource: finding.Resource{APIVersion: "apps/v1", Kind: kind, Namespace: "web", Name: name},
		Location: finding.Location{File: file, Line: 3},
	}
}

// policy is a configuration at /repo/.kubegate.yaml, run from /repo.
func policy(t *testing.T, xs ...Exception) Policy {
	t.Helper()
	for i := range xs {
		xs[i].Line = 10 + i
		xs[i].Column = 5
		if errs := xs[i].Validate(); len(errs) > 0 {
			t.Fatalf("exception %d: %v", i, errs)
		}
	}
	return Policy{
		File: ".kubegate.yaml", Dir: filepath.FromSlash("/repo"), WorkDir: filepath.FromSlash("/repo"),
		Exceptions: xs, Rules: known, Now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC),
	}
}

func rules(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule+"@"+f.Location.File)
	}
	return out
}

// A path glob waives the findings reported on files under it, and only
// those: ** reaches any depth, a single * one name.
func TestPathGlob(t *testing.T) {
	for _, c := range []struct {
		glob   string
		waived []string // files whose findings are waived
	}{
		{"vendor/charts/**", []string{"vendor/charts/redis/templates/sts.yaml", "vendor/charts/redis/values.yaml"}},
		{"vendor/charts/*/values.yaml", []string{"vendor/charts/redis/values.yaml"}},
		{"vendor/**/templates/*.yaml", []string{"vendor/charts/redis/templates/sts.yaml"}},
		{"./vendor/charts/redis/**", []string{"vendor/charts/redis/templates/sts.yaml", "vendor/charts/redis/values.yaml"}},
		{"apps/*.yaml", []string{"apps/web.yaml"}},
		{"**", []string{"apps/web.yaml", "vendor/charts/redis/templates/sts.yaml", "vendor/charts/redis/values.yaml"}},
	} {
		t.Run(c.glob, func(t *testing.T) {
			p := policy(t, Exception{Rule: "pss.*", Path: c.glob, Reason: "third-party chart"})
			files := []string{"apps/web.yaml", "vendor/charts/redis/templates/sts.yaml", "vendor/charts/redis/values.yaml", load.StdinName, "/elsewhere/vendor/charts/x.yaml"}
			rep := &finding.Report{}
			for _, f := range files {
				rep.Findings = append(rep.Findings, found("pss.privileged", "StatefulSet", "redis", f))
			}
			p.Apply(rep, nil)
			var got []string
			for _, s := range rep.Suppressed {
				got = append(got, s.Location.File)
				if s.By.String() != ".kubegate.yaml:10:5" || s.Reason != "third-party chart" {
					t.Errorf("waived by %s (%q)", s.By, s.Reason)
				}
			}
			if !slices.Equal(got, c.waived) {
				t.Errorf("waived %v, want %v", got, c.waived)
			}
			if len(rep.Findings)+len(rep.Suppressed) != len(files) {
				t.Errorf("%d findings and %d waived of %d", len(rep.Findings), len(rep.Suppressed), len(files))
			}
		})
	}
}

// Paths relative to a configuration file in a subdirectory start there, and
// a run from another working directory names files relative to that one.
func TestPathRelativeToConfiguration(t *testing.T) {
	p := policy(t, Exception{Rule: "pss.privileged", Path: "vendor/**", Reason: "r"})
	p.Dir = filepath.FromSlash("/repo/deploy")
	p.WorkDir = filepath.FromSlash("/repo")
	rep := &finding.Report{Findings: []finding.Finding{
		found("pss.privileged", "Deployment", "a", "deploy/vendor/a.yaml"),
		found("pss.privileged", "Deployment", "b", "vendor/b.yaml"),
	}}
	p.Apply(rep, nil)
	if got := rules(rep.Findings); !slices.Equal(got, []string{"pss.privileged@vendor/b.yaml"}) {
		t.Errorf("kept %v: want only the finding outside deploy/vendor", got)
	}
}

// A path glob combines with the other selectors: all must match.
func TestPathAndSelectors(t *testing.T) {
	p := policy(t, Exception{Rule: "pss.privileged", Kind: "StatefulSet", Path: "vendor/**", Reason: "r"})
	rep := &finding.Report{Findings: []finding.Finding{
		found("pss.privileged", "StatefulSet", "a", "vendor/a.yaml"),
		found("pss.privileged", "Deployment", "b", "vendor/b.yaml"),
		found("pss.hostNamespaces", "StatefulSet", "c", "vendor/c.yaml"),
	}}
	p.Apply(rep, nil)
	if got := rules(rep.Findings); !slices.Equal(got, []string{"pss.privileged@vendor/b.yaml", "pss.hostNamespaces@vendor/c.yaml"}) {
		t.Errorf("kept %v", got)
	}
}

func TestValidatePath(t *testing.T) {
	for glob, want := range map[string]string{
		"vendor/[":    `path "vendor/[" is not a valid glob`,
		"/abs/**":     `path "/abs/**" is not a valid glob relative to the configuration file`,
		"../other/**": `path "../other/**" leaves the configuration file's directory`,
		"vendor/**":   "",
	} {
		x := Exception{Rule: "pss.*", Path: glob, Reason: "r"}
		got := strings.Join(x.Validate(), "\n")
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("path %q: %q, want %q", glob, got, want)
		}
	}
}

// The exceptions' own findings are rules like any other: rules: changes
// their severity or turns them off.
func TestOwnFindingsAreTunable(t *testing.T) {
	xs := []Exception{
		{Rule: "pss.privileged", Reason: "r", Expires: "2026-01-31"},
		{Rule: "pss.hostNamespaces", Name: "nothing-by-this-name", Path: "vendor/**", Reason: "r"},
	}
	p := policy(t, xs...)
	rep := &finding.Report{Findings: []finding.Finding{found("pss.privileged", "Deployment", "web", "apps/web.yaml")}}
	p.Apply(rep, nil)
	got := map[string]finding.Finding{}
	for _, f := range rep.Findings {
		got[f.Rule] = f
	}
	if f := got["pss.privileged"]; f.Rule == "" {
		t.Error("an expired exception still waived its finding")
	}
	exp, unused := got[evaluate.RuleExceptionExpired.ID], got[evaluate.RuleExceptionUnused.ID]
	if exp.Severity != finding.Warning || exp.Location.String() != ".kubegate.yaml:10:5" || exp.Field != "exceptions[0].expires" {
		t.Errorf("expired: %+v", exp)
	}
	if unused.Severity != finding.Notice || unused.Location.String() != ".kubegate.yaml:11:5" ||
		!strings.Contains(unused.Message, "(name nothing-by-this-name, path vendor/**) waives no finding; remove it, or correct its rule, kind, namespace, name or path") {
		t.Errorf("unused: %+v", unused)
	}

	p = policy(t, xs...)
	p.Settings = map[string]Setting{evaluate.RuleExceptionExpired.ID: {Severity: "error"}, evaluate.RuleExceptionUnused.ID: {Disabled: true}}
	rep = &finding.Report{Findings: []finding.Finding{found("pss.privileged", "Deployment", "web", "apps/web.yaml")}}
	p.Apply(rep, nil)
	if got := rules(rep.Findings); !slices.Equal(got, []string{"pss.privileged@apps/web.yaml", "kubegate.exception-expired@.kubegate.yaml"}) {
		t.Errorf("with rules: settings, findings %v: want the unused notice disabled", got)
	}
	for _, f := range rep.Findings {
		if f.Rule == evaluate.RuleExceptionExpired.ID && f.Severity != finding.Error {
			t.Errorf("expired exception at %v, want error as configured", f.Severity)
		}
	}

	// A shard sees part of the input: an exception may waive in another.
	p = policy(t, xs[1])
	p.Sharded = true
	rep = &finding.Report{}
	p.Apply(rep, nil)
	if len(rep.Findings) != 0 {
		t.Errorf("sharded run: %v", rules(rep.Findings))
	}
}

func TestCheckRuleIDs(t *testing.T) {
	p := policy(t, Exception{Rule: "kubegate.*", Reason: "r"}, Exception{Rule: "psss.*", Reason: "r"})
	p.Settings = map[string]Setting{"kubegate.exception-unused": {Disabled: true}, "hpa.nope": {}}
	p.RuleLines = map[string]int{"kubegate.exception-unused": 3, "hpa.nope": 4}
	err := p.CheckRuleIDs()
	want := ".kubegate.yaml:4: rules: \"hpa.nope\" is not a rule (kubegate rules lists them)\n.kubegate.yaml:11: exception: \"psss.*\" matches no rule (kubegate rules lists them)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// hpa.deprecated-api, now part of api.removed, keeps working in settings
// and exceptions: on api.removed findings about HorizontalPodAutoscalers,
// and on no other kind's.
func TestRuleAlias(t *testing.T) {
	withRemoved := maps.Clone(known)
	withRemoved["api.removed"] = finding.RuleInfo{ID: "api.removed"}
	hpa := found("api.removed", "HorizontalPodAutoscaler", "web", "apps/hpa.yaml")
	pdb := found("api.removed", "PodDisruptionBudget", "web", "apps/pdb.yaml")

	p := policy(t, Exception{Rule: "hpa.deprecated-api", Reason: "migrating in JIRA-12"})
	p.Rules = withRemoved
	if err := p.CheckRuleIDs(); err != nil {
		t.Fatalf("the alias is not accepted: %v", err)
	}
	rep := &finding.Report{Findings: []finding.Finding{hpa, pdb}}
	p.Apply(rep, nil)
	if got := rules(rep.Findings); !slices.Equal(got, []string{"api.removed@apps/pdb.yaml"}) {
		t.Errorf("exception by the former id: kept %v, want only the PDB's finding", got)
	}
	if len(rep.Suppressed) != 1 || rep.Suppressed[0].Resource.Kind != "HorizontalPodAutoscaler" {
		t.Errorf("suppressed %v, want the HPA's finding", rep.Suppressed)
	}

	p = policy(t)
	p.Rules = withRemoved
	p.Settings = map[string]Setting{"hpa.deprecated-api": {Severity: "warning"}}
	if err := p.CheckRuleIDs(); err != nil {
		t.Fatalf("the alias is not accepted as a setting: %v", err)
	}
	rep = &finding.Report{Findings: []finding.Finding{hpa, pdb}}
	p.Apply(rep, nil)
	for _, f := range rep.Findings {
		want := finding.Error
		if f.Resource.Kind == "HorizontalPodAutoscaler" {
			want = finding.Warning
		}
		if f.Severity != want {
			t.Errorf("%s %s: severity %v, want %v", f.Rule, f.Resource.Kind, f.Severity, want)
		}
	}
}
