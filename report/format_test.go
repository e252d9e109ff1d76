package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"github.com/kubegate/kubegate/finding"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// sampleReport has findings in two files (one without a line), input errors
// with a line, without one and without a file, and is normalized.
func sampleReport() *finding.Report {
	r := &finding.Report{
		Tool: finding.Tool{Name: "kubegate", Version: "0.1.0"},
		Findings: []finding.Finding{
			{
				Rule:     "pss.runAsNonRoot",
				Severity: finding.Warning,
				Message:  `container "web" does not set securityContext.runAsNonRoot and neither does the pod; set runAsNonRoot: true in the pod's securityContext`,
				Resource: finding.Resource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "prod", Name: "web"},
				Field:    "spec.template.spec.securityContext.runAsNonRoot",
				Location: finding.Location{File: "overlays/prod/deployment.yaml", Line: 9, Column: 7},
			},
			{
				Rule:     "pss.privileged",
				Severity: finding.Error,
				Message:  `container "web" sets securityContext.privileged: true; remove it or set privileged: false`,
				Resource: finding.Resource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "prod", Name: "web"},
				Field:    "spec.template.spec.containers[0].securityContext.privileged",
				Location: finding.Location{File: "overlays/prod/deployment.yaml", Line: 12, Column: 11},
			},
			{
				Rule:     "resources.requests-missing",
				Severity: finding.Warning,
				Message:  `container "web" has no resources.requests.cpu; set resources.requests.cpu (for example cpu: 100m)`,
				Resource: finding.Resource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "prod", Name: "web"},
				Field:    "spec.template.spec.containers[0].resources.requests.cpu",
				Location: finding.Location{File: "overlays/prod/deployment.yaml", Line: 10, Column: 9},
			},
			{
				Rule:     "hpa.min-exceeds-max",
				Severity: finding.Error,
				Message:  "spec.minReplicas is 5 but spec.maxReplicas is 2; lower minReplicas to at most 2 or raise maxReplicas to at least 5",
				Resource: finding.Resource{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Namespace: "prod", Name: "web"},
				Field:    "spec.minReplicas",
				Location: finding.Location{File: "base/hpa.yaml", Line: 8, Column: 3},
			},
			{
				Rule:     "images.unpinned",
				Severity: finding.Notice,
				Message:  "image nginx:1.27 is not pinned to a digest",
				Resource: finding.Resource{APIVersion: "v1", Kind: "Namespace", Name: "prod"},
				Location: finding.Location{File: "base/hpa.yaml"},
			},
		},
		Errors: []finding.InputError{
			{File: "bad.yaml", Line: 7, Message: "yaml: mapping values are not allowed in this context"},
			{File: "missing.yaml", Message: "cannot read: no such file or directory"},
			{Message: "kustomize is not available"},
		},
		Summary: finding.Summary{Resources: 3, Images: 2},
	}
	r.Normalize()
	return r
}

