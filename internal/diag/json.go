package diag

import (
	"encoding/json"
	"io"
)

// FormatVersion is the version of the JSON document WriteJSON writes:
// Terraform's validate format 1.0, whose consumers ignore fields they do
// not know and read a minor version as compatible.
const FormatVersion = "1.0"

// A Report is the JSON document of `lvsctl validate --json`, in the shape
// of `terraform validate -json`.
type Report struct {
	FormatVersion string      `json:"format_version"`
	Valid         bool        `json:"valid"`
	ErrorCount    int         `json:"error_count"`
	WarningCount  int         `json:"warning_count"`
	Diagnostics   Diagnostics `json:"diagnostics"`
}

// NewReport returns the report of ds, limited as [Limit] limits them; the
// counts are of the diagnostics it holds, as Terraform's are.
func NewReport(ds Diagnostics) Report {
	ds = Limit(ds)
	errs, warns := ds.Count()
	if ds == nil {
		ds = Diagnostics{} // [], not null
	}
	for i, d := range ds {
		if d.Snippet != nil && d.Snippet.Values == nil {
			c, s := *d, *d.Snippet
			s.Values = []string{}
			c.Snippet = &s
			ds[i] = &c
		}
	}
	return Report{FormatVersion: FormatVersion, Valid: errs == 0, ErrorCount: errs, WarningCount: warns, Diagnostics: ds}
}

// WriteJSON writes the report of ds to w, indented, with a final newline.
func WriteJSON(w io.Writer, ds Diagnostics) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(NewReport(ds))
}
