package vuln

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anchore/syft/syft/linux"
	syftpkg "github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source"

	"github.com/kubegate/kubegate/vuln/vulntest"
)

// advisories are the test database: the xz backdoor in Debian 12 (fixed),
// and two busybox advisories in Alpine 3.22, one fixed and one not.
var advisories = []vulntest.Advisory{
	{ID: "CVE-2024-3094", Severity: "critical", Distro: "debian:12", Package: "xz-utils", Type: "deb", Affected: ">= 5.6.0, < 5.6.1+really5.4.5-1", Fix: "5.6.1+really5.4.5-1"},
	{ID: "CVE-2024-58251", Severity: "high", Distro: "alpine:3.22", Package: "busybox", Type: "apk", Affected: "< 1.37.0-r19", Fix: "1.37.0-r19"},
	{ID: "CVE-2025-46394", Severity: "medium", Distro: "alpine:3.22", Package: "busybox", Type: "apk"},
}

func testDB(t testing.TB) *DB {
	t.Helper()
	dir := t.TempDir()
	if err := vulntest.Write(dir, advisories); err != nil {
		t.Fatal(err)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// image is an SBOM as syft makes it for an image of repo: packages with
// their distribution's metadata (the dpkg source, the apk origin).
func image(repo string, release linux.Release, pkgs ...syftpkg.Package) *sbom.SBOM {
	for i := range pkgs {
		pkgs[i].SetID()
	}
	digest := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(repo)))
	return &sbom.SBOM{
		Artifacts: sbom.Artifacts{Packages: syftpkg.NewCollection(pkgs...), LinuxDistribution: &release},
		Source: source.Description{ID: digest, Name: repo, Version: digest, Metadata: source.ImageMetadata{
			UserInput: repo + ":1", ManifestDigest: digest, Tags: []string{repo + ":1"}, RepoDigests: []string{repo + "@" + digest},
		}},
	}
}

func deb(name, version, source string) syftpkg.Package {
	return syftpkg.Package{Name: name, Version: version, Type: syftpkg.DebPkg,
		PURL:     fmt.Sprintf("pkg:deb/debian/%s@%s?arch=amd64&distro=debian-12", name, version),
		Metadata: syftpkg.DpkgDBEntry{Package: name, Version: version, Source: source, Architecture: "amd64"}}
}

func apk(name, version, origin string) syftpkg.Package {
	return syftpkg.Package{Name: name, Version: version, Type: syftpkg.ApkPkg,
		PURL:     fmt.Sprintf("pkg:apk/alpine/%s@%s?arch=x86_64&distro=alpine-3.22.1", name, version),
		Metadata: syftpkg.ApkDBEntry{Package: name, Version: version, OriginPackage: origin, Architecture: "x86_64"}}
}

var (
	debian12 = linux.Release{ID: "debian", VersionID: "12", VersionCodename: "bookworm"}
	alpine   = linux.Release{ID: "alpine", VersionID: "3.22.1"}
)

func summary(vs []Vulnerability) string {
	var out []string
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%s %s %s %s %s %v", v.ID, v.Severity, v.Package, v.Version, v.FixState, v.Fix))
	}
	return strings.Join(out, "\n")
}

