// Package vuln finds the known vulnerabilities of an image's packages: it
// matches the SBOMs kubegate builds against a grype vulnerability database
// (schema v6, a SQLite file) with grype's own matchers, and applies VEX
// documents (OpenVEX, CycloneDX VEX) with grype's VEX processor. It reads
// the database only; kubegate never downloads one while checking.
package vuln

//go:generate go run ./internal/fixturedb ../fixtures/vulndb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/anchore/grype/grype"
	v6 "github.com/anchore/grype/grype/db/v6"
	"github.com/anchore/grype/grype/distro"
	"github.com/anchore/grype/grype/match"
	"github.com/anchore/grype/grype/matcher"
	grypepkg "github.com/anchore/grype/grype/pkg"
	"github.com/anchore/grype/grype/vex"
	"github.com/anchore/grype/grype/vulnerability"
	"github.com/anchore/syft/syft/sbom"
)

// FileName is the database's file name, as grype writes and reads it.
const FileName = v6.VulnerabilityDBFileName

// Severities from the most to the least severe, as reports and
// --vuln-fail-severity spell them.
var Severities = []string{"critical", "high", "medium", "low", "negligible", "unknown"}

// Rank orders severities: critical 5 ... negligible 1, unknown 0.
func Rank(severity string) int {
	i := slices.Index(Severities, strings.ToLower(severity))
	if i < 0 {
		return 0
	}
	return len(Severities) - 1 - i
}

// DB is an open vulnerability database.
type DB struct {
	// Path is the database file; Built is when it was built, Schema its
	// schema version (v6.x.y).
	Path   string
	Built  time.Time
	Schema string

	// mu makes scans take turns: SQLite's shared cache serialises them
	// anyway, and concurrent ones were half again slower
	// (BenchmarkMatch8Images: 2.9 s against 1.9 s).
	mu       sync.Mutex
	provider vulnerability.Provider
}

// Open opens the database at path: a vulnerability.db file, a directory
// holding one, or grype's database directory (its 6/ subdirectory). A file
// that is not a grype v6 database is an error that names it.
func Open(path string) (*DB, error) {
	dir, file, err := locate(path)
	if err != nil {
		return nil, err
	}
	r, err := v6.NewReader(v6.Config{DBDirPath: dir})
	if err != nil {
		return nil, fmt.Errorf("%s is not a grype vulnerability database (schema v6): %v", file, oneLine(err))
	}
	meta, err := r.GetDBMetadata()
	if err != nil || meta == nil || meta.BuildTimestamp == nil {
		r.Close()
		if err == nil {
			err = errors.New("it has no build time")
		}
		return nil, fmt.Errorf("%s is not a usable grype vulnerability database: %v", file, oneLine(err))
	}
	return &DB{
		Path:     file,
		Built:    meta.BuildTimestamp.UTC(),
		Schema:   fmt.Sprintf("v%d.%d.%d", meta.Model, meta.Revision, meta.Addition),
		provider: v6.NewVulnerabilityProvider(r),
	}, nil
}

// locate finds the database file that path names, and its directory.
func locate(path string) (dir, file string, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", "", err
	}
	if !st.IsDir() {
		if filepath.Base(path) != FileName {
			return "", "", fmt.Errorf("%s: a grype database file is named %s (give its directory, or rename it)", path, FileName)
		}
		return filepath.Dir(path), path, nil
	}
	for _, d := range []string{path, filepath.Join(path, "6")} {
		f := filepath.Join(d, FileName)
		if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
			return d, f, nil
		}
	}
	return "", "", fmt.Errorf("%s holds no %s (nor 6/%s, as grype keeps it)", path, FileName, FileName)
}

// Close closes the database.
func (d *DB) Close() error { return d.provider.Close() }

