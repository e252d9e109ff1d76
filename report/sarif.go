package report

import (
	"cmp"
	"fmt"
	"github.com/kubegate/kubegate/finding"
	"io"
	"slices"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
)

// sarifURI is where kubegate's rules are documented when a rule names no
// page of its own.
const sarifURI = "https://github.com/kubegate/kubegate"

// inputErrorRule is the SARIF rule under which input errors are reported.
const inputErrorRule = "kubegate.input-error"

// SARIFMaxResults is the most results GitHub code scanning accepts in one
// run; a larger upload is rejected whole.
const SARIFMaxResults = 25000

// writeSARIF writes a SARIF 2.1.0 log that GitHub code scanning accepts:
// one run, the rules that findings name (with their rationale and fix as
// help), and one result per finding with its physical location, related
// locations and a stable fingerprint. Input errors are results too, so a
// broken file shows up where it is.
func writeSARIF(w io.Writer, r *finding.Report, _ Options) error {
	if err := BuildSARIF(r).PrettyWrite(w); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// BuildSARIF builds the SARIF log of a report.
func BuildSARIF(r *finding.Report) *sarif.Report {
	log := sarif.NewReport()
	run := sarif.NewRunWithInformationURI(r.Tool.Name, sarifURI)
	if r.Tool.Version != "" {
		run.Tool.Driver.WithVersion(r.Tool.Version)
	}
	var ids []string
	for _, f := range r.Findings { // every rule, even if its results are cut below
		if !slices.Contains(ids, f.Rule) {
			ids = append(ids, f.Rule)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		info, ok := r.Rules[id]
		if !ok {
			info = finding.RuleInfo{ID: id, Title: id}
		}
		rule := run.AddRule(id).
			WithName(ruleName(id)).
			WithShortDescription(sarif.NewMultiformatMessageString().WithText(cmp.Or(info.Title, id))).
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(info.Severity)))
		if info.Rationale != "" {
			rule.WithFullDescription(sarif.NewMultiformatMessageString().WithText(info.Rationale))
		}
		if help := ruleHelp(info, false); help != "" {
			rule.WithHelp(sarif.NewMultiformatMessageString().WithText(help).WithMarkdown(ruleHelp(info, true)))
		}
		if uri := cmp.Or(info.Reference, info.Docs); uri != "" {
			rule.WithHelpURI(uri)
		}
		props := sarif.NewPropertyBag()
		props.Add("tags", []string{"kubernetes", strings.SplitN(id, ".", 2)[0]})
		if sev := securitySeverity(id, info.Severity); sev != "" {
			props.Add("security-severity", sev)
		}
		rule.WithProperties(props)
	}
	findings := r.Findings
	left := 0
	if room := SARIFMaxResults - len(r.Errors); len(findings) > room {
		// Keep the most severe, in canonical order within a severity.
		kept := make([]finding.Finding, 0, room)
		for sev := finding.Error; sev >= finding.Notice && len(kept) < room; sev-- {
			for _, f := range findings {
				if f.Severity == sev && len(kept) < room {
					kept = append(kept, f)
				}
			}
		}
		left = len(findings) - len(kept)
		findings = kept
	}
	if left > 0 {
		run.WithInvocations([]*sarif.Invocation{sarif.NewInvocation().WithExecutionSuccessful(true).
			AddToolExecutionNotification(sarif.NewNotification().WithLevel("warning").WithMessage(sarif.NewTextMessage(
				fmt.Sprintf("%d less severe findings are left out: GitHub code scanning accepts at most %d results per run. The JSON report (-o json=FILE) has every finding.", left, SARIFMaxResults))))})
	}
	for _, f := range findings {
		res := run.CreateResultForRule(f.Rule).
			WithLevel(sarifLevel(f.Severity)).
			WithMessage(sarif.NewTextMessage(f.Resource.String() + ": " + f.Message)).
			WithPartialFingerprints(map[string]string{"kubegate/v1": f.Fingerprint()})
		switch f.Baseline {
		case finding.BaselineNew:
			res.WithBaselineState("new")
		case finding.BaselineExisting:
			res.WithBaselineState("unchanged")
		}
		if loc := sarifLocation(f.Location); loc != nil {
			res.AddLocation(loc)
		}
		for _, rel := range f.Related {
			if loc := sarifLocation(rel); loc != nil {
				res.AddRelatedLocation(loc)
			}
		}
		props := sarif.NewPropertyBag()
		props.Add("resource", f.Resource)
		if f.Field != "" {
			props.Add("field", f.Field)
		}
		if len(f.Tags) > 0 {
			props.Tags = append(props.Tags, f.Tags...) // a CVE's id, as code scanning shows tags
		}
		res.WithProperties(props)
	}
	if len(r.Errors) > 0 {
		run.AddRule(inputErrorRule).
			WithName("InputError").
			WithShortDescription(sarif.NewMultiformatMessageString().WithText("Input that could not be evaluated")).
			WithFullDescription(sarif.NewMultiformatMessageString().WithText("A file, document or kustomization could not be read, parsed or rendered, so the resources in it were not checked.")).
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel("error"))
		for _, e := range r.Errors {
			res := run.CreateResultForRule(inputErrorRule).
				WithLevel("error").
				WithMessage(sarif.NewTextMessage(e.Message)).
				WithPartialFingerprints(map[string]string{"kubegate/v1": e.Fingerprint()})
			if loc := sarifLocation(finding.Location{File: e.File, Line: e.Line}); loc != nil {
				res.AddLocation(loc)
			}
		}
	}
	log.AddRun(run)
	return log
}

// sarifLocation is a finding's place as a SARIF location; nil without a
// file. GitHub needs a region, so a file without a line points at line 1.
func sarifLocation(l finding.Location) *sarif.Location {
	if l.File == "" {
		return nil
	}
	region := sarif.NewRegion().WithStartLine(max(l.Line, 1))
	if l.Line > 0 && l.Column > 0 {
		region.WithStartColumn(l.Column)
	}
	return sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
		WithArtifactLocation(sarif.NewSimpleArtifactLocation(l.File).WithURIBaseID("%SRCROOT%")).
		WithRegion(region))
}

// sarifLevel maps a severity to a SARIF level.
func sarifLevel(s finding.Severity) string {
	switch s {
	case finding.Error:
		return "error"
	case finding.Warning:
		return "warning"
	default:
		return "note"
	}
}

// securitySeverity is the CVSS-like score GitHub code scanning ranks
// security rules by (Pod Security and image rules are security findings).
func securitySeverity(id string, s finding.Severity) string {
	if !strings.HasPrefix(id, "pss.") && !strings.HasPrefix(id, "images.") {
		return ""
	}
	switch s {
	case finding.Error:
		return "8.0"
	case finding.Warning:
		return "5.0"
	default:
		return "2.0"
	}
}

// ruleName makes a rule id a SARIF name: "pss.hostPathVolumes" becomes
// "PssHostPathVolumes".
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '.' || r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// ruleHelp is a rule's rationale and fix as text, or as Markdown with a
// link to its documentation.
func ruleHelp(info finding.RuleInfo, markdown bool) string {
	var parts []string
	if info.Rationale != "" {
		parts = append(parts, info.Rationale)
	}
	if info.Fix != "" {
		label := "Fix: "
		if markdown {
			label = "**Fix:** "
		}
		parts = append(parts, label+info.Fix)
	}
	if markdown && info.Reference != "" {
		parts = append(parts, "[kubegate's reference]("+info.Reference+")")
	}
	if markdown && info.Docs != "" {
		parts = append(parts, "[Documentation]("+info.Docs+")")
	}
	return strings.Join(parts, "\n\n")
}
