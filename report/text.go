package report

import (
	"bufio"
	"fmt"
	"github.com/kubegate/kubegate/finding"
	"io"
)

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

// writeText writes one line per finding in the canonical form
// `file:line:col: severity: message [rule]`, grouped by file, then the
// input errors and a summary line.
func writeText(w io.Writer, r *finding.Report, opts Options) error {
	bw := bufio.NewWriter(w)
	paint := func(code, s string) string {
		if !opts.Color {
			return s
		}
		return code + s + ansiReset
	}
	colour := map[finding.Severity]string{finding.Error: ansiRed, finding.Warning: ansiYellow, finding.Notice: ansiCyan}
	prev := ""
	for i, f := range r.Findings {
		if i > 0 && f.Location.File != prev {
			fmt.Fprintln(bw)
		}
		prev = f.Location.File
		msg := f.Message + f.AlsoAt()
		if f.Baseline == finding.BaselineExisting {
			msg += paint(ansiDim, " (existing)")
		}
		fmt.Fprintf(bw, "%s: %s: %s: %s %s\n",
			paint(ansiBold, f.Location.String()),
			paint(colour[f.Severity], f.Severity.String()),
			f.Resource, msg,
			paint(ansiDim, "["+f.Rule+"]"))
	}
	if len(r.Errors) > 0 && len(r.Findings) > 0 {
		fmt.Fprintln(bw)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(bw, "%s: %s: %s\n", paint(ansiBold, where(e)), paint(ansiRed, "input error"), e.Message)
	}
	if len(r.Findings) > 0 || len(r.Errors) > 0 {
		fmt.Fprintln(bw)
	}
	for _, f := range r.Fixed {
		fmt.Fprintf(bw, "%s: %s: %s: %s %s\n", paint(ansiBold, f.Location.String()), "fixed", f.Resource, f.Message, paint(ansiDim, "["+f.Rule+"]"))
	}
	if len(r.Fixed) > 0 {
		fmt.Fprintln(bw)
	}
	if opts.ShowChanges {
		writeTextChanges(bw, r.Changes)
	}
	s := r.Summary
	fmt.Fprintf(bw, "%s checked: %s, %s, %s",
		plural(s.Resources, "resource"), plural(s.Error, "error"), plural(s.Warning, "warning"), plural(s.Notice, "notice"))
	if len(r.Errors) > 0 {
		fmt.Fprintf(bw, "; %s could not be evaluated", plural(len(r.Errors), "input"))
	}
	if s.Skipped > 0 {
		fmt.Fprintf(bw, "; %s skipped (no Kubernetes objects)", plural(s.Skipped, "file"))
	}
	if b := s.BaselineCounts; b != nil {
		fmt.Fprintf(bw, "; against the baseline: %d new, %d existing, %d fixed, %s changed", b.New, b.Existing, b.Fixed, plural(len(r.Changes), "resource"))
	}
	fmt.Fprintln(bw)
	return bw.Flush()
}

// writeTextChanges prints the rendered changes in short: one line per
// resource, then one per field with its values (a Secret's hidden).
func writeTextChanges(bw *bufio.Writer, cs []finding.Change) {
	for _, c := range cs {
		fmt.Fprintf(bw, "%s: %s %s\n", c.Unit, c.Change, c.Resource)
		if len(c.Values) == 0 {
			for _, f := range c.Fields {
				fmt.Fprintf(bw, "  %s\n", f)
			}
			continue
		}
		for _, v := range c.Values {
			switch {
			case v.Hidden:
				fmt.Fprintf(bw, "  %s: changed (a Secret's value, not shown)\n", v.Field)
			case v.Before == "":
				fmt.Fprintf(bw, "  %s: added: %s\n", v.Field, v.After)
			case v.After == "":
				fmt.Fprintf(bw, "  %s: removed (was %s)\n", v.Field, v.Before)
			default:
				fmt.Fprintf(bw, "  %s: %s -> %s\n", v.Field, v.Before, v.After)
			}
		}
	}
	if len(cs) > 0 {
		fmt.Fprintln(bw)
	}
}

// where names an input error's place in text: kubegate itself when it has
// no file.
func where(e finding.InputError) string {
	switch {
	case e.File == "":
		return "kubegate"
	case e.Line == 0:
		return e.File
	default:
		return fmt.Sprintf("%s:%d", e.File, e.Line)
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
