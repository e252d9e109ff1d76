package report

import (
	"fmt"
	"github.com/kubegate/kubegate/finding"
	"io"
	"slices"
	"strings"
)

// Options tune how a report is written.
type Options struct {
	// Color enables ANSI colour (text only; set when writing to a terminal).
	Color bool
	// ShowChanges prints the rendered changes against the baseline, field
	// by field (text only; --show-changes).
	ShowChanges bool
	// AnnotatedOn is the check run that carries every finding as an
	// annotation (github only): the workflow-command annotations are then
	// left out, and the log lists the findings.
	AnnotatedOn string
}

// WriteFunc writes a whole report in one format.
type WriteFunc func(w io.Writer, r *finding.Report, opts Options) error

// formats lists every output format; one file each.
var formats = map[string]WriteFunc{
	"text":   writeText,
	"json":   writeJSON,
	"github": writeGitHub,
	"sarif":  writeSARIF,
	"junit":  writeJUnit,
	"gitlab": writeGitLab,
}

// plannedFormats are contract formats that a later release implements.
var plannedFormats = []string{}

// Lookup returns the writer of a format, or an error naming the formats
// there are. Nothing falls back silently.
func Lookup(name string) (WriteFunc, error) {
	if f, ok := formats[name]; ok {
		return f, nil
	}
	if slices.Contains(plannedFormats, name) {
		return nil, fmt.Errorf("output format %q is not yet supported", name)
	}
	return nil, fmt.Errorf("unknown output format %q (want one of %s)", name, strings.Join(Formats(), ", "))
}

// Formats lists the supported format names, sorted.
func Formats() []string {
	var out []string
	for n := range formats {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