// Vulnerability is one known vulnerability of one package.
type Vulnerability struct {
	ID       string `json:"id"`
	Severity string `json:"severity"` // one of Severities
	Package  string `json:"package"`
	Version  string `json:"version"`
	Type     string `json:"type"` // the package's: deb, apk, rpm, go-module...
	// Fix are the versions that fix it (empty when none is known); FixState
	// is fixed, not-fixed, wont-fix or unknown.
	Fix      []string `json:"fix,omitempty"`
	FixState string   `json:"fix_state"`
	// Source is where the advisory comes from (grype's namespace, such as
	// debian:distro:debian:12).
	Source string `json:"source,omitempty"`
}

// Suppressed is a vulnerability a VEX statement set aside.
type Suppressed struct {
	Vulnerability
	// Reason says which VEX status and justification applied.
	Reason string `json:"reason"`
}

// Match finds the vulnerabilities of the packages of s, and sets aside
// those the VEX documents (files) state not_affected or fixed for the
// image.
func (d *DB) Match(s *sbom.SBOM, vexDocuments []string) ([]Vulnerability, []Suppressed, error) {
	var dist *distro.Distro
	if s.Artifacts.LinuxDistribution != nil {
		dist = distro.FromRelease(s.Artifacts.LinuxDistribution, nil)
	}
	ptrs := grypepkg.FromCollection(s.Artifacts.Packages, s.Relationships, grypepkg.SynthesisConfig{})
	// The distribution's matchers find nothing for a package without its
	// distribution, which an SBOM read back does not set (grype's own
	// loader does the same).
	for _, p := range ptrs {
		if p.Distro == nil {
			p.Distro = dist
		}
	}
	src := s.Source
	ctx := grypepkg.Context{Source: &src, Distro: dist}
	var proc *vex.Processor
	if len(vexDocuments) > 0 {
		var err error
		if proc, err = vex.NewProcessor(vex.ProcessorOptions{Documents: vexDocuments}); err != nil {
			return nil, nil, fmt.Errorf("reading the VEX documents: %v", err)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	m := &grype.VulnerabilityMatcher{ // one per scan: it keeps per-run state
		VulnerabilityProvider: d.provider,
		Matchers:              matcher.NewDefaultMatchers(matcher.Config{}),
		VexProcessor:          proc,
	}
	found, ignored, err := m.FindMatches(grypepkg.FromPtrs(ptrs), ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("matching against %s: %v", d.Path, err)
	}
	var out []Vulnerability
	for _, x := range found.Sorted() {
		out = append(out, vulnerabilityOf(x))
	}
	var suppressed []Suppressed
	for _, x := range ignored {
		var why []string
		for _, r := range x.AppliedIgnoreRules {
			if r.Namespace != "vex" {
				continue
			}
			w := "VEX: " + r.VexStatus
			if r.VexJustification != "" {
				w += " (" + r.VexJustification + ")"
			}
			why = append(why, w)
		}
		if len(why) > 0 {
			suppressed = append(suppressed, Suppressed{Vulnerability: vulnerabilityOf(x.Match), Reason: strings.Join(slices.Compact(why), "; ")})
		}
	}
	slices.SortFunc(suppressed, func(a, b Suppressed) int {
		return strings.Compare(a.ID+a.Package+a.Version, b.ID+b.Package+b.Version)
	})
	return out, suppressed, nil
}

func vulnerabilityOf(m match.Match) Vulnerability {
	v := Vulnerability{
		ID:       m.Vulnerability.ID,
		Severity: "unknown",
		Package:  m.Package.Name,
		Version:  m.Package.Version,
		Type:     string(m.Package.Type),
		Fix:      slices.Clone(m.Vulnerability.Fix.Versions),
		FixState: string(m.Vulnerability.Fix.State),
		Source:   m.Vulnerability.Namespace,
	}
	if md := m.Vulnerability.Metadata; md != nil && md.Severity != "" {
		if s := strings.ToLower(md.Severity); slices.Contains(Severities, s) {
			v.Severity = s
		}
	}
	if v.FixState == "" {
		v.FixState = "unknown"
	}
	return v
}

// oneLine is an error's message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
