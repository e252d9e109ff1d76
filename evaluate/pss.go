package evaluate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kubegate/kubegate/report"
)

// Level is a Pod Security Standards level.
type Level int

const (
	Privileged Level = iota
	Baseline
	Restricted
)

var levelNames = [...]string{"privileged", "baseline", "restricted"}

func (l Level) String() string { return levelNames[l] }

// MarshalText writes the level's name ("" for privileged, which no rule has).
func (l Level) MarshalText() ([]byte, error) {
	if l == Privileged {
		return nil, nil
	}
	return []byte(l.String()), nil
}

// ParseLevel reads privileged, baseline or restricted.
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if n == s {
			return Level(i), nil
		}
	}
	return Privileged, fmt.Errorf("unknown Pod Security level %q (want privileged, baseline or restricted)", s)
}

// NewestPolicyMinor is the newest Pod Security policy version (v1.N) that
// kubegate knows; "latest" means it.
const NewestPolicyMinor = 37

// LevelVersion is a level at a policy version. Minor -1 is "latest".
type LevelVersion struct {
	Level Level
	Minor int
}

func (lv LevelVersion) String() string {
	if lv.Minor < 0 {
		return lv.Level.String() + ":latest"
	}
	return fmt.Sprintf("%s:v1.%d", lv.Level, lv.Minor)
}

// ParseLevelVersion reads LEVEL[:VERSION]; VERSION is latest (the default)
// or v1.N with N from 0 to NewestPolicyMinor.
func ParseLevelVersion(s string) (LevelVersion, error) {
	level, version, _ := strings.Cut(s, ":")
	l, err := ParseLevel(level)
	if err != nil {
		return LevelVersion{}, err
	}
	lv := LevelVersion{Level: l, Minor: -1}
	if version == "" || version == "latest" {
		return lv, nil
	}
	minor, ok := strings.CutPrefix(version, "v1.")
	n, err := strconv.Atoi(minor)
	if !ok || err != nil || n < 0 || n > NewestPolicyMinor || strconv.Itoa(n) != minor {
		return LevelVersion{}, fmt.Errorf("unknown Pod Security version %q (want latest or v1.0 to v1.%d)", version, NewestPolicyMinor)
	}
	lv.Minor = n
	return lv, nil
}

// PSSModes are the three Pod Security modes: the enforce level's violations
// are errors, warn's are warnings, audit's notices.
type PSSModes struct {
	Enforce, Warn, Audit LevelVersion
}

// DefaultPSSModes are the contract's defaults.
var DefaultPSSModes = PSSModes{
	Enforce: LevelVersion{Level: Baseline, Minor: -1},
	Warn:    LevelVersion{Level: Restricted, Minor: -1},
	Audit:   LevelVersion{Level: Privileged, Minor: -1},
}

// severity is the highest severity whose mode's level includes a check of
// the given level; SeverityNone when no mode does.
func (m PSSModes) severity(check Level) report.Severity {
	switch {
	case m.Enforce.Level >= check:
		return report.Error
	case m.Warn.Level >= check:
		return report.Warning
	case m.Audit.Level >= check:
		return report.Notice
	}
	return report.SeverityNone
}
