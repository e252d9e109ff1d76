package report

import (
	"bufio"
	"encoding/json"
	"github.com/kubegate/kubegate/finding"
	"io"
)

// writeJSON writes the report as the contract shows it, one finding and one
// error to a line: as readable and diffable as indented JSON, and cheap to
// write for tens of thousands of findings.
func writeJSON(w io.Writer, r *finding.Report, _ Options) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	line := func(prefix string, v any, suffix string) error {
		b, err := marshal(v)
		if err != nil {
			return err
		}
		bw.WriteString(prefix)
		bw.Write(b)
		bw.WriteString(suffix)
		return nil
	}
	if err := line("{\n  \"tool\": ", r.Tool, ",\n"); err != nil {
		return err
	}
	if err := writeArray(bw, "findings", r.Findings, line); err != nil {
		return err
	}
	if err := writeArray(bw, "errors", r.Errors, line); err != nil {
		return err
	}
	if len(r.Suppressed) > 0 {
		if err := writeArray(bw, "suppressed", r.Suppressed, line); err != nil {
			return err
		}
	}
	if len(r.Images) > 0 {
		if err := writeArray(bw, "images", r.Images, line); err != nil {
			return err
		}
	}
	// With a baseline: what it fixed and what it changed, even when nothing.
	if r.Summary.BaselineCounts != nil {
		if err := writeArray(bw, "fixed", r.Fixed, line); err != nil {
			return err
		}
		if err := writeArray(bw, "changes", r.Changes, line); err != nil {
			return err
		}
	}
	if err := line("  \"summary\": ", r.Summary, "\n}\n"); err != nil {
		return err
	}
	return bw.Flush()
}

func writeArray[T any](bw *bufio.Writer, name string, items []T, line func(string, any, string) error) error {
	if len(items) == 0 {
		bw.WriteString("  \"" + name + "\": [],\n")
		return nil
	}
	bw.WriteString("  \"" + name + "\": [\n")
	for i, it := range items {
		sep := ",\n"
		if i == len(items)-1 {
			sep = "\n"
		}
		if err := line("    ", it, sep); err != nil {
			return err
		}
	}
	bw.WriteString("  ],\n")
	return nil
}

// marshal is json.Marshal without HTML escaping (messages hold < and >).
func marshal(v any) ([]byte, error) {
	var buf jsonBuffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.b[:len(buf.b)-1], nil // Encode adds a newline
}

type jsonBuffer struct{ b []byte }

func (j *jsonBuffer) Write(p []byte) (int, error) { j.b = append(j.b, p...); return len(p), nil }
