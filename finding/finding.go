// Package finding holds what kubegate's pipeline hands along: findings,
// their locations and resources, input errors and the report that gathers
// them. It imports nothing of kubegate: loading, evaluation and the report
// writers (package report) all depend on it. The JSON shape is the stable
// contract (shared/CONTRACT.md): field names here must not change.
package finding

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Severity of a finding. Its order (Notice < Warning < Error) is what
// --fail-on compares against.
type Severity int

const (
	// SeverityNone is below every finding: --fail-on never.
	SeverityNone Severity = iota
	Notice
	Warning
	Error
)

var severityNames = [...]string{SeverityNone: "never", Notice: "notice", Warning: "warning", Error: "error"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads "error", "warning" or "notice" ("never" too when
// allowNever is set, for --fail-on).
func ParseSeverity(s string, allowNever bool) (Severity, error) {
	for i, n := range severityNames {
		if n == s && (i != int(SeverityNone) || allowNever) {
			return Severity(i), nil
		}
	}
	want := "error, warning or notice"
	if allowNever {
		want = "error, warning, notice or never"
	}
	return SeverityNone, fmt.Errorf("unknown severity %q (want %s)", s, want)
}

// MarshalText writes the severity's name, as the JSON report does.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b), false)
	*s = v
	return err
}

// Resource identifies a Kubernetes object in a finding.
type Resource struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	// Variant names the values a chart was rendered with, when it is not
	// the chart's main rendering: ci/prod-values.yaml, say.
	Variant string `json:"variant,omitempty"`
}

func (r Resource) String() string {
	s := r.Kind + " " + r.Name
	if r.Namespace != "" {
		s = r.Kind + " " + r.Namespace + "/" + r.Name
	}
	if r.Variant != "" {
		s += " (with " + r.Variant + ")"
	}
	return s
}

// Location is where a person edits the offending value. File is relative to
// the working directory with "/" separators; Line and Column are 1-based and
// Line 0 means unknown.
type Location struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

func (l Location) String() string {
	switch {
	case l.File == "":
		return "<unknown>"
	case l.Line == 0:
		return l.File
	case l.Column == 0:
		return fmt.Sprintf("%s:%d", l.File, l.Line)
	default:
		return fmt.Sprintf("%s:%d:%d", l.File, l.Line, l.Column)
	}
}

// Finding is one rule violation on one resource.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Resource Resource `json:"resource"`
	// Field is the dotted path of the offending field in the rendered
	// resource, e.g. spec.template.spec.containers[0].securityContext.privileged.
	Field    string   `json:"field"`
	Location Location `json:"location"`
	// Related are the other places the same violation is written (a Pod
	// Security check violated by several containers is one finding).
	Related []Location `json:"related,omitempty"`
	// Baseline is BaselineNew or BaselineExisting in a run with a baseline
	// (--baseline REF): whether REF had the same finding.
	Baseline string `json:"baseline,omitempty"`
	// Tags are identifiers the finding is about besides its rule: the
	// vulnerability ids of images.vulnerability (CVE-2024-3094).
	Tags []string `json:"tags,omitempty"`
}

// The values of Finding.Baseline.
const (
	BaselineNew      = "new"
	BaselineExisting = "existing"
)

// AlsoAt is how messages name a finding's related places:
// " (also at a.yaml:3:5, b.yaml:7:1)", or "" without any.
func (f Finding) AlsoAt() string {
	if len(f.Related) == 0 {
		return ""
	}
	also := make([]string, len(f.Related))
	for i, l := range f.Related {
		also[i] = l.String()
	}
	return " (also at " + strings.Join(also, ", ") + ")"
}

// InputError is input or configuration that could not be evaluated.
type InputError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Message string `json:"message"`
}

func (e InputError) Error() string {
	switch {
	case e.File == "":
		return e.Message
	case e.Line == 0:
		return e.File + ": " + e.Message
	default:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	}
}

// Tool names the program that wrote a report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Summary counts what a run saw and found.
type Summary struct {
	Resources int `json:"resources"`
	Images    int `json:"images"`
	Error     int `json:"error"`
	Warning   int `json:"warning"`
	Notice    int `json:"notice"`
	// Suppressed counts the findings exceptions waived.
	Suppressed int `json:"suppressed,omitempty"`
	// Skipped counts the files of scanned directories that hold no
	// Kubernetes object (Ansible playbooks, CI configuration, values).
	Skipped int `json:"skipped,omitempty"`
	// BaselineCounts are there in a run with a baseline only.
	*BaselineCounts
}