// write runs a format by name.
func write(t *testing.T, format string, r *finding.Report, opts Options) string {
	t.Helper()
	w, err := Lookup(format)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := w(&buf, r, opts); err != nil {
		t.Fatalf("writing %s: %v", format, err)
	}
	return buf.String()
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name    string
		wantErr []string // nil: found
	}{
		{name: "text"},
		{name: "json"},
		{name: "github"},
		{name: "sarif"},
		{name: "junit"},
		{name: "gitlab"},
		{name: "yaml", wantErr: []string{`unknown output format "yaml"`, "github, gitlab, json, junit, sarif, text"}},
		{name: "", wantErr: []string{`unknown output format ""`, "github, gitlab, json, junit, sarif, text"}},
		{name: "JSON", wantErr: []string{`unknown output format "JSON"`, "github, gitlab, json, junit, sarif, text"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := Lookup(tt.name)
			if tt.wantErr == nil {
				if err != nil || w == nil {
					t.Fatalf("Lookup(%q) = %v, %v; want a writer", tt.name, w, err)
				}
				return
			}
			if err == nil || w != nil {
				t.Fatalf("Lookup(%q) = %v, %v; want an error", tt.name, w, err)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
	if got, want := Formats(), []string{"github", "gitlab", "json", "junit", "sarif", "text"}; !slices.Equal(got, want) {
		t.Errorf("Formats() = %v, want %v", got, want)
	}
}

// keys returns the sorted keys of a JSON object, failing when v is not one.
func keys(t *testing.T, where string, v any) []string {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: %T, want an object", where, v)
	}
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestJSONShape(t *testing.T) {
	r := sampleReport()
	var doc map[string]any
	if err := json.Unmarshal([]byte(write(t, "json", r, Options{})), &doc); err != nil {
		t.Fatal(err)
	}
	check := func(where string, v any, want ...string) {
		t.Helper()
		slices.Sort(want)
		if got := keys(t, where, v); !slices.Equal(got, want) {
			t.Errorf("%s keys = %v, want %v", where, got, want)
		}
	}
	check("report", doc, "tool", "findings", "errors", "summary")
	check("tool", doc["tool"], "name", "version")
	if tool := doc["tool"].(map[string]any); tool["name"] != "kubegate" || tool["version"] != "0.1.0" {
		t.Errorf("tool = %v", tool)
	}
	check("summary", doc["summary"], "resources", "images", "error", "warning", "notice")
	wantSummary := map[string]any{"resources": 3.0, "images": 2.0, "error": 2.0, "warning": 2.0, "notice": 1.0}
	if !reflect.DeepEqual(doc["summary"], wantSummary) {
		t.Errorf("summary = %v, want %v", doc["summary"], wantSummary)
	}

	findings, ok := doc["findings"].([]any)
	if !ok || len(findings) != len(r.Findings) {
		t.Fatalf("findings = %v, want %d of them", doc["findings"], len(r.Findings))
	}
	for i, f := range findings {
		want := r.Findings[i]
		if want.Field == "" || want.Resource.Namespace == "" {
			continue // see TestJSONOmitsEmptyOptionalFields
		}
		where := "findings[" + strconv.Itoa(i) + "]"
		check(where, f, "rule", "severity", "message", "resource", "field", "location")
		m := f.(map[string]any)
		check(where+".resource", m["resource"], "apiVersion", "kind", "namespace", "name")
		check(where+".location", m["location"], "file", "line", "column")
		if sev, ok := m["severity"].(string); !ok || sev != want.Severity.String() {
			t.Errorf("%s.severity = %#v, want the string %q", where, m["severity"], want.Severity)
		}
		loc := m["location"].(map[string]any)
		if loc["line"] != float64(want.Location.Line) || loc["column"] != float64(want.Location.Column) {
			t.Errorf("%s.location = %v, want %v", where, loc, want.Location)
		}
	}

	errs, ok := doc["errors"].([]any)
	if !ok || len(errs) != len(r.Errors) {
		t.Fatalf("errors = %v, want %d of them", doc["errors"], len(r.Errors))
	}
	for i, e := range errs {
		check("errors["+strconv.Itoa(i)+"]", e, "file", "line", "message")
	}
}

// TestJSONOmitsEmptyOptionalFields pins what happens to a cluster-scoped
// resource and a finding without a field: the keys are left out.
// TestJSONKeepsEveryContractKey: a cluster-scoped resource and a finding
// about the whole resource still carry "namespace" and "field", as the
// contract's example shows them, so consumers need no presence checks.
func TestJSONKeepsEveryContractKey(t *testing.T) {
	r := &finding.Report{Findings: []finding.Finding{{
		Rule: "images.x", Severity: finding.Notice, Message: "m",
		Resource: finding.Resource{APIVersion: "v1", Kind: "Namespace", Name: "prod"},
		Location: finding.Location{File: "ns.yaml", Line: 1, Column: 1},
	}}}
	r.Normalize()
	var doc struct {
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal([]byte(write(t, "json", r, Options{})), &doc); err != nil {
		t.Fatal(err)
	}
	f := doc.Findings[0]
	if v, ok := f["field"]; !ok || v != "" {
		t.Errorf("field = %v (present %v), want an empty string", v, ok)
	}
	if got := keys(t, "resource", f["resource"]); !slices.Equal(got, []string{"apiVersion", "kind", "name", "namespace"}) {
		t.Errorf("resource keys = %v", got)
	}
}

func TestJSONExact(t *testing.T) {
	r := &finding.Report{
		Tool: finding.Tool{Name: "kubegate", Version: "0.1.0"},
		Findings: []finding.Finding{{
			Rule:     "hpa.min-exceeds-max",
			Severity: finding.Error,
			Message:  `min <5> & max "2"`,
			Resource: finding.Resource{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Namespace: "prod", Name: "web"},
			Field:    "spec.minReplicas",
			Location: finding.Location{File: "hpa.yaml", Line: 8, Column: 3},
		}},
		Summary: finding.Summary{Resources: 1},
	}
	r.Normalize()
	want := `{
  "tool": {"name":"kubegate","version":"0.1.0"},
  "findings": [
    {"rule":"hpa.min-exceeds-max","severity":"error","message":"min <5> & max \"2\"","resource":{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","namespace":"prod","name":"web"},"field":"spec.minReplicas","location":{"file":"hpa.yaml","line":8,"column":3}}
  ],
  "errors": [],
  "summary": {"resources":1,"images":0,"error":1,"warning":0,"notice":0}
}
`
	if got := write(t, "json", r, Options{}); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestJSONEmpty(t *testing.T) {
	r := &finding.Report{Tool: finding.Tool{Name: "kubegate", Version: "dev"}}
	r.Normalize()
	out := write(t, "json", r, Options{})
	for _, s := range []string{`"findings": []`, `"errors": []`} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %s:\n%s", s, out)
		}
	}
	var back finding.Report
	if err := json.Unmarshal([]byte(out), &back); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(&back, r) {
		t.Errorf("round trip: got %+v, want %+v", back, *r)
	}
}

func TestJSONNoHTMLEscaping(t *testing.T) {
	r := sampleReport()
	r.Findings[0].Message = "requests <= limits && a > b"
	r.Errors[0].Message = "expected '<' & got '>'"
	out := write(t, "json", r, Options{})
	for _, s := range []string{"requests <= limits && a > b", "expected '<' & got '>'"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q verbatim", s)
		}
	}
	for _, s := range []string{`\u003c`, `\u003e`, `\u0026`} {
		if strings.Contains(out, s) {
			t.Errorf("output holds HTML escape %s", s)
		}
	}
}

func TestJSONDeterministicAndRoundTrip(t *testing.T) {
	r := sampleReport()
	first := write(t, "json", r, Options{})
	if second := write(t, "json", r, Options{}); first != second {
		t.Errorf("two writes differ:\n%s\n%s", first, second)
	}
	dec := json.NewDecoder(strings.NewReader(first))
	dec.DisallowUnknownFields()
	var back finding.Report
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, *r)
	}
}

