package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"github.com/kubegate/kubegate/finding"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
)

// golden compares got with testdata/NAME (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (rerun with -update to accept)\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// sampleWithRules is the sample report with rule documentation, as the CLI
// fills it in from the policies' metadata.
func sampleWithRules() *finding.Report {
	r := sampleReport()
	r.Findings[0].Related = []finding.Location{{File: "base/hpa.yaml", Line: 3, Column: 1}}
	r.Suppressed = []finding.Suppressed{{
		Finding: finding.Finding{Rule: "pss.hostNamespaces", Severity: finding.Error, Message: "pod sets hostNetwork: true", Resource: finding.Resource{APIVersion: "apps/v1", Kind: "DaemonSet", Namespace: "monitoring", Name: "node-exporter"}, Location: finding.Location{File: "base/exporter.yaml", Line: 9, Column: 7}},
		Reason:  "reads the node's network statistics", By: finding.Location{File: ".kubegate.yaml", Line: 4, Column: 5}, Expires: "2027-03-31",
	}}
	r.Normalize()
	r.Rules = map[string]finding.RuleInfo{
		"pss.privileged":      {ID: "pss.privileged", Title: "Privileged containers", Severity: finding.Error, Rationale: "Privileged containers can do almost anything the node can.", Fix: "Remove securityContext.privileged.", Docs: "https://kubernetes.io/docs/concepts/security/pod-security-standards/"},
		"hpa.min-exceeds-max": {ID: "hpa.min-exceeds-max", Title: "HPA minReplicas above maxReplicas", Severity: finding.Error, Rationale: "The API server rejects it.", Fix: "Lower minReplicas."},
	}
	return r
}

func TestSARIF(t *testing.T) {
	out := write(t, "sarif", sampleWithRules(), Options{})
	golden(t, "sarif.golden", out)
	log, err := sarif.FromString(out)
	if err != nil {
		t.Fatalf("parsing: %v", err)
	}
	if err := log.Validate(); err != nil {
		t.Fatalf("SARIF 2.1.0 schema: %v", err)
	}
	run := log.Runs[0]
	r := sampleWithRules()
	if got, want := len(run.Results), len(r.Findings)+len(r.Errors); got != want {
		t.Errorf("%d results, want %d (findings and input errors)", got, want)
	}
	seen := map[string]bool{}
	for _, res := range run.Results {
		fp := res.PartialFingerprints["kubegate/v1"]
		if fp == "" || seen[fp] {
			t.Errorf("result %v: fingerprint %q empty or repeated", *res.RuleID, fp)
		}
		seen[fp] = true
		if *res.RuleID == "pss.privileged" {
			loc := res.Locations[0].PhysicalLocation
			if *loc.ArtifactLocation.URI != "overlays/prod/deployment.yaml" || *loc.Region.StartLine != 12 || *loc.Region.StartColumn != 11 {
				t.Errorf("pss.privileged at %v:%v:%v", *loc.ArtifactLocation.URI, *loc.Region.StartLine, *loc.Region.StartColumn)
			}
			if res.Level != "error" {
				t.Errorf("level %q", res.Level)
			}
		}
	}
	for _, rule := range run.Tool.Driver.Rules {
		if *rule.ID == "pss.privileged" && (rule.Help == nil || !strings.Contains(*rule.Help.Text, "Fix: Remove securityContext.privileged.")) {
			t.Errorf("pss.privileged help %+v lacks the fix", rule.Help)
		}
	}
	// Stable across runs: the same bytes again.
	if again := write(t, "sarif", sampleWithRules(), Options{}); again != out {
		t.Error("two writes of one report differ")
	}
}

