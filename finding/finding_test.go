package finding

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// finding is a complete finding; tests change what they are about.
func finding(file string, line, col int, rule string, sev Severity) Finding {
	return Finding{
		Rule:     rule,
		Severity: sev,
		Message:  "message of " + rule,
		Resource: Resource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "prod", Name: "web"},
		Field:    "spec.replicas",
		Location: Location{File: file, Line: line, Column: col},
	}
}

func TestNormalize(t *testing.T) {
	a1 := finding("a.yaml", 1, 1, "pss.privileged", Error)
	a3x := finding("a.yaml", 3, 9, "hpa.x", Warning)
	a3y := finding("a.yaml", 3, 1, "pss.y", Notice) // same line, later rule, earlier column
	a10 := finding("a.yaml", 10, 1, "hpa.x", Error) // 10 after 3: numeric, not textual
	b2 := finding("b.yaml", 2, 5, "hpa.x", Warning)
	sub := finding("a/b.yaml", 1, 1, "hpa.x", Warning) // after every a.yaml: '.' < '/'
	otherName := a1
	otherName.Resource.Name = "api"
	otherSeverity := a1
	otherSeverity.Severity = Warning
	otherMessage := a1
	otherMessage.Message = "another message"

	tests := []struct {
		name string
		in   Report
		want Report
	}{
		{
			name: "nil slices become empty",
			in:   Report{Tool: Tool{Name: "kubegate", Version: "1"}, Summary: Summary{Resources: 3, Images: 1, Error: 5}},
			want: Report{
				Tool: Tool{Name: "kubegate", Version: "1"}, Findings: []Finding{}, Errors: []InputError{},
				Summary: Summary{Resources: 3, Images: 1},
			},
		},
		{
			name: "sorted by file, line, rule, then column",
			in:   Report{Findings: []Finding{b2, a10, a3y, sub, a3x, a1}},
			want: Report{
				Findings: []Finding{a1, a3x, a3y, a10, sub, b2},
				Errors:   []InputError{},
				Summary:  Summary{Error: 2, Warning: 3, Notice: 1},
			},
		},
		{
			name: "same place and rule: column decides",
			in: Report{Findings: []Finding{
				finding("a.yaml", 4, 20, "pss.privileged", Error),
				finding("a.yaml", 4, 7, "pss.privileged", Error),
			}},
			want: Report{
				Findings: []Finding{
					finding("a.yaml", 4, 7, "pss.privileged", Error),
					finding("a.yaml", 4, 20, "pss.privileged", Error),
				},
				Errors:  []InputError{},
				Summary: Summary{Error: 2},
			},
		},
		{
			name: "exact duplicates removed, near duplicates kept",
			in:   Report{Findings: []Finding{a1, otherMessage, a1, otherName, otherSeverity, a1}},
			want: Report{
				// name, then message, then severity (warning before error)
				Findings: []Finding{otherName, otherMessage, otherSeverity, a1},
				Errors:   []InputError{},
				Summary:  Summary{Error: 3, Warning: 1},
			},
		},
		{
			name: "summary recounted, resources and images kept",
			in: Report{
				Findings: []Finding{a1, a3x, a3y},
				Summary:  Summary{Resources: 42, Images: 5, Error: 10, Warning: 20, Notice: 30},
			},
			want: Report{
				Findings: []Finding{a1, a3x, a3y},
				Errors:   []InputError{},
				Summary:  Summary{Resources: 42, Images: 5, Error: 1, Warning: 1, Notice: 1},
			},
		},
		{
			name: "errors sorted by file, line, message; duplicates removed",
			in: Report{Errors: []InputError{
				{File: "b.yaml", Line: 1, Message: "x"},
				{File: "a.yaml", Line: 12, Message: "x"},
				{File: "a.yaml", Line: 2, Message: "z"},
				{File: "a.yaml", Line: 2, Message: "y"},
				{File: "b.yaml", Line: 1, Message: "x"},
				{Message: "no file"},
			}},
			want: Report{
				Findings: []Finding{},
				Errors: []InputError{
					{Message: "no file"},
					{File: "a.yaml", Line: 2, Message: "y"},
					{File: "a.yaml", Line: 2, Message: "z"},
					{File: "a.yaml", Line: 12, Message: "x"},
					{File: "b.yaml", Line: 1, Message: "x"},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in
			got.Normalize()
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Normalize:\n got %+v\nwant %+v", got, tt.want)
			}
			again := got
			again.Findings = append([]Finding(nil), got.Findings...)
			again.Errors = append([]InputError(nil), got.Errors...)
			again.Normalize()
			if !reflect.DeepEqual(again, got) {
				t.Errorf("Normalize is not idempotent:\n once  %+v\n twice %+v", got, again)
			}
		})
	}
}

