package evaluate

import (
	"strings"
	"testing"

	"github.com/kubegate/kubegate/report"
)

func TestParseLevelVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    LevelVersion
		str     string // String() of the result
		wantErr string // "" for success
	}{
		{in: "baseline", want: LevelVersion{Level: Baseline, Minor: -1}, str: "baseline:latest"},
		{in: "baseline:", want: LevelVersion{Level: Baseline, Minor: -1}, str: "baseline:latest"},
		{in: "restricted:latest", want: LevelVersion{Level: Restricted, Minor: -1}, str: "restricted:latest"},
		{in: "privileged:v1.0", want: LevelVersion{Level: Privileged, Minor: 0}, str: "privileged:v1.0"},
		{in: "baseline:v1.37", want: LevelVersion{Level: Baseline, Minor: 37}, str: "baseline:v1.37"},
		{in: "restricted:v1.25", want: LevelVersion{Level: Restricted, Minor: 25}, str: "restricted:v1.25"},
		{in: "baseline:v1.38", wantErr: `unknown Pod Security version "v1.38"`},
		{in: "restricted:1.25", wantErr: `unknown Pod Security version "1.25"`},
		{in: "restricted:v1.025", wantErr: `unknown Pod Security version "v1.025"`},
		{in: "restricted:v1.-1", wantErr: `unknown Pod Security version "v1.-1"`},
		{in: "restricted:v1.+5", wantErr: `unknown Pod Security version "v1.+5"`},
		{in: "restricted:v2.0", wantErr: `unknown Pod Security version "v2.0"`},
		{in: "restricted:v1.", wantErr: `unknown Pod Security version "v1."`},
		{in: "restricted:Latest", wantErr: `unknown Pod Security version "Latest"`},
		{in: "strict", wantErr: `unknown Pod Security level "strict"`},
		{in: "Baseline", wantErr: `unknown Pod Security level "Baseline"`},
		{in: "", wantErr: `unknown Pod Security level ""`},
		{in: ":latest", wantErr: `unknown Pod Security level ""`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLevelVersion(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseLevelVersion(%q) = %v, %v; want error containing %s", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseLevelVersion(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseLevelVersion(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if s := got.String(); s != tt.str {
				t.Errorf("String() = %q, want %q", s, tt.str)
			}
			// What String writes parses back to the same value.
			if again, err := ParseLevelVersion(got.String()); err != nil || again != got {
				t.Errorf("ParseLevelVersion(%q) = %+v, %v; want %+v", got.String(), again, err, got)
			}
		})
	}
}

func TestPSSModesSeverity(t *testing.T) {
	lv := func(l Level) LevelVersion { return LevelVersion{Level: l, Minor: -1} }
	tests := []struct {
		name                 string
		modes                PSSModes
		baseline, restricted report.Severity
	}{
		{name: "defaults", modes: DefaultPSSModes, baseline: report.Error, restricted: report.Warning},
		{name: "zero value", modes: PSSModes{}, baseline: report.SeverityNone, restricted: report.SeverityNone},
		{
			name:     "enforce restricted",
			modes:    PSSModes{Enforce: lv(Restricted), Warn: lv(Privileged), Audit: lv(Privileged)},
			baseline: report.Error, restricted: report.Error,
		},
		{
			name:     "warn baseline, audit restricted",
			modes:    PSSModes{Enforce: lv(Privileged), Warn: lv(Baseline), Audit: lv(Restricted)},
			baseline: report.Warning, restricted: report.Notice,
		},
		{
			// A lower warn level than enforce changes nothing: the highest
			// severity whose level includes the check wins.
			name:     "enforce restricted, warn baseline",
			modes:    PSSModes{Enforce: lv(Restricted), Warn: lv(Baseline), Audit: lv(Privileged)},
			baseline: report.Error, restricted: report.Error,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.modes.severity(Baseline); got != tt.baseline {
				t.Errorf("baseline check: %v, want %v", got, tt.baseline)
			}
			if got := tt.modes.severity(Restricted); got != tt.restricted {
				t.Errorf("restricted check: %v, want %v", got, tt.restricted)
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	for _, l := range []Level{Privileged, Baseline, Restricted} {
		got, err := ParseLevel(l.String())
		if err != nil || got != l {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", l.String(), got, err, l)
		}
	}
	if _, err := ParseLevel("restricted "); err == nil {
		t.Error(`ParseLevel("restricted ") succeeded`)
	}
}
