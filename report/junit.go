package report

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"github.com/kubegate/kubegate/finding"
	"io"
	"slices"
	"strings"
)

// JUnit XML as CI systems read it (GitLab's junit artifact, Jenkins, the
// test-report actions). There is no widely used Go library for writing it,
// and the format is four elements, so encoding/xml structs are enough.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes one test suite per resource with findings and one test
// case per rule per resource: a failure listing every place the rule fails
// on that resource. Input errors are a suite of their own, as errors.
// Findings below the fail-on threshold are failures too; CI systems show
// them, and the exit code is what gates.
func writeJUnit(w io.Writer, r *finding.Report, _ Options) error {
	doc := junitSuites{Name: "kubegate"}
	type key struct {
		res  finding.Resource
		rule string
	}
	suiteOf := map[finding.Resource]int{}
	caseOf := map[key]int{}
	var found [][][]finding.Finding // per suite, per case
	for _, f := range r.Findings {
		si, ok := suiteOf[f.Resource]
		if !ok {
			si = len(doc.Suites)
			suiteOf[f.Resource] = si
			doc.Suites = append(doc.Suites, junitSuite{Name: f.Resource.String()})
			found = append(found, nil)
		}
		k := key{f.Resource, f.Rule}
		ci, ok := caseOf[k]
		if !ok {
			ci = len(found[si])
			caseOf[k] = ci
			found[si] = append(found[si], nil)
		}
		found[si][ci] = append(found[si][ci], f)
	}
	for si, cases := range found {
		s := &doc.Suites[si]
		for _, fs := range cases {
			first, worst := fs[0], fs[0].Severity
			var text strings.Builder
			for _, f := range fs {
				worst = max(worst, f.Severity)
				state := ""
				if f.Baseline != "" {
					state = " (" + f.Baseline + ")" // with --baseline
				}
				fmt.Fprintf(&text, "%s: %s%s: %s\n", f.Location, f.Severity, state, f.Message)
			}
			msg := first.Message
			if len(fs) > 1 {
				msg = fmt.Sprintf("%d problems; the first: %s", len(fs), first.Message)
			}
			s.Cases = append(s.Cases, junitCase{
				Name: first.Rule, Classname: s.Name, File: first.Location.File, Line: first.Location.Line,
				Failure: &junitProblem{Message: msg, Type: worst.String(), Text: text.String()},
			})
		}
		s.Tests, s.Failures = len(s.Cases), len(s.Cases)
	}
	slices.SortFunc(doc.Suites, func(a, b junitSuite) int { return strings.Compare(a.Name, b.Name) })
	if len(r.Errors) > 0 {
		s := junitSuite{Name: "input"}
		for _, e := range r.Errors {
			s.Cases = append(s.Cases, junitCase{
				Name: "input " + cmp.Or(e.File, "(no file)"), Classname: "input", File: e.File, Line: e.Line,
				Error: &junitProblem{Message: e.Message, Type: "input-error", Text: e.Error() + "\n"},
			})
		}
		s.Tests, s.Errors = len(s.Cases), len(s.Cases)
		doc.Suites = append(doc.Suites, s)
	}
	for _, s := range doc.Suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