func TestTextGolden(t *testing.T) {
	got := write(t, "text", sampleReport(), Options{})
	golden := filepath.Join("testdata", "text.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("text output differs from %s (rerun with -update to accept)\n--- got\n%s--- want\n%s", golden, got, want)
	}
}

// canonical is a finding line: file:line:col: severity: message [rule].
var canonical = regexp.MustCompile(`^([^:\s]+):(\d+):(\d+): (error|warning|notice): (.+) \[([^\]]+)\]$`)

func TestTextCanonicalLines(t *testing.T) {
	r := sampleReport()
	lines := strings.Split(write(t, "text", r, Options{}), "\n")
	var findingLines []string
	for _, l := range lines {
		if strings.HasSuffix(l, "]") {
			findingLines = append(findingLines, l)
		}
	}
	if len(findingLines) != len(r.Findings) {
		t.Fatalf("got %d finding lines, want %d:\n%s", len(findingLines), len(r.Findings), strings.Join(lines, "\n"))
	}
	for i, f := range r.Findings {
		l := findingLines[i]
		if f.Location.Line == 0 {
			want := f.Location.File + ": " + f.Severity.String() + ": " + f.Resource.String() + ": " + f.Message + " [" + f.Rule + "]"
			if l != want {
				t.Errorf("line %q, want %q", l, want)
			}
			continue
		}
		m := canonical.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("line %q is not file:line:col: severity: message [rule]", l)
			continue
		}
		got := []string{m[1], m[2], m[3], m[4], m[5], m[6]}
		want := []string{f.Location.File, strconv.Itoa(f.Location.Line), strconv.Itoa(f.Location.Column), f.Severity.String(), f.Resource.String() + ": " + f.Message, f.Rule}
		if !slices.Equal(got, want) {
			t.Errorf("line %q parts:\n got %q\nwant %q", l, got, want)
		}
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestTextColor(t *testing.T) {
	r := sampleReport()
	plain := write(t, "text", r, Options{Color: false})
	color := write(t, "text", r, Options{Color: true})
	if strings.Contains(plain, "\x1b") {
		t.Errorf("plain output holds escape codes:\n%q", plain)
	}
	for _, s := range []string{
		ansiRed + "error" + ansiReset,
		ansiYellow + "warning" + ansiReset,
		ansiCyan + "notice" + ansiReset,
		ansiBold + "overlays/prod/deployment.yaml:12:11" + ansiReset,
		ansiDim + "[pss.privileged]" + ansiReset,
		ansiRed + "input error" + ansiReset,
	} {
		if !strings.Contains(color, s) {
			t.Errorf("coloured output lacks %q:\n%q", s, color)
		}
	}
	if stripped := ansi.ReplaceAllString(color, ""); stripped != plain {
		t.Errorf("colour changes more than colour:\n--- stripped\n%s--- plain\n%s", stripped, plain)
	}
}

func TestTextSummary(t *testing.T) {
	tests := []struct {
		name    string
		summary finding.Summary
		errors  int
		want    string
	}{
		{name: "nothing", summary: finding.Summary{}, want: "0 resources checked: 0 errors, 0 warnings, 0 notices"},
		{name: "singular", summary: finding.Summary{Resources: 4, Error: 1, Warning: 1, Notice: 1}, want: "4 resources checked: 1 error, 1 warning, 1 notice"},
		{name: "plural", summary: finding.Summary{Resources: 12, Error: 3, Warning: 2, Notice: 10}, want: "12 resources checked: 3 errors, 2 warnings, 10 notices"},
		{name: "one input error", summary: finding.Summary{Resources: 2}, errors: 1, want: "2 resources checked: 0 errors, 0 warnings, 0 notices; 1 input could not be evaluated"},
		{name: "input errors", summary: finding.Summary{Resources: 2, Warning: 1}, errors: 2, want: "2 resources checked: 0 errors, 1 warning, 0 notices; 2 inputs could not be evaluated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &finding.Report{Summary: tt.summary}
			for i := range tt.errors {
				r.Errors = append(r.Errors, finding.InputError{File: "f" + strconv.Itoa(i) + ".yaml", Message: "bad"})
			}
			out := write(t, "text", r, Options{})
			if !strings.HasSuffix(out, "\n") {
				t.Fatalf("output does not end in a newline: %q", out)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if got := lines[len(lines)-1]; got != tt.want {
				t.Errorf("summary %q, want %q", got, tt.want)
			}
			if tt.errors == 0 && len(lines) != 1 {
				t.Errorf("a clean run writes only the summary, got %q", out)
			}
		})
	}
}

func TestGitHub(t *testing.T) {
	res := finding.Resource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "prod", Name: "web"}
	tests := []struct {
		name string
		r    finding.Report
		want string
	}{
		{
			name: "error",
			r: finding.Report{Findings: []finding.Finding{{
				Rule: "pss.privileged", Severity: finding.Error, Message: "container \"web\" is privileged", Resource: res,
				Location: finding.Location{File: "overlays/prod/deployment.yaml", Line: 12, Column: 11},
			}}},
			want: "::error col=11,endLine=12,file=overlays/prod/deployment.yaml,line=12,title=pss.privileged::Deployment prod/web: container \"web\" is privileged\n",
		},
		{
			name: "warning without column",
			r: finding.Report{Findings: []finding.Finding{{
				Rule: "pss.runAsNonRoot", Severity: finding.Warning, Message: "may run as root", Resource: res,
				Location: finding.Location{File: "d.yaml", Line: 3},
			}}},
			want: "::warning endLine=3,file=d.yaml,line=3,title=pss.runAsNonRoot::Deployment prod/web: may run as root\n",
		},
		{
			name: "notice without line",
			r: finding.Report{Findings: []finding.Finding{{
				Rule: "images.unpinned", Severity: finding.Notice, Message: "not pinned", Resource: finding.Resource{Kind: "Namespace", Name: "prod"},
				Location: finding.Location{File: "ns.yaml", Column: 4},
			}}},
			want: "::notice file=ns.yaml,title=images.unpinned::Namespace prod: not pinned\n",
		},
		{
			name: "input errors",
			r: finding.Report{Errors: []finding.InputError{
				{File: "bad.yaml", Line: 7, Message: "yaml: mapping values are not allowed in this context"},
				{File: "missing.yaml", Message: "cannot read"},
				{Message: "kustomize failed"},
			}},
			want: "::error endLine=7,file=bad.yaml,line=7,title=kubegate%3A input error::yaml: mapping values are not allowed in this context\n" +
				"::error file=missing.yaml,title=kubegate%3A input error::cannot read\n" +
				"::error title=kubegate%3A input error::kustomize failed\n",
		},
		{
			name: "input error with a line but no file",
			r:    finding.Report{Errors: []finding.InputError{{Line: 3, Message: "stdin broke"}}},
			want: "::error title=kubegate%3A input error::stdin broke\n",
		},
		{
			name: "property and message escaping",
			r: finding.Report{
				Findings: []finding.Finding{{
					Rule: "x:y,z", Severity: finding.Warning, Message: "50% done:\r\nnext, then", Resource: res,
					Location: finding.Location{File: "dir/a:b,c%\r\nd.yaml", Line: 1, Column: 2},
				}},
				Errors: []finding.InputError{{File: "a:b,c%.yaml", Line: 2, Message: "line one\nline two: 100%, sure\r"}},
			},
			// Errors first; properties in the order go-githubactions writes them.
			want: "::error endLine=2,file=a%3Ab%2Cc%25.yaml,line=2,title=kubegate%3A input error::line one%0Aline two: 100%25, sure%0D\n" +
				"::warning col=2,endLine=1,file=dir/a%3Ab%2Cc%25%0D%0Ad.yaml,line=1,title=x%3Ay%2Cz::Deployment prod/web: 50%25 done:%0D%0Anext, then\n",
		},
		{name: "nothing", r: finding.Report{}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := write(t, "github", &tt.r, Options{})
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestGitHubOneCommandPerLine checks every annotation of the sample stays a
// single workflow command.
func TestGitHubOneCommandPerLine(t *testing.T) {
	r := sampleReport()
	out := write(t, "github", r, Options{})
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(r.Findings)+len(r.Errors) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(r.Findings)+len(r.Errors), out)
	}
	cmd := regexp.MustCompile(`^::(error|warning|notice) [^:]*::.+$`)
	for _, l := range lines {
		if !cmd.MatchString(l) {
			t.Errorf("not a workflow command: %q", l)
		}
	}
}

// unescape undoes workflow-command escapes one after the other; %25 must
// come last so that an escaped "%" never starts another escape.
func unescape(s string, escapes ...string) string {
	for _, e := range escapes {
		s = strings.ReplaceAll(s, e, map[string]string{"%3A": ":", "%2C": ",", "%0D": "\r", "%0A": "\n", "%25": "%"}[e])
	}
	return s
}

// FuzzGitHubAnnotation: whatever the file name and message, an annotation
// is one workflow command whose file and message read back exactly.
func FuzzGitHubAnnotation(f *testing.F) {
	for _, s := range [][2]string{{"overlays/prod/deployment.yaml", "Deployment prod/web: a, b: c"}, {"a:b,c%\r\nd", "50% done\r\nnext"}, {"%3A%2C%25%0D%0A", "%0A%25%3A"}, {"%%::,,\r\r\n\n", "::error::x"}, {"ünïcode:😀,", ""}} {
		f.Add(s[0], s[1])
	}
	cmd := regexp.MustCompile(`^::warning ([^:]*)::(.*)$`)
	f.Fuzz(func(t *testing.T, file, msg string) {
		if file == "" {
			return
		}
		r := &finding.Report{Findings: []finding.Finding{{Rule: "r", Severity: finding.Warning, Message: msg, Resource: finding.Resource{Kind: "Pod", Name: "p"}, Location: finding.Location{File: file, Line: 1}}}}
		out := write(t, "github", r, Options{})
		if strings.Count(out, "\n") != 1 || strings.ContainsRune(strings.TrimSuffix(out, "\n"), '\r') {
			t.Fatalf("not one line: %q", out)
		}
		m := cmd.FindStringSubmatch(strings.TrimSuffix(out, "\n"))
		if m == nil {
			t.Fatalf("not a warning command: %q", out)
		}
		var gotFile string
		for _, kv := range strings.Split(m[1], ",") {
			if k, v, _ := strings.Cut(kv, "="); k == "file" {
				gotFile = unescape(v, "%3A", "%2C", "%0D", "%0A", "%25")
			}
		}
		if gotFile != file {
			t.Fatalf("file %q reads back as %q from %q", file, gotFile, out)
		}
		if back := unescape(m[2], "%0D", "%0A", "%25"); back != "Pod p: "+msg {
			t.Fatalf("message %q reads back as %q", msg, back)
		}
	})
}
