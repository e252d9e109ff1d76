package report

import (
	"encoding/json"
	"io"
)

// writeJSON writes the report exactly as the contract shows it.
func writeJSON(w io.Writer, r *Report, _ Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
