package images

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubegate/kubegate/images/internal/testimage"
	"github.com/kubegate/kubegate/vuln"
	"github.com/kubegate/kubegate/vuln/vulntest"
)

// xz is the test databases' advisory: the backdoor, in Debian 12.
var xz = vulntest.Advisory{ID: "CVE-2024-3094", Severity: "critical", Distro: "debian:12", Package: "xz-utils", Type: "deb", Affected: ">= 5.6.0, < 5.6.1+really5.4.5-1", Fix: "5.6.1+really5.4.5-1"}

// vulnDB opens a database of the advisories, built at built.
func vulnDB(t *testing.T, built time.Time, advisories ...vulntest.Advisory) *vuln.DB {
	t.Helper()
	dir := t.TempDir()
	if err := vulntest.WriteAt(dir, advisories, built); err != nil {
		t.Fatal(err)
	}
	db, err := vuln.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The SBOM syft builds from a real image on a registry is matched against
// the database; a VEX statement, from a file or attested to the image and
// verified with its key, sets the vulnerability aside.
func TestVulnerabilities(t *testing.T) {
	reg := newTestRegistry(t)
	db := vulnDB(t, time.Now(), xz)
	img := debian(t, testimage.Pkg{Name: "liblzma5", Version: "5.6.1-1", Source: "xz-utils"}, testimage.Pkg{Name: "bash", Version: "5.2.15-2"})
	ref, h := reg.push("shop/web", "1.5.0", img)
	got := checkOne(t, Options{SBOM: true, Vulnerabilities: db, Sleep: (&noSleep{}).sleep}, ref)
	if got.Error != "" || !got.VulnerabilitiesChecked || len(got.Vulnerabilities) != 1 {
		t.Fatalf("%+v", got)
	}
	if v := got.Vulnerabilities[0]; v.ID != "CVE-2024-3094" || v.Package != "liblzma5" || v.Severity != "critical" || v.FixState != "fixed" || strings.Join(v.Fix, ",") != "5.6.1+really5.4.5-1" {
		t.Errorf("%+v", v)
	}
	// Without a database, nothing is said to be checked.
	if got := checkOne(t, Options{SBOM: true, Sleep: (&noSleep{}).sleep}, ref); got.VulnerabilitiesChecked || got.Vulnerabilities != nil {
		t.Errorf("without a database: %+v", got)
	}

	vex := `{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/web", "author": "shop",
 "timestamp": "2024-04-01T00:00:00Z", "version": 1,
 "statements": [{"vulnerability": {"name": "CVE-2024-3094"},
   "products": [{"@id": "pkg:oci/web?repository_url=` + reg.host + `/shop/web"}],
   "status": "not_affected", "justification": "vulnerable_code_not_present"}]}`
	file := filepath.Join(t.TempDir(), "web.openvex.json")
	if err := os.WriteFile(file, []byte(vex), 0o644); err != nil {
		t.Fatal(err)
	}
	got = checkOne(t, Options{SBOM: true, Vulnerabilities: db, VEX: []string{file}, Sleep: (&noSleep{}).sleep}, ref)
	if len(got.Vulnerabilities) != 0 || len(got.VEXSuppressed) != 1 || got.VEXSuppressed[0].Reason != "VEX: not_affected (vulnerable_code_not_present)" {
		t.Errorf("VEX file: kept %+v, suppressed %+v", got.Vulnerabilities, got.VEXSuppressed)
	}

	// Attested: only an attestation that verifies counts.
	pub, signer := keyPair(t)
	reg.sign(signer, ref, h)
	reg.attest(signer, ref, h, OpenVEXPredicateType, vex)
	verified := &VerifyOptions{Keys: []string{pub}, IgnoreTlog: true}
	got = checkOne(t, Options{SBOM: true, Vulnerabilities: db, Verify: verified, Sleep: (&noSleep{}).sleep}, ref)
	if len(got.Vulnerabilities) != 0 || len(got.VEXSuppressed) != 1 {
		t.Errorf("attested VEX: kept %+v, suppressed %+v", got.Vulnerabilities, got.VEXSuppressed)
	}
	other, _ := keyPair(t)
	got = checkOne(t, Options{SBOM: true, Vulnerabilities: db, Verify: &VerifyOptions{Keys: []string{other}, IgnoreTlog: true}, Sleep: (&noSleep{}).sleep}, ref)
	if len(got.Vulnerabilities) != 1 || len(got.VEXSuppressed) != 0 {
		t.Errorf("VEX attested by another key: kept %+v, suppressed %+v", got.Vulnerabilities, got.VEXSuppressed)
	}
}

// A warm run matches nothing again: the matches of a digest are cached by
// database build and VEX documents; another VEX document is another entry.
func TestVulnerabilitiesCached(t *testing.T) {
	reg := newTestRegistry(t)
	ref, _ := reg.push("shop/web", "1.5.0", debian(t, testimage.Pkg{Name: "liblzma5", Version: "5.6.1-1", Source: "xz-utils"}))
	// Two databases built at the same time: one knows the backdoor, the
	// other nothing. What the second gives shows whether it was asked.
	built := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	knows, empty := vulnDB(t, built, xz), vulnDB(t, built)
	cache := t.TempDir()
	opts := Options{SBOM: true, Vulnerabilities: knows, CacheDir: cache, Sleep: (&noSleep{}).sleep}
	if got := checkOne(t, opts, ref); len(got.Vulnerabilities) != 1 {
		t.Fatalf("cold: %+v", got)
	}
	opts.Vulnerabilities = empty
	if got := checkOne(t, opts, ref); !got.VulnerabilitiesChecked || len(got.Vulnerabilities) != 1 || got.Vulnerabilities[0].ID != "CVE-2024-3094" {
		t.Errorf("warm: not served from the cache: %+v", got)
	}
	vex := filepath.Join(t.TempDir(), "web.openvex.json")
	if err := os.WriteFile(vex, []byte(`{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1", "author": "shop", "timestamp": "2024-04-01T00:00:00Z", "version": 1, "statements": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	opts.VEX = []string{vex}
	if got := checkOne(t, opts, ref); !got.VulnerabilitiesChecked || len(got.Vulnerabilities) != 0 {
		t.Errorf("another VEX document was served from the cache: %+v", got.Vulnerabilities)
	}
}
