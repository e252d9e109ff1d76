package evaluate

import (
	"strings"
	"testing"

	"github.com/kubegate/kubegate/finding"
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

func TestPSSSeverity(t *testing.T) {
	lv := func(l Level, minor int) LevelVersion { return LevelVersion{Level: l, Minor: minor} }
	baseline := Rule{ID: "pss.b", Level: Baseline}
	restricted := Rule{ID: "pss.r", Level: Restricted}
	late := Rule{ID: "pss.late", Level: Baseline, MinVersion: 22}
	replaced := Rule{ID: "pss.replaced", Level: Baseline}
	replacer := Rule{ID: "pss.replacer", Level: Restricted, MinVersion: 19, Overrides: []string{"pss.replaced"}}
	p, err := newPSSRules([]Rule{baseline, restricted, late, replaced, replacer})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		rule   Rule
		modes  PSSModes
		lo, hi int
		want   finding.Severity
	}{
		{name: "defaults, baseline check", rule: baseline, modes: DefaultPSSModes, hi: 9999, want: finding.Error},
		{name: "defaults, restricted check", rule: restricted, modes: DefaultPSSModes, hi: 9999, want: finding.Warning},
		{name: "enforce restricted", rule: restricted, modes: PSSModes{Enforce: lv(Restricted, -1)}, hi: 9999, want: finding.Error},
		{name: "audit only", rule: baseline, modes: PSSModes{Audit: lv(Baseline, -1)}, hi: 9999, want: finding.Notice},
		{name: "all privileged", rule: baseline, modes: PSSModes{}, hi: 9999, want: finding.SeverityNone},
		{name: "check not yet in v1.21", rule: late, modes: PSSModes{Enforce: lv(Baseline, 21)}, hi: 9999, want: finding.SeverityNone},
		{name: "check from v1.22", rule: late, modes: PSSModes{Enforce: lv(Baseline, 22)}, hi: 9999, want: finding.Error},
		{name: "enforce's version misses the violation, warn's has it", rule: baseline,
			modes: PSSModes{Enforce: lv(Baseline, 30), Warn: lv(Baseline, 20)}, lo: 8, hi: 24, want: finding.Warning},
		{name: "latest is the newest version", rule: baseline, modes: PSSModes{Enforce: lv(Baseline, -1)}, lo: NewestPolicyMinor, hi: 9999, want: finding.Error},
		{name: "a newer version than known is the newest", rule: baseline, modes: PSSModes{Enforce: lv(Baseline, 99)}, lo: 0, hi: NewestPolicyMinor, want: finding.Error},
		{name: "overridden at restricted", rule: replaced, modes: PSSModes{Enforce: lv(Restricted, -1)}, hi: 9999, want: finding.SeverityNone},
		{name: "not overridden before the replacer exists", rule: replaced, modes: PSSModes{Enforce: lv(Restricted, 18)}, hi: 9999, want: finding.Error},
		{name: "not overridden at baseline", rule: replaced, modes: PSSModes{Enforce: lv(Baseline, -1)}, hi: 9999, want: finding.Error},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.severity(&tt.rule, tt.modes, tt.lo, tt.hi); got != tt.want {
				t.Errorf("severity %v, want %v", got, tt.want)
			}
		})
	}
}

func TestModesFromLabels(t *testing.T) {
	const pre = "pod-security.kubernetes.io/"
	lv := func(l Level, minor int) LevelVersion { return LevelVersion{Level: l, Minor: minor} }
	defaults := DefaultPSSModes // enforce baseline, warn restricted, audit privileged
	tests := []struct {
		name   string
		labels map[string]string
		want   PSSModes
		errs   int
	}{
		{name: "no labels", labels: nil, want: defaults},
		{name: "enforce restricted pinned", labels: map[string]string{pre + "enforce": "restricted", pre + "enforce-version": "v1.25"},
			want: PSSModes{Enforce: lv(Restricted, 25), Warn: lv(Restricted, -1), Audit: lv(Privileged, -1)}},
		{name: "warn follows a stricter enforce", labels: map[string]string{pre + "enforce": "restricted", pre + "enforce-version": "v1.25"},
			want: PSSModes{Enforce: lv(Restricted, 25), Warn: lv(Restricted, -1), Audit: lv(Privileged, -1)}},
		{name: "warn follows enforce, version too", labels: map[string]string{pre + "enforce": "baseline", pre + "enforce-version": "v1.20"},
			want: PSSModes{Enforce: lv(Baseline, 20), Warn: lv(Restricted, -1), Audit: lv(Privileged, -1)}},
		{name: "invalid enforce fails closed", labels: map[string]string{pre + "enforce": "strict"},
			want: PSSModes{Enforce: lv(Restricted, -1), Warn: lv(Restricted, -1), Audit: lv(Privileged, -1)}, errs: 1},
		{name: "invalid warn fails open", labels: map[string]string{pre + "warn": "loud"},
			want: PSSModes{Enforce: lv(Baseline, -1), Warn: lv(Privileged, -1), Audit: lv(Privileged, -1)}, errs: 1},
		{name: "invalid version is latest", labels: map[string]string{pre + "audit": "restricted", pre + "audit-version": "1.25"},
			want: PSSModes{Enforce: lv(Baseline, -1), Warn: lv(Restricted, -1), Audit: lv(Restricted, -1)}, errs: 1},
		{name: "any v1.N is accepted", labels: map[string]string{pre + "enforce-version": "v1.99"},
			want: PSSModes{Enforce: lv(Baseline, 99), Warn: lv(Restricted, -1), Audit: lv(Privileged, -1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := ModesFromLabels(tt.labels, defaults)
			if got != tt.want || len(errs) != tt.errs {
				t.Errorf("got %v (errors %v), want %v (%d errors)", got, errs, tt.want, tt.errs)
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
