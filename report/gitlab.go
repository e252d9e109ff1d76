package report

import (
	"bufio"
	"cmp"
	"github.com/kubegate/kubegate/finding"
	"io"
)

// gitlabIssue is one entry of a GitLab Code Quality report (the subset of
// the Code Climate issue format that GitLab reads).
type gitlabIssue struct {
	Description string         `json:"description"`
	CheckName   string         `json:"check_name"`
	Fingerprint string         `json:"fingerprint"`
	Severity    string         `json:"severity"`
	Location    gitlabLocation `json:"location"`
	// Baseline is "new" or "existing" with --baseline (an extension GitLab
	// ignores; it compares the base's report itself).
	Baseline string `json:"baseline,omitempty"`
}

type gitlabLocation struct {
	Path  string      `json:"path"`
	Lines gitlabLines `json:"lines"`
}

type gitlabLines struct {
	Begin int `json:"begin"`
}

// gitlabSeverity maps severities to GitLab's scale (info, minor, major,
// critical, blocker). Input errors are blockers: nothing in them was
// checked.
var gitlabSeverity = map[finding.Severity]string{finding.Error: "critical", finding.Warning: "major", finding.Notice: "minor"}

// writeGitLab writes a GitLab Code Quality report: a JSON array, one issue
// per finding and per input error, with a fingerprint that is stable across
// runs and unique per finding. No byte-order mark. GitLab needs a path and
// a line: an input error without a file is reported on the kustomization or
// path it came from when known, else on ".", line 1.
func writeGitLab(w io.Writer, r *finding.Report, _ Options) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	issues := make([]gitlabIssue, 0, len(r.Findings)+len(r.Errors))
	for _, e := range r.Errors {
		issues = append(issues, gitlabIssue{
			Description: "input could not be evaluated: " + e.Message,
			CheckName:   inputErrorRule,
			Fingerprint: e.Fingerprint(),
			Severity:    "blocker",
			Location:    gitlabLocation{Path: cmp.Or(e.File, "."), Lines: gitlabLines{Begin: max(e.Line, 1)}},
		})
	}
	for _, f := range r.Findings {
		issues = append(issues, gitlabIssue{
			Description: f.Resource.String() + ": " + f.Message,
			CheckName:   f.Rule,
			Fingerprint: f.Fingerprint(),
			Severity:    gitlabSeverity[f.Severity],
			Location:    gitlabLocation{Path: cmp.Or(f.Location.File, "."), Lines: gitlabLines{Begin: max(f.Location.Line, 1)}},
			Baseline:    f.Baseline,
		})
	}
	if len(issues) == 0 {
		bw.WriteString("[]\n")
		return bw.Flush()
	}
	bw.WriteString("[\n")
	for i, it := range issues {
		b, err := marshal(it)
		if err != nil {
			return err
		}
		bw.WriteString("  ")
		bw.Write(b)
		if i < len(issues)-1 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	return bw.Flush()
}