// BaselineCounts count a run's findings against its baseline: new ones,
// existing ones, and the baseline's that are gone.
type BaselineCounts struct {
	New      int `json:"new"`
	Existing int `json:"existing"`
	Fixed    int `json:"fixed"`
}

// Change is a rendered resource a change adds, removes or modifies,
// against the baseline.
type Change struct {
	Resource Resource `json:"resource"`
	// Change is "added", "removed" or "modified".
	Change string `json:"change"`
	// Fields are the paths of the fields that differ (modified only), in
	// the syntax of Finding.Field: added, removed or changed.
	Fields []string `json:"fields,omitempty"`
	// Unit is what rendered the resource: a kustomization or chart
	// directory, or a file (the head's; the baseline's when removed).
	Unit string `json:"unit,omitempty"`
	// Values are each field's value before and after, for people (the
	// job summary, --show-changes): never in the JSON report, and never a
	// Secret's data.
	Values []ChangedValue `json:"-"`
}

// ChangedValue is one field of a Change with its values, as YAML-ish
// text; Before or After is empty when the field was added or removed.
type ChangedValue struct {
	Field, Before, After string
	// Hidden: the values are a Secret's and must not be shown.
	Hidden bool
}

// Report is the whole result of a run.
type Report struct {
	Tool     Tool         `json:"tool"`
	Findings []Finding    `json:"findings"`
	Errors   []InputError `json:"errors"`
	Summary  Summary      `json:"summary"`
	// Suppressed are the findings that exceptions waived, each with its
	// reason and where the exception is written: waivers stay visible.
	Suppressed []Suppressed `json:"suppressed,omitempty"`
	// Images are the images the resources name, with what the image
	// checks learnt about each.
	Images []Image `json:"images,omitempty"`
	// Fixed are the baseline's findings that are gone, and Changes the
	// rendered resources that differ from the baseline's: there (maybe
	// empty) in a run with a baseline only.
	Fixed   []Finding `json:"fixed,omitzero"`
	Changes []Change  `json:"changes,omitzero"`
	// Rules describe the rules that findings name, for the formats that
	// carry rule documentation (SARIF, the job summary). Not part of the
	// JSON report.
	Rules map[string]RuleInfo `json:"-"`
}

// Image is one image reference the resources name.
type Image struct {
	Ref string `json:"ref"`
	// Digest is the digest the reference resolved to.
	Digest string `json:"digest,omitempty"`
	// Signed is set when signatures were required: whether one verified.
	Signed  *bool    `json:"signed,omitempty"`
	Signers []string `json:"signers,omitempty"`
	// Packages counts the SBOM's packages (nil: no SBOM); SBOM is the file
	// it was written to (--sbom-dir).
	Packages *int   `json:"packages,omitempty"`
	SBOM     string `json:"sbom,omitempty"`
	// NotChecked says why the image was not checked (--offline, or the
	// error reported in errors).
	NotChecked string `json:"not_checked,omitempty"`
	// Vulnerabilities summarises the known vulnerabilities found in the
	// image's packages (nil: not matched against a database).
	Vulnerabilities *VulnerabilitySummary `json:"vulnerabilities,omitempty"`
}

// VulnerabilitySummary counts an image's known vulnerabilities by severity
// (critical, high, medium, low, negligible, unknown; each vulnerability
// once, whichever packages hold it), with those VEX statements set aside
// and when the database was built (RFC 3339).
type VulnerabilitySummary struct {
	Counts     map[string]int `json:"counts"`
	Suppressed int            `json:"vex_suppressed"`
	Database   string         `json:"database_built"`
}

// Suppressed is a finding an exception waived.
type Suppressed struct {
	Finding
	Reason string `json:"reason"`
	// By is where the exception is written: a line of the configuration
	// file or the resource's kubegate.dev/ignore annotation.
	By      Location `json:"by"`
	Expires string   `json:"expires,omitempty"`
}

// RuleInfo is what a report says about a rule.
type RuleInfo struct {
	ID        string
	Title     string
	Severity  Severity // the default; Pod Security checks follow the modes
	Rationale string
	Fix       string
	Docs      string // the upstream page (Kubernetes, Helm...)
	// Reference is kubegate's own page for a built-in rule: its entry in
	// docs/rules.md ("" for the user's rules).
	Reference string
}

