// Package vulntest writes small grype vulnerability databases with grype's
// own v6 writer: for tests, and for the database under fixtures/.
package vulntest

import (
	"fmt"
	"strings"
	"time"

	v6 "github.com/anchore/grype/grype/db/v6"
	"gorm.io/gorm"
)

// Advisory is one vulnerability of one distribution's source package.
type Advisory struct {
	ID          string
	Severity    string // critical, high, medium, low, negligible
	Description string
	// Distro is ID:VERSION, as /etc/os-release says: debian:12, alpine:3.22.
	Distro string
	// Package is the source (Debian) or origin (Alpine) package; Type its
	// ecosystem, deb or apk.
	Package, Type string
	// Affected is the versions affected, in the distribution's version
	// syntax (">= 5.6.0, < 5.6.1+really5.4.5-1"); "" is every version.
	Affected string
	// Fix is the version that fixes it; "" means none is known yet.
	Fix string
}

// Fixtures are the advisories of the database under fixtures/vulndb, for
// the fixtures' images (Debian 12): the xz backdoor (critical, fixed), an
// OpenSSL advisory that registry.example.com/shop/web:1.5.0 fixes (high; the
// fixtures' libssl3 names no source package, so it is filed under libssl3),
// and one in curl without a fix (medium). FixturesBuilt is its build time.
// go generate ./vuln writes it.
var Fixtures = []Advisory{
	{ID: "CVE-2024-3094", Severity: "critical", Distro: "debian:12", Package: "xz-utils", Type: "deb", Affected: ">= 5.6.0, < 5.6.1+really5.4.5-1", Fix: "5.6.1+really5.4.5-1",
		Description: "Malicious code in the xz-utils 5.6.0 and 5.6.1 release tarballs (liblzma), reachable through sshd."},
	{ID: "CVE-2024-5535", Severity: "high", Distro: "debian:12", Package: "libssl3", Type: "deb", Affected: "< 3.0.14-1~deb12u2", Fix: "3.0.14-1~deb12u2",
		Description: "SSL_select_next_proto buffer overread in OpenSSL."},
	{ID: "CVE-2025-0665", Severity: "medium", Distro: "debian:12", Package: "curl", Type: "deb",
		Description: "curl closes a file descriptor twice after a threaded name resolution with eventfd."},
}

// FixturesBuilt is when the fixtures' database says it was built: long
// enough ago that the README's command always shows the warning about an
// old database (images.vulnerability-db), whatever the day.
var FixturesBuilt = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// codenames are the Debian releases' names, which grype's Debian advisories
// carry.
var codenames = map[string]string{"debian:11": "bullseye", "debian:12": "bookworm", "debian:13": "trixie"}

// Write writes the advisories to DIR/vulnerability.db, built now.
func Write(dir string, advisories []Advisory) error {
	return WriteAt(dir, advisories, time.Now().UTC().Truncate(time.Second))
}

// WriteAt writes the advisories to DIR/vulnerability.db as built at built:
// the same advisories and time make the same file.
func WriteAt(dir string, advisories []Advisory, built time.Time) error {
	w, err := v6.NewWriter(v6.Config{DBDirPath: dir})
	if err != nil {
		return err
	}
	now := built.UTC()
	for _, a := range advisories {
		name, version, ok := strings.Cut(a.Distro, ":")
		if !ok {
			w.Close()
			return fmt.Errorf("%s: distro %q is not ID:VERSION", a.ID, a.Distro)
		}
		major, minor, _ := strings.Cut(version, ".")
		vh := &v6.VulnerabilityHandle{
			Name:     a.ID,
			Status:   v6.VulnerabilityActive,
			Provider: &v6.Provider{ID: name, Version: "1", Processor: "kubegate-vulntest", DateCaptured: &now},
			BlobValue: &v6.VulnerabilityBlob{
				ID:          a.ID,
				Description: a.Description,
				Severities:  []v6.Severity{{Scheme: v6.SeveritySchemeCHMLN, Value: a.Severity, Rank: 1}},
			},
		}
		if err := w.AddVulnerabilities(vh); err != nil {
			w.Close()
			return err
		}
		versionType := map[string]string{"deb": "dpkg", "apk": "apk"}[a.Type]
		if versionType == "" {
			w.Close()
			return fmt.Errorf("%s: package type %q is not deb or apk", a.ID, a.Type)
		}
		fix := &v6.Fix{State: v6.NotFixedStatus}
		if a.Fix != "" {
			fix = &v6.Fix{Version: a.Fix, State: v6.FixedStatus}
		}
		ph := &v6.AffectedPackageHandle{
			VulnerabilityID: vh.ID,
			OperatingSystem: &v6.OperatingSystem{Name: name, ReleaseID: name, MajorVersion: major, MinorVersion: minor, Codename: codenames[a.Distro]},
			Package:         &v6.Package{Ecosystem: a.Type, Name: a.Package},
			BlobValue: &v6.PackageBlob{
				CVEs:   []string{a.ID},
				Ranges: []v6.Range{{Version: v6.Version{Type: versionType, Constraint: a.Affected}, Fix: fix}},
			},
		}
		if err := w.AddAffectedPackages(ph); err != nil {
			w.Close()
			return err
		}
	}
	// grype's writer stamps its own clock; the build time is the caller's.
	g, ok := w.(interface{ GetDB() *gorm.DB })
	if !ok {
		w.Close()
		return fmt.Errorf("grype's writer does not expose its database")
	}
	if err := g.GetDB().Exec("UPDATE db_metadata SET build_timestamp = ?", now).Error; err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	// The writer drops its indexes to ship small; grype db import builds
	// them again, as this does (a lookup without them scans every table).
	return v6.Hydrater()(dir)
}