func TestMatch(t *testing.T) {
	db := testDB(t)
	// A binary package matches through its source package.
	got, _, err := db.Match(image("registry.example.com/shop/web", debian12, deb("liblzma5", "5.6.1-1", "xz-utils"), deb("bash", "5.2.15-2", "")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "CVE-2024-3094 critical liblzma5 5.6.1-1 fixed [5.6.1+really5.4.5-1]"; summary(got) != want {
		t.Errorf("debian:\n%s\nwant\n%s", summary(got), want)
	}
	// Debian's "+really" release is the fixed one.
	if got, _, _ := db.Match(image("registry.example.com/shop/web", debian12, deb("liblzma5", "5.6.1+really5.4.5-1", "xz-utils")), nil); len(got) != 0 {
		t.Errorf("the fixed release matched:\n%s", summary(got))
	}
	// A fixed and an unfixed advisory; another distribution's is not read.
	got, _, _ = db.Match(image("registry.example.com/shop/edge", alpine, apk("busybox", "1.37.0-r18", "busybox"), apk("xz-libs", "5.6.1-r0", "xz")), nil)
	want := "CVE-2024-58251 high busybox 1.37.0-r18 fixed [1.37.0-r19]\nCVE-2025-46394 medium busybox 1.37.0-r18 not-fixed []"
	if summary(got) != want {
		t.Errorf("alpine:\n%s\nwant\n%s", summary(got), want)
	}
	// An SBOM without a distribution matches nothing, without an error.
	if got, _, err := db.Match(&sbom.SBOM{Artifacts: sbom.Artifacts{Packages: syftpkg.NewCollection()}}, nil); err != nil || len(got) != 0 {
		t.Errorf("empty SBOM: %v %v", got, err)
	}
}

func TestVEX(t *testing.T) {
	db := testDB(t)
	doc := filepath.Join(t.TempDir(), "web.openvex.json")
	if err := os.WriteFile(doc, []byte(`{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.com/vex/web-1",
  "author": "Shop security",
  "timestamp": "2024-04-01T00:00:00Z",
  "version": 1,
  "statements": [{
    "vulnerability": {"name": "CVE-2024-3094"},
    "products": [{"@id": "pkg:oci/web?repository_url=registry.example.com/shop/web"}],
    "status": "not_affected",
    "justification": "vulnerable_code_not_in_execute_path"
  }]
}`), 0o644); err != nil {
		t.Fatal(err)
	}
	web := image("registry.example.com/shop/web", debian12, deb("liblzma5", "5.6.1-1", "xz-utils"))
	got, suppressed, err := db.Match(web, []string{doc})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 || len(suppressed) != 1 || suppressed[0].ID != "CVE-2024-3094" || suppressed[0].Reason != "VEX: not_affected (vulnerable_code_not_in_execute_path)" {
		t.Errorf("suppressed %+v, kept\n%s", suppressed, summary(got))
	}
	// The statement is about another image's product: nothing is set aside.
	other := image("registry.example.com/shop/api", debian12, deb("liblzma5", "5.6.1-1", "xz-utils"))
	if got, suppressed, _ := db.Match(other, []string{doc}); len(got) != 1 || len(suppressed) != 0 {
		t.Errorf("another image: kept %d, suppressed %d", len(got), len(suppressed))
	}
	if _, _, err := db.Match(web, []string{filepath.Join(t.TempDir(), "missing.json")}); err == nil || !strings.Contains(err.Error(), "VEX") {
		t.Errorf("a missing VEX document: %v", err)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	if err := vulntest.Write(dir, advisories); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Join(dir, FileName)} {
		db, err := Open(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if db.Path != filepath.Join(dir, FileName) || db.Built.IsZero() || !strings.HasPrefix(db.Schema, "v6.") {
			t.Errorf("%s: %+v", p, db)
		}
		db.Close()
	}
	// grype's own layout: DIR/6/vulnerability.db.
	grypeDir := t.TempDir()
	if err := os.Mkdir(filepath.Join(grypeDir, "6"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := vulntest.Write(filepath.Join(grypeDir, "6"), advisories); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(grypeDir); err != nil {
		t.Errorf("grype's layout: %v", err)
	} else {
		db.Close()
	}
	corrupt := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(corrupt, []byte("not a database, just text that is long enough to have a header"), 0o644); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{
		corrupt:                         corrupt + " is not a grype vulnerability database",
		filepath.Join(dir, "grype.db"):  "no such file",
		t.TempDir():                     "holds no vulnerability.db",
		filepath.Join(dir, "..", "x.y"): "no such file",
	} {
		if _, err := Open(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%s): %v, want %q", p, err, want)
		}
	}
}

// WriteAt's build time is the database's (grype's writer stamps its own
// clock). The file itself is not byte-reproducible: gorm writes foreign-key
// constraints in map order.
func TestWriteAtBuildTime(t *testing.T) {
	built := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	if err := vulntest.WriteAt(dir, advisories, built); err != nil {
		t.Fatal(err)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !db.Built.Equal(built) {
		t.Errorf("built %v, want %v", db.Built, built)
	}
}

// Scans share the database: concurrent matches find what one at a time
// does (go test -race checks the sharing).
func TestMatchConcurrently(t *testing.T) {
	db := testDB(t)
	web := image("registry.example.com/shop/web", debian12, deb("liblzma5", "5.6.1-1", "xz-utils"))
	edge := image("registry.example.com/shop/edge", alpine, apk("busybox", "1.37.0-r18", "busybox"))
	want := map[*sbom.SBOM]int{web: 1, edge: 2}
	done := make(chan error, 8)
	for i := range 8 {
		s := []*sbom.SBOM{web, edge}[i%2]
		go func() {
			got, _, err := db.Match(s, nil)
			if err == nil && len(got) != want[s] {
				err = fmt.Errorf("%d vulnerabilities, want %d", len(got), want[s])
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
