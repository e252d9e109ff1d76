package evaluate

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/load"
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

// minor is the policy minor a mode evaluates: latest, and versions newer
// than kubegate knows, are the newest it knows (as upstream evaluates them).
func (lv LevelVersion) minor() int {
	if lv.Minor < 0 || lv.Minor > NewestPolicyMinor {
		return NewestPolicyMinor
	}
	return lv.Minor
}

// Namespace labels that set a namespace's Pod Security modes.
const (
	labelPrefix = "pod-security.kubernetes.io/"
)

var versionLabelRE = regexp.MustCompile(`^v1\.(0|[1-9][0-9]*)$`)

// parseLabelLevel reads a level label as the admission controller does.
func parseLabelLevel(s string) (Level, bool) {
	l, err := ParseLevel(s)
	return l, err == nil
}

// parseLabelVersion reads a version label as the admission controller
// does: "latest" or v1.N with any N; anything else is latest, with an error.
func parseLabelVersion(s string) (int, bool) {
	if s == "latest" {
		return -1, true
	}
	m := versionLabelRE.FindStringSubmatch(s)
	if m == nil {
		return -1, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return -1, false
	}
	return n, true
}

// LabelError is a pod-security.kubernetes.io label with an invalid value.
type LabelError struct {
	Label, Value, Want string
}

func (e LabelError) Error() string {
	return fmt.Sprintf("label %s=%q: must be %s", e.Label, e.Value, e.Want)
}

// ModesFromLabels applies a Namespace's pod-security.kubernetes.io labels to
// the default modes, exactly as the admission controller's
// PolicyToEvaluate: an invalid enforce level fails closed (restricted), an
// invalid warn or audit level fails open (privileged), an invalid version
// is latest, and warn follows an explicitly stricter enforce level unless
// warn is labelled itself. It also returns each invalid label.
func ModesFromLabels(labels map[string]string, defaults PSSModes) (PSSModes, []LabelError) {
	m := defaults
	var errs []LabelError
	bad := func(k, v, want string) { errs = append(errs, LabelError{Label: labelPrefix + k, Value: v, Want: want}) }
	const levels, versions = "privileged, baseline or restricted", `"latest" or "v1.x"`
	hasEnforce, hasWarn, hasWarnVersion := false, false, false
	for _, mode := range []struct {
		name     string
		dst      *LevelVersion
		failOpen bool
	}{{"enforce", &m.Enforce, false}, {"audit", &m.Audit, true}, {"warn", &m.Warn, true}} {
		if v, ok := labels[labelPrefix+mode.name]; ok {
			l, valid := parseLabelLevel(v)
			switch {
			case valid:
				mode.dst.Level = l
			case mode.failOpen:
				mode.dst.Level = Privileged
			default:
				mode.dst.Level = Restricted
			}
			if !valid {
				bad(mode.name, v, levels)
			}
			hasEnforce = hasEnforce || mode.name == "enforce" && valid
			hasWarn = hasWarn || mode.name == "warn"
		}
		if v, ok := labels[labelPrefix+mode.name+"-version"]; ok {
			n, valid := parseLabelVersion(v)
			mode.dst.Minor = n
			if !valid {
				bad(mode.name+"-version", v, versions)
			}
			hasWarnVersion = hasWarnVersion || mode.name == "warn"
		}
	}
	if !hasWarn && hasEnforce && m.Enforce.Level > m.Warn.Level {
		m.Warn.Level = m.Enforce.Level
		if !hasWarnVersion {
			m.Warn.Minor = m.Enforce.Minor
		}
	}
	return m, errs
}

// pssRules knows, for a set of Pod Security rules, which of them upstream
// evaluates at a level and version.
type pssRules struct {
	// overriddenBy maps a rule id to the rules that replace it where they
	// apply (upstream's OverrideCheckIDs).
	overriddenBy map[string][]*Rule
}

func newPSSRules(rules []Rule) (*pssRules, error) {
	p := &pssRules{overriddenBy: map[string][]*Rule{}}
	ids := map[string]bool{}
	for _, r := range rules {
		ids[r.ID] = true
	}
	for i := range rules {
		r := &rules[i]
		for _, o := range r.Overrides {
			if !ids[o] {
				return nil, fmt.Errorf("%s: custom.overrides names %s, which is not a rule", r.File, o)
			}
			p.overriddenBy[o] = append(p.overriddenBy[o], r)
		}
	}
	return p, nil
}

// runs reports whether upstream evaluates the rule's check at level lv.
func (p *pssRules) runs(r *Rule, lv LevelVersion) bool {
	v := lv.minor()
	if r.Level > lv.Level || v < r.MinVersion {
		return false
	}
	for _, o := range p.overriddenBy[r.ID] {
		if o.Level <= lv.Level && v >= o.MinVersion {
			return false
		}
	}
	return true
}

// severity is the highest severity of the modes under which a violation of
// rule r that holds for policy minors [lo, hi] is reported.
func (p *pssRules) severity(r *Rule, m PSSModes, lo, hi int) finding.Severity {
	for _, mode := range []struct {
		lv  LevelVersion
		sev finding.Severity
	}{{m.Enforce, finding.Error}, {m.Warn, finding.Warning}, {m.Audit, finding.Notice}} {
		if v := mode.lv.minor(); p.runs(r, mode.lv) && lo <= v && v <= hi {
			return mode.sev
		}
	}
	return finding.SeverityNone
}

// namespaceModes reads the Pod Security modes of every Namespace in the
// input that carries pod-security.kubernetes.io labels.
func (e *Engine) namespaceModes(resources []*load.Resource) (map[string]PSSModes, []finding.InputError) {
	out := map[string]PSSModes{}
	var errs []finding.InputError
	for _, r := range resources {
		id := r.ID()
		if id.Kind != "Namespace" || id.APIVersion != "v1" {
			continue
		}
		meta, _ := r.Object["metadata"].(map[string]any)
		raw, _ := meta["labels"].(map[string]any)
		labels := map[string]string{}
		for k, v := range raw {
			if s, ok := v.(string); ok && strings.HasPrefix(k, labelPrefix) {
				labels[k] = s
			}
		}
		if len(labels) == 0 {
			continue
		}
		modes, bad := ModesFromLabels(labels, e.opts.PSS)
		for _, le := range bad {
			loc := r.Locate(load.Path{"metadata", "labels", le.Label})
			errs = append(errs, finding.InputError{File: loc.File, Line: loc.Line, Message: fmt.Sprintf("%s: %v (the admission controller would use %s)", id, le, modes)})
		}
		out[id.Name] = modes
	}
	return out, errs
}

// String describes the modes as the report shows them.
func (m PSSModes) String() string {
	return fmt.Sprintf("enforce %s, warn %s, audit %s", m.Enforce, m.Warn, m.Audit)
}

// pssExempt reports whether a resource is exempt from Pod Security checks.
func (e *Engine) pssExempt(r *load.Resource, id finding.Resource) bool {
	if slices.Contains(e.opts.PSSExemptNamespaces, id.Namespace) && id.Namespace != "" {
		return true
	}
	if len(e.opts.PSSExemptRuntimeClasses) == 0 {
		return false
	}
	spec, _ := load.Lookup(r.Object, load.PodSpecPath(id.Kind)).(map[string]any)
	rc, _ := spec["runtimeClassName"].(string)
	return rc != "" && slices.Contains(e.opts.PSSExemptRuntimeClasses, rc)
}