func TestNormalizeEmptyJSON(t *testing.T) {
	r := Report{}
	r.Normalize()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"findings":[]`, `"errors":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
}

func TestParseSeverity(t *testing.T) {
	tests := []struct {
		in         string
		allowNever bool
		want       Severity
		wantErr    string // "" for success
	}{
		{in: "error", want: Error},
		{in: "warning", want: Warning},
		{in: "notice", want: Notice},
		{in: "error", allowNever: true, want: Error},
		{in: "notice", allowNever: true, want: Notice},
		{in: "never", allowNever: true, want: SeverityNone},
		{in: "never", wantErr: `unknown severity "never" (want error, warning or notice)`},
		{in: "Error", wantErr: `unknown severity "Error" (want error, warning or notice)`},
		{in: "info", allowNever: true, wantErr: `unknown severity "info" (want error, warning, notice or never)`},
		{in: "", wantErr: `unknown severity ""`},
		{in: " error", wantErr: `unknown severity " error"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSeverity(tt.in, tt.allowNever)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSeverity(%q, %v) = %v, %v; want error %s", tt.in, tt.allowNever, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSeverity(%q, %v) = %v, %v; want %v", tt.in, tt.allowNever, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestSeverityOrderAndText(t *testing.T) {
	if !(SeverityNone < Notice && Notice < Warning && Warning < Error) {
		t.Fatal("severities are out of order: --fail-on compares them")
	}
	tests := []struct {
		sev  Severity
		text string
	}{
		{sev: Error, text: "error"},
		{sev: Warning, text: "warning"},
		{sev: Notice, text: "notice"},
		{sev: SeverityNone, text: "never"},
		{sev: Severity(9), text: "severity(9)"},
		{sev: Severity(-1), text: "severity(-1)"},
	}
	for _, tt := range tests {
		b, err := tt.sev.MarshalText()
		if err != nil || string(b) != tt.text {
			t.Errorf("Severity(%d).MarshalText() = %q, %v; want %q", int(tt.sev), b, err, tt.text)
		}
	}
	var s Severity
	if err := s.UnmarshalText([]byte("warning")); err != nil || s != Warning {
		t.Errorf("UnmarshalText(warning) = %v, %v", s, err)
	}
	if err := s.UnmarshalText([]byte("never")); err == nil {
		t.Error("UnmarshalText(never) succeeded: a finding's severity is never never")
	}
}

func TestWorst(t *testing.T) {
	tests := []struct {
		name     string
		findings []Finding
		want     Severity
	}{
		{name: "none", want: SeverityNone},
		{name: "notice", findings: []Finding{{Severity: Notice}}, want: Notice},
		{name: "mixed", findings: []Finding{{Severity: Notice}, {Severity: Error}, {Severity: Warning}}, want: Error},
	}
	for _, tt := range tests {
		r := Report{Findings: tt.findings}
		if got := r.Worst(); got != tt.want {
			t.Errorf("%s: Worst() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "location", got: Location{File: "a.yaml", Line: 3, Column: 7}.String(), want: "a.yaml:3:7"},
		{name: "location without line", got: Location{File: "a.yaml", Column: 7}.String(), want: "a.yaml"},
		{name: "location without file", got: Location{Line: 3}.String(), want: "<unknown>"},
		{name: "namespaced resource", got: Resource{Kind: "Pod", Namespace: "ns", Name: "p"}.String(), want: "Pod ns/p"},
		{name: "cluster resource", got: Resource{Kind: "Namespace", Name: "ns"}.String(), want: "Namespace ns"},
		{name: "input error", got: InputError{File: "a.yaml", Line: 3, Message: "bad"}.Error(), want: "a.yaml:3: bad"},
		{name: "input error without line", got: InputError{File: "a.yaml", Message: "bad"}.Error(), want: "a.yaml: bad"},
		{name: "input error without file", got: InputError{Line: 3, Message: "bad"}.Error(), want: "bad"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
