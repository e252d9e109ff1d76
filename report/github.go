package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// writeGitHub writes GitHub Actions workflow commands: one annotation per
// finding on the file a person edits, and one per input error.
func writeGitHub(w io.Writer, r *Report, _ Options) error {
	bw := bufio.NewWriter(w)
	cmd := map[Severity]string{Error: "error", Warning: "warning", Notice: "notice"}
	for _, f := range r.Findings {
		var props []string
		if f.Location.File != "" {
			props = append(props, "file="+escapeProperty(f.Location.File))
		}
		if f.Location.File != "" && f.Location.Line > 0 {
			props = append(props, fmt.Sprintf("line=%d", f.Location.Line))
			if f.Location.Column > 0 {
				props = append(props, fmt.Sprintf("col=%d", f.Location.Column))
			}
		}
		props = append(props, "title="+escapeProperty(f.Rule))
		fmt.Fprintf(bw, "::%s %s::%s\n", cmd[f.Severity], strings.Join(props, ","), escapeData(f.Resource.String()+": "+f.Message))
	}
	for _, e := range r.Errors {
		props := []string{"title=" + escapeProperty("kubegate: input error")}
		if e.File != "" {
			props = append([]string{"file=" + escapeProperty(e.File)}, props...)
			if e.Line > 0 {
				props = append(props[:1], append([]string{fmt.Sprintf("line=%d", e.Line)}, props[1:]...)...)
			}
		}
		fmt.Fprintf(bw, "::error %s::%s\n", strings.Join(props, ","), escapeData(e.Message))
	}
	return bw.Flush()
}

// escapeData escapes a workflow command's message (after formatting).
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command's property value.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