// Fingerprint identifies a finding across runs: its rule, resource, field,
// file and message, but not its line, so that an unrelated edit above it
// does not make it a new finding. Unique within a normalized report.
func (f Finding) Fingerprint() string {
	h := sha256.New()
	for _, s := range []string{f.Rule, f.Resource.APIVersion, f.Resource.Kind, f.Resource.Namespace, f.Resource.Name, f.Field, f.Location.File, f.Message} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if f.Resource.Variant != "" {
		// Only then: fingerprints made before variants existed stay.
		h.Write([]byte(f.Resource.Variant))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Fingerprint identifies an input error across runs.
func (e InputError) Fingerprint() string {
	h := sha256.New()
	for _, s := range []string{"input-error", e.File, e.Message} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Normalize sorts findings and errors into their canonical order (file,
// line, rule, column, then the rest) and recounts the summary's severities,
// so that two runs over the same input give identical bytes.
func (r *Report) Normalize() {
	slices.SortFunc(r.Findings, compareFindings)
	r.Findings = slices.CompactFunc(r.Findings, func(a, b Finding) bool { return compareFindings(a, b) == 0 })
	slices.SortFunc(r.Errors, func(a, b InputError) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), strings.Compare(a.Message, b.Message))
	})
	r.Errors = slices.Compact(r.Errors)
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if r.Errors == nil {
		r.Errors = []InputError{}
	}
	slices.SortFunc(r.Suppressed, func(a, b Suppressed) int { return compareFindings(a.Finding, b.Finding) })
	// Shards of one run may name the same image: keep the entry that
	// checked it.
	slices.SortStableFunc(r.Images, func(a, b Image) int {
		return cmp.Or(strings.Compare(a.Ref, b.Ref), cmp.Compare(b.Digest, a.Digest))
	})
	r.Images = slices.CompactFunc(r.Images, func(a, b Image) bool { return a.Ref == b.Ref })
	if len(r.Images) > 0 {
		r.Summary.Images = len(r.Images)
	}
	r.Summary.Suppressed = len(r.Suppressed)
	if c := r.Summary.BaselineCounts; c != nil {
		slices.SortFunc(r.Fixed, compareFindings)
		r.Fixed = slices.CompactFunc(r.Fixed, func(a, b Finding) bool { return compareFindings(a, b) == 0 })
		if r.Fixed == nil {
			r.Fixed = []Finding{}
		}
		if r.Changes == nil {
			r.Changes = []Change{}
		}
		slices.SortFunc(r.Changes, func(a, b Change) int {
			return cmp.Or(strings.Compare(a.Unit, b.Unit), strings.Compare(a.Resource.Kind, b.Resource.Kind),
				strings.Compare(a.Resource.Namespace, b.Resource.Namespace), strings.Compare(a.Resource.Name, b.Resource.Name),
				strings.Compare(a.Resource.Variant, b.Resource.Variant), strings.Compare(a.Change, b.Change))
		})
		c.New, c.Existing, c.Fixed = 0, 0, len(r.Fixed)
		for _, f := range r.Findings {
			if f.Baseline == BaselineExisting {
				c.Existing++
			} else {
				c.New++
			}
		}
	}
	r.Summary.Error, r.Summary.Warning, r.Summary.Notice = 0, 0, 0
	for _, f := range r.Findings {
		switch f.Severity {
		case Error:
			r.Summary.Error++
		case Warning:
			r.Summary.Warning++
		case Notice:
			r.Summary.Notice++
		}
	}
}

// compareFindings orders findings; it stops at the first difference (the
// sort of a large report calls it millions of times).
// Before says whether a comes before b in a report's order (by file,
// line, rule, column, resource, message).
func Before(a, b Finding) bool { return compareFindings(a, b) < 0 }

func compareFindings(a, b Finding) int {
	if c := strings.Compare(a.Location.File, b.Location.File); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Location.Line, b.Location.Line); c != 0 {
		return c
	}
	if c := strings.Compare(a.Rule, b.Rule); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Location.Column, b.Location.Column); c != 0 {
		return c
	}
	for _, c := range [...][2]string{
		{a.Resource.Kind, b.Resource.Kind},
		{a.Resource.APIVersion, b.Resource.APIVersion},
		{a.Resource.Namespace, b.Resource.Namespace},
		{a.Resource.Name, b.Resource.Name},
		{a.Resource.Variant, b.Resource.Variant},
		{a.Field, b.Field},
		{a.Message, b.Message},
	} {
		if c := strings.Compare(c[0], c[1]); c != 0 {
			return c
		}
	}
	return cmp.Compare(a.Severity, b.Severity)
}

// Worst is the highest severity among the findings (SeverityNone if none).
func (r *Report) Worst() Severity {
	w := SeverityNone
	for _, f := range r.Findings {
		w = max(w, f.Severity)
	}
	return w
}