func TestSARIFEmptyValidates(t *testing.T) {
	r := &finding.Report{Tool: finding.Tool{Name: "kubegate", Version: "0.1.0"}}
	r.Normalize()
	log, err := sarif.FromString(write(t, "sarif", r, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := log.Validate(); err != nil {
		t.Fatal(err)
	}
	if n := len(log.Runs[0].Results); n != 0 {
		t.Errorf("%d results, want 0", n)
	}
}

func TestGitLab(t *testing.T) {
	out := write(t, "gitlab", sampleWithRules(), Options{})
	golden(t, "gitlab.golden", out)
	if bytes.HasPrefix([]byte(out), []byte("\xef\xbb\xbf")) {
		t.Error("byte-order mark")
	}
	var issues []map[string]any
	if err := json.Unmarshal([]byte(out), &issues); err != nil {
		t.Fatalf("not a JSON array: %v", err)
	}
	r := sampleWithRules()
	if len(issues) != len(r.Findings)+len(r.Errors) {
		t.Errorf("%d issues, want %d", len(issues), len(r.Findings)+len(r.Errors))
	}
	seen := map[string]bool{}
	severities := map[string]bool{"info": true, "minor": true, "major": true, "critical": true, "blocker": true}
	for _, is := range issues {
		for _, k := range []string{"description", "check_name", "fingerprint", "severity"} {
			if s, _ := is[k].(string); s == "" {
				t.Errorf("issue %v: no %s", is, k)
			}
		}
		if !severities[is["severity"].(string)] {
			t.Errorf("severity %v is not GitLab's", is["severity"])
		}
		loc, _ := is["location"].(map[string]any)
		lines, _ := loc["lines"].(map[string]any)
		if p, _ := loc["path"].(string); p == "" || lines["begin"].(float64) < 1 {
			t.Errorf("issue %v: location.path and location.lines.begin are required", is)
		}
		fp := is["fingerprint"].(string)
		if seen[fp] {
			t.Errorf("fingerprint %s repeated", fp)
		}
		seen[fp] = true
	}
	if got := write(t, "gitlab", &finding.Report{}, Options{}); got != "[]\n" {
		t.Errorf("empty report: %q", got)
	}
}

func TestJUnit(t *testing.T) {
	r := sampleWithRules()
	// A second violation of a rule on the same resource: still one test case.
	extra := r.Findings[0]
	extra.Location.Line, extra.Message = 99, "another place"
	r.Findings = append(r.Findings, extra)
	r.Normalize()
	out := write(t, "junit", r, Options{})
	golden(t, "junit.golden", out)
	var doc struct {
		Tests  int `xml:"tests,attr"`
		Suites []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				Error *struct{} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	want := map[string]bool{}
	for _, f := range r.Findings {
		want[f.Resource.String()+" "+f.Rule] = true
	}
	got := map[string]int{}
	cases := 0
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			cases++
			if s.Name == "input" {
				if c.Error == nil {
					t.Errorf("input case %q has no error", c.Name)
				}
				continue
			}
			got[s.Name+" "+c.Name]++
			if c.Failure == nil {
				t.Errorf("case %s %s has no failure", s.Name, c.Name)
			}
		}
	}
	for k := range want {
		if got[k] != 1 {
			t.Errorf("%q: %d test cases, want 1", k, got[k])
		}
	}
	if len(got) != len(want) || cases != len(want)+len(r.Errors) || doc.Tests != cases {
		t.Errorf("%d cases (%d per rule and resource, tests=%d), want %d + %d input errors", cases, len(got), doc.Tests, len(want), len(r.Errors))
	}
}

func TestGitHubOrderAndLimit(t *testing.T) {
	var r finding.Report
	res := finding.Resource{Kind: "Pod", Name: "p"}
	for i := range 14 {
		r.Findings = append(r.Findings, finding.Finding{Rule: "e", Severity: finding.Error, Message: fmt.Sprintf("error %02d", i), Resource: res, Location: finding.Location{File: "a.yaml", Line: 100 - i}})
	}
	r.Findings = append(r.Findings, finding.Finding{Rule: "e", Severity: finding.Error, Message: "no line", Resource: res, Location: finding.Location{File: "a.yaml"}})
	r.Findings = append(r.Findings, finding.Finding{Rule: "n", Severity: finding.Notice, Message: "a notice", Resource: res, Location: finding.Location{File: "b.yaml", Line: 1}})
	r.Findings = append(r.Findings, finding.Finding{Rule: "w", Severity: finding.Warning, Message: "a warning", Resource: res, Location: finding.Location{File: "z.yaml", Line: 5}})
	r.Errors = []finding.InputError{{File: "bad.yaml", Line: 2, Message: "broken"}}
	r.Normalize()
	out := write(t, "github", &r, Options{})
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	cmd := regexp.MustCompile(`^::(error|warning|notice) [^:]*::(.*)$`)
	var annotations []string
	for _, l := range lines {
		if m := cmd.FindStringSubmatch(l); m != nil {
			annotations = append(annotations, m[1]+": "+m[2])
		}
	}
	want := []string{"error: broken"}
	for i := 13; i >= 6; i-- { // canonical order is by line: error 13 is on line 87
		want = append(want, fmt.Sprintf("error: Pod p: error %02d", i))
	}
	want = append(want,
		"error: 7 more errors not annotated here (GitHub shows 10 annotations per severity); the job summary and the log of this step list every finding.",
		"warning: Pod p: a warning",
		"notice: Pod p: a notice",
	)
	if strings.Join(annotations, "\n") != strings.Join(want, "\n") {
		t.Errorf("annotations:\n%s\nwant:\n%s", strings.Join(annotations, "\n"), strings.Join(want, "\n"))
	}
	// The seven others are in the log, in a group, as plain lines (the one
	// without a line last: less specific).
	if !strings.Contains(out, "::group::kubegate: 7 findings beyond the annotation limit\n") || !strings.HasSuffix(out, "error: a.yaml: Pod p: no line [e]\n::endgroup::\n") {
		t.Errorf("log group missing or out of order:\n%s", out)
	}
	for i := range 14 {
		if n := strings.Count(out, fmt.Sprintf("error %02d", i)); n != 1 {
			t.Errorf("error %02d appears %d times, want once (annotated or in the log)", i, n)
		}
	}
}

func TestGitHubSummary(t *testing.T) {
	ctx := GitHubContext{ServerURL: "https://github.com", Repository: "acme/shop", SHA: "0123abc", RepoPath: func(p string) string { return "deploy/" + p }}
	var b bytes.Buffer
	if err := WriteGitHubSummary(&b, sampleWithRules(), ctx); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.golden", b.String())
	if !strings.Contains(b.String(), "[overlays/prod/deployment.yaml:12:11](https://github.com/acme/shop/blob/0123abc/deploy/overlays/prod/deployment.yaml#L12)") {
		t.Error("no link to the line in the commit")
	}
	if !strings.Contains(b.String(), "### Waived by exceptions (1)") || !strings.Contains(b.String(), "reads the node's network statistics") {
		t.Error("the summary does not list the waived finding")
	}
}

func TestGitHubSummaryLimit(t *testing.T) {
	var r finding.Report
	long := strings.Repeat("x", 2000)
	for i := range 2000 {
		r.Findings = append(r.Findings, finding.Finding{Rule: "r", Severity: finding.Warning, Message: fmt.Sprintf("%d %s", i, long), Resource: finding.Resource{Kind: "Pod", Name: "p"}, Location: finding.Location{File: "a.yaml", Line: i + 1}})
	}
	r.Normalize()
	var b bytes.Buffer
	if err := WriteGitHubSummary(&b, &r, GitHubContext{}); err != nil {
		t.Fatal(err)
	}
	if b.Len() > 1<<20 {
		t.Errorf("summary is %d bytes, over GitHub's 1 MiB", b.Len())
	}
	rows := strings.Count(b.String(), "| `r` |")
	note := fmt.Sprintf("> %d more rows not shown: GitHub limits a job summary to 1 MiB.", 2000-rows)
	if rows == 0 || rows == 2000 || !strings.Contains(b.String(), note) {
		t.Errorf("%d rows shown; want a truncation with the note %q", rows, note)
	}
}

func TestMarkdownCell(t *testing.T) {
	if got := MarkdownCell("a|b\nc <script>&"); got != `a\|b c &lt;script&gt;&amp;` {
		t.Errorf("mdCell = %q", got)
	}
}

// TestSARIFResultCap: a run over GitHub's 25,000 results keeps the most
// severe and says how many were left out; the log still validates.
func TestSARIFResultCap(t *testing.T) {
	var r finding.Report
	r.Tool = finding.Tool{Name: "kubegate", Version: "0.1.0"}
	for i := range SARIFMaxResults + 10 {
		sev := finding.Notice
		if i%1000 == 0 {
			sev = finding.Error
		}
		r.Findings = append(r.Findings, finding.Finding{Rule: "r", Severity: sev, Message: fmt.Sprint(i), Resource: finding.Resource{Kind: "Pod", Name: fmt.Sprint(i)}, Location: finding.Location{File: "a.yaml", Line: i + 1}})
	}
	r.Normalize()
	log := BuildSARIF(&r)
	results := log.Runs[0].Results
	if len(results) != SARIFMaxResults {
		t.Fatalf("%d results, want %d", len(results), SARIFMaxResults)
	}
	errors := 0
	for _, res := range results {
		if res.Level == "error" {
			errors++
		}
	}
	if errors != 26 {
		t.Errorf("%d error results kept, want all 26", errors)
	}
	n := log.Runs[0].Invocations[0].ToolExecutionNotifications[0]
	if !strings.Contains(*n.Message.Text, "10 less severe findings are left out") {
		t.Errorf("notification %q", *n.Message.Text)
	}
}
