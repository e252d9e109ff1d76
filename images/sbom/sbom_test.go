package sbom_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	syftsbom "github.com/anchore/syft/syft/sbom"
	"github.com/kubegate/kubegate/images/internal/testimage"
	"github.com/kubegate/kubegate/images/sbom"
)

var (
	genOnce sync.Once
	gen     *sbom.Generator
	genErr  error
)

// generator returns the Generator shared by the tests (New costs ~1 s).
func generator(tb testing.TB) *sbom.Generator {
	tb.Helper()
	genOnce.Do(func() { gen, genErr = sbom.New(context.Background()) })
	if genErr != nil {
		tb.Fatalf("New: %v", genErr)
	}
	return gen
}

func debianXZ(tb testing.TB) v1.Image {
	tb.Helper()
	img, err := testimage.DebianXZ()
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

func alpineXZ(tb testing.TB) v1.Image {
	tb.Helper()
	img, err := testimage.AlpineXZ()
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

func digestOf(tb testing.TB, img v1.Image) string {
	tb.Helper()
	d, err := testimage.Digest(img)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// layoutOf writes img as a single-image OCI layout in a new temp dir.
func layoutOf(tb testing.TB, img v1.Image) (dir, digest string) {
	tb.Helper()
	dir = filepath.Join(tb.TempDir(), "layout")
	if err := testimage.WriteLayout(dir, img); err != nil {
		tb.Fatal(err)
	}
	return dir, digestOf(tb, img)
}

func scan(tb testing.TB, dir, digest string) *syftsbom.SBOM {
	tb.Helper()
	s, err := generator(tb).FromLayout(context.Background(), dir, digest)
	if err != nil {
		tb.Fatalf("FromLayout: %v", err)
	}
	return s
}

func findPackage(pkgs []sbom.Package, name string) (sbom.Package, bool) {
	for _, p := range pkgs {
		if p.Name == name {
			return p, true
		}
	}
	return sbom.Package{}, false
}

func TestDebianPackages(t *testing.T) {
	dir, digest := layoutOf(t, debianXZ(t))
	s := scan(t, dir, digest)

	if d := s.Artifacts.LinuxDistribution; d == nil || d.ID != "debian" || !strings.HasPrefix(d.VersionID, "12") {
		t.Errorf("distro = %+v, want debian 12", d)
	}
	pkgs := sbom.Packages(s)
	want := []sbom.Package{
		{Name: "liblzma5", Version: "5.6.1-1", Type: "deb", PURL: "pkg:deb/debian/liblzma5@5.6.1-1?arch=amd64&distro=debian-12.5"},
		{Name: "xz-utils", Version: "5.6.1-1", Type: "deb", PURL: "pkg:deb/debian/xz-utils@5.6.1-1?arch=amd64&distro=debian-12.5"},
	}
	for _, w := range want {
		got, ok := findPackage(pkgs, w.Name)
		if !ok {
			t.Errorf("package %s missing from %+v", w.Name, pkgs)
			continue
		}
		if got != w {
			t.Errorf("package %s = %+v, want %+v", w.Name, got, w)
		}
	}
	if len(pkgs) != len(want) {
		t.Errorf("got %d packages, want %d: %+v", len(pkgs), len(want), pkgs)
	}
	if s.Source.Name != digest || s.Source.Version != digest {
		t.Errorf("source name/version = %q/%q, want the digest %s", s.Source.Name, s.Source.Version, digest)
	}
}

func TestAlpinePackages(t *testing.T) {
	dir, digest := layoutOf(t, alpineXZ(t))
	pkgs := sbom.Packages(scan(t, dir, digest))
	want := sbom.Package{Name: "xz-libs", Version: "5.6.1-r0", Type: "apk", PURL: "pkg:apk/alpine/xz-libs@5.6.1-r0?arch=x86_64&distro=alpine-3.20.0"}
	if len(pkgs) != 1 || pkgs[0] != want {
		t.Fatalf("packages = %+v, want [%+v]", pkgs, want)
	}
}

func TestPackagesSortedAndDeduplicated(t *testing.T) {
	img, err := testimage.ImageFromFiles(testimage.DebianStatus(
		testimage.Pkg{Name: "zlib1g", Version: "1:1.2.13.dfsg-1"},
		testimage.Pkg{Name: "bash", Version: "5.2.15-2+b2"},
		testimage.Pkg{Name: "libc6", Version: "2.36-9+deb12u4"},
	))
	if err != nil {
		t.Fatal(err)
	}
	dir, digest := layoutOf(t, img)
	s := scan(t, dir, digest)
	pkgs := sbom.Packages(s)
	var names []string
	for _, p := range pkgs {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "bash,libc6,zlib1g" {
		t.Errorf("names = %s, want bash,libc6,zlib1g", got)
	}
	// a duplicate (same package added again under another ID) is dropped
	dup := s.Artifacts.Packages.Sorted()[0]
	dup.OverrideID(dup.ID() + "-dup")
	s.Artifacts.Packages.Add(dup)
	if n := s.Artifacts.Packages.PackageCount(); n != 4 {
		t.Fatalf("collection holds %d packages, want 4", n)
	}
	if got := sbom.Packages(s); len(got) != 3 {
		t.Errorf("Packages with a duplicate = %+v, want 3 entries", got)
	}
	if got := sbom.Packages(nil); got == nil || len(got) != 0 {
		t.Errorf("Packages(nil) = %#v, want empty non-nil", got)
	}
}

var uuidV5 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestEncodeFormats(t *testing.T) {
	dir, digest := layoutOf(t, debianXZ(t))
	s := scan(t, dir, digest)

	t.Run("cyclonedx-json", func(t *testing.T) {
		b, err := sbom.Encode(s, "cyclonedx-json")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			BOMFormat    string `json:"bomFormat"`
			SerialNumber string `json:"serialNumber"`
			Metadata     struct {
				Timestamp string `json:"timestamp"`
				Component struct {
					Name string `json:"name"`
				} `json:"component"`
			} `json:"metadata"`
			Components []struct {
				Name    string `json:"name"`
				Version string `json:"version"`
				PURL    string `json:"purl"`
			} `json:"components"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		if doc.BOMFormat != "CycloneDX" {
			t.Errorf("bomFormat = %q", doc.BOMFormat)
		}
		if !strings.HasPrefix(doc.SerialNumber, "urn:uuid:") || !uuidV5.MatchString(strings.TrimPrefix(doc.SerialNumber, "urn:uuid:")) {
			t.Errorf("serialNumber = %q, want a version-5 URN UUID", doc.SerialNumber)
		}
		if doc.Metadata.Timestamp != "1970-01-01T00:00:00Z" {
			t.Errorf("timestamp = %q, want the image's creation time", doc.Metadata.Timestamp)
		}
		if doc.Metadata.Component.Name != digest {
			t.Errorf("metadata.component.name = %q, want %s", doc.Metadata.Component.Name, digest)
		}
		found := map[string]string{}
		for _, c := range doc.Components {
			found[c.Name] = c.Version + " " + c.PURL
		}
		hasXZ(t, "component", found)
	})

	t.Run("spdx-json", func(t *testing.T) {
		b, err := sbom.Encode(s, "spdx-json")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			SPDXVersion       string `json:"spdxVersion"`
			DocumentNamespace string `json:"documentNamespace"`
			CreationInfo      struct {
				Created string `json:"created"`
			} `json:"creationInfo"`
			Packages []struct {
				Name         string `json:"name"`
				VersionInfo  string `json:"versionInfo"`
				ExternalRefs []struct {
					ReferenceType    string `json:"referenceType"`
					ReferenceLocator string `json:"referenceLocator"`
				} `json:"externalRefs"`
			} `json:"packages"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		if !strings.HasPrefix(doc.SPDXVersion, "SPDX-2.") {
			t.Errorf("spdxVersion = %q", doc.SPDXVersion)
		}
		ns := doc.DocumentNamespace
		if len(ns) < 36 || !uuidV5.MatchString(ns[len(ns)-36:]) {
			t.Errorf("documentNamespace = %q, want it to end in a version-5 UUID", ns)
		}
		if doc.CreationInfo.Created != "1970-01-01T00:00:00Z" {
			t.Errorf("created = %q", doc.CreationInfo.Created)
		}
		found := map[string]string{}
		for _, p := range doc.Packages {
			for _, r := range p.ExternalRefs {
				if r.ReferenceType == "purl" {
					found[p.Name] = p.VersionInfo + " " + r.ReferenceLocator
				}
			}
		}
		hasXZ(t, "package", found)
	})

	t.Run("syft-json", func(t *testing.T) {
		b, err := sbom.Encode(s, "syft-json")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Artifacts []struct {
				Name, Version, Type, PURL string
			} `json:"artifacts"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		if len(doc.Artifacts) != 2 || doc.Artifacts[0].Name != "liblzma5" || doc.Artifacts[0].Type != "deb" {
			t.Errorf("artifacts = %+v", doc.Artifacts)
		}
	})

	t.Run("unknown", func(t *testing.T) {
		if _, err := sbom.Encode(s, "cyclonedx-xml"); err == nil || !strings.Contains(err.Error(), "cyclonedx-xml") {
			t.Errorf("Encode(cyclonedx-xml) error = %v", err)
		}
	})
}

// hasXZ checks that an SBOM's packages (name -> "version purl") list the
// test image's xz packages, version 5.6.1-1, with Debian purls.
func hasXZ(t *testing.T, what string, found map[string]string) {
	t.Helper()
	for _, name := range []string{"liblzma5", "xz-utils"} {
		if !strings.HasPrefix(found[name], "5.6.1-1 pkg:deb/debian/"+name+"@5.6.1-1") {
			t.Errorf("%s %s = %q", what, name, found[name])
		}
	}
}

// TestDeterministic scans the same image from two different layout dirs
// and requires byte-identical documents in every format, free of the
// layout paths.
func TestDeterministic(t *testing.T) {
	img := debianXZ(t)
	dir1, digest := layoutOf(t, img)
	dir2, _ := layoutOf(t, img)
	s1 := scan(t, dir1, digest)
	s2 := scan(t, dir2, digest)
	for _, f := range sbom.Formats() {
		b1, err := sbom.Encode(s1, f)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := sbom.Encode(s2, f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Errorf("%s: two scans differ:\n%s\n%s", f, b1, b2)
		}
		b3, err := sbom.Encode(s1, f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b3) {
			t.Errorf("%s: two encodes of one SBOM differ", f)
		}
		for _, d := range []string{dir1, dir2, os.TempDir()} {
			if bytes.Contains(b1, []byte(d)) {
				t.Errorf("%s: output mentions the path %s", f, d)
			}
		}
	}
	// a different image gets different document identifiers
	dirA, digestA := layoutOf(t, alpineXZ(t))
	cA, err := sbom.Encode(scan(t, dirA, digestA), "cyclonedx-json")
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := sbom.Encode(s1, "cyclonedx-json")
	if serial(t, cA) == serial(t, c1) {
		t.Errorf("two images share the serial number %s", serial(t, c1))
	}
}

func serial(t *testing.T, cdx []byte) string {
	var doc struct {
		SerialNumber string `json:"serialNumber"`
	}
	if err := json.Unmarshal(cdx, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.SerialNumber
}

func TestDocumentTimeFromImageConfig(t *testing.T) {
	img := alpineXZ(t)
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.Created.Time = cfg.Created.Add(1_700_000_000e9).UTC() // 2023-11-14T22:13:20Z
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir, digest := layoutOf(t, img)
	b, err := sbom.Encode(scan(t, dir, digest), "cyclonedx-json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"timestamp":"2023-11-14T22:13:20Z"`)) {
		t.Errorf("CycloneDX timestamp is not the image's creation time: %.300s", b)
	}
}

// TestCosignLayout scans an image from a layout shaped like `cosign save`
// output (image, sigs and atts manifests in one index.json).
func TestCosignLayout(t *testing.T) {
	img := debianXZ(t)
	dir := filepath.Join(t.TempDir(), "cosign")
	if err := testimage.WriteCosignLayout(dir, img); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{testimage.KindImage, testimage.KindSignatures, testimage.KindAttestations} {
		if !bytes.Contains(raw, []byte(kind)) {
			t.Fatalf("index.json lacks %s: %s", kind, raw)
		}
	}
	digest := digestOf(t, img)
	s := scan(t, dir, digest)
	if _, ok := findPackage(sbom.Packages(s), "liblzma5"); !ok {
		t.Fatalf("liblzma5 missing: %+v", sbom.Packages(s))
	}
	// the extraction is invisible in the result
	plainDir, _ := layoutOf(t, img)
	want, _ := sbom.Encode(scan(t, plainDir, digest), "syft-json")
	got, _ := sbom.Encode(s, "syft-json")
	if !bytes.Equal(got, want) {
		t.Errorf("SBOM from the cosign layout differs from the plain layout's")
	}
	// the layout is left as it was and no temporary layout is left behind
	after, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil || !bytes.Equal(after, raw) {
		t.Errorf("index.json changed: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(os.TempDir(), "kubegate-sbom-layout-*"))
	for _, l := range left {
		if st, err := os.Lstat(filepath.Join(l, "blobs")); err == nil && st.Mode()&os.ModeSymlink != 0 {
			if target, _ := os.Readlink(filepath.Join(l, "blobs")); strings.HasPrefix(target, dir) {
				t.Errorf("temporary layout %s left behind", l)
			}
		}
	}
}

// TestCosignIndexLayout: a multi-platform image saved by cosign is a
// nested index; each platform's image is found inside it.
func TestCosignIndexLayout(t *testing.T) {
	amd := debianXZ(t)
	arm := alpineXZ(t)
	cfg, err := arm.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture = "arm64"
	if arm, err = mutate.ConfigFile(arm, cfg); err != nil {
		t.Fatal(err)
	}
	idx, err := testimage.Index(amd, arm)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "cosign-index")
	if err := testimage.WriteCosignIndexLayout(dir, idx); err != nil {
		t.Fatal(err)
	}

	if p, ok := findPackage(sbom.Packages(scan(t, dir, digestOf(t, amd))), "liblzma5"); !ok || p.Type != "deb" {
		t.Errorf("amd64 image: liblzma5 missing")
	}
	s := scan(t, dir, digestOf(t, arm))
	if p, ok := findPackage(sbom.Packages(s), "xz-libs"); !ok || p.Type != "apk" {
		t.Errorf("arm64 image: xz-libs missing")
	}

	idxDigest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	_, err = generator(t).FromLayout(context.Background(), dir, idxDigest.String())
	if err == nil || !strings.Contains(err.Error(), "image index") || !strings.Contains(err.Error(), idxDigest.String()) {
		t.Errorf("scanning the index digest: error = %v, want an 'image index' error naming it", err)
	}
}

func TestErrors(t *testing.T) {
	g := generator(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "cosign")
	img := debianXZ(t)
	if err := testimage.WriteCosignLayout(dir, img); err != nil {
		t.Fatal(err)
	}
	missing := "sha256:" + strings.Repeat("ab", 32)

	t.Run("missing digest", func(t *testing.T) {
		_, err := g.FromLayout(ctx, dir, missing)
		if err == nil {
			t.Fatal("no error")
		}
		msg := err.Error()
		for _, want := range []string{missing, dir, "not found", "3 manifests", testimage.KindSignatures, digestOf(t, img)} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q lacks %q", msg, want)
			}
		}
	})
	t.Run("missing digest single image", func(t *testing.T) {
		plain, _ := layoutOf(t, img)
		_, err := g.FromLayout(ctx, plain, missing)
		if err == nil || !strings.Contains(err.Error(), "not found") || !strings.Contains(err.Error(), missing) {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("invalid digest", func(t *testing.T) {
		_, err := g.FromLayout(ctx, dir, "latest")
		if err == nil || !strings.Contains(err.Error(), `"latest"`) || !strings.Contains(err.Error(), "invalid manifest digest") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("not a layout", func(t *testing.T) {
		empty := t.TempDir()
		_, err := g.FromLayout(ctx, empty, digestOf(t, img))
		if err == nil || !strings.Contains(err.Error(), empty) || !strings.Contains(err.Error(), "index.json") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("missing blob", func(t *testing.T) {
		plain, digest := layoutOf(t, img)
		layer, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		h, _ := layer[0].Digest()
		if err := os.Remove(filepath.Join(plain, "blobs", h.Algorithm, h.Hex)); err != nil {
			t.Fatal(err)
		}
		_, err = g.FromLayout(ctx, plain, digest)
		if err == nil || !strings.Contains(err.Error(), digest) {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		plain, digest := layoutOf(t, img)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := g.FromLayout(cctx, plain, digest); err == nil {
			t.Errorf("no error with a canceled context")
		}
	})
}

func TestDecodeRoundTrip(t *testing.T) {
	dir, digest := layoutOf(t, debianXZ(t))
	s := scan(t, dir, digest)
	syftJSON, err := sbom.Encode(s, "syft-json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := sbom.Decode(syftJSON)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sbom.Packages(d), sbom.Packages(s); !equalPackages(got, want) {
		t.Errorf("decoded packages = %+v, want %+v", got, want)
	}
	for _, f := range sbom.Formats() {
		direct, err := sbom.Encode(s, f)
		if err != nil {
			t.Fatal(err)
		}
		again, err := sbom.Encode(d, f)
		if err != nil {
			t.Fatalf("%s after Decode: %v", f, err)
		}
		if !bytes.Equal(direct, again) {
			t.Errorf("%s: encoding the decoded SBOM differs from encoding the original:\n%s\n%s", f, direct, again)
		}
	}
	if _, err := sbom.Decode([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.6"}`)); err == nil {
		t.Errorf("Decode accepted CycloneDX")
	}
	if _, err := sbom.Decode([]byte(`not json`)); err == nil {
		t.Errorf("Decode accepted garbage")
	}
}

func equalPackages(a, b []sbom.Package) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestConcurrentScans(t *testing.T) {
	dirD, digestD := layoutOf(t, debianXZ(t))
	dirA, digestA := layoutOf(t, alpineXZ(t))
	g := generator(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		dir, digest, name := dirD, digestD, "liblzma5"
		if i%2 == 1 {
			dir, digest, name = dirA, digestA, "xz-libs"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := g.FromLayout(context.Background(), dir, digest)
			if err != nil {
				errs <- err
				return
			}
			if _, ok := findPackage(sbom.Packages(s), name); !ok {
				errs <- os.ErrNotExist
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestFormatsAndFileName(t *testing.T) {
	if got := strings.Join(sbom.Formats(), ","); got != "cyclonedx-json,spdx-json,syft-json" {
		t.Errorf("Formats = %s", got)
	}
	d := "sha256:" + strings.Repeat("0f", 32)
	hex := strings.Repeat("0f", 32)
	for format, want := range map[string]string{
		"cyclonedx-json": "sha256-" + hex + ".cdx.json",
		"spdx-json":      "sha256-" + hex + ".spdx.json",
		"syft-json":      "sha256-" + hex + ".syft.json",
		"other/x":        "sha256-" + hex + ".other-x.json",
	} {
		if got := sbom.FileName(d, format); got != want {
			t.Errorf("FileName(%s) = %s, want %s", format, got, want)
		}
	}
	if got := sbom.FileName("../../etc/passwd", "syft-json"); strings.Contains(got, "/") {
		t.Errorf("FileName kept a path separator: %s", got)
	}
}

func BenchmarkFromLayout(b *testing.B) {
	g := generator(b)
	dir, digest := layoutOf(b, debianXZ(b))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := g.FromLayout(ctx, dir, digest); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFromLayoutCosign(b *testing.B) {
	g := generator(b)
	img := debianXZ(b)
	dir := filepath.Join(b.TempDir(), "cosign")
	if err := testimage.WriteCosignLayout(dir, img); err != nil {
		b.Fatal(err)
	}
	digest := digestOf(b, img)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := g.FromLayout(ctx, dir, digest); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := sbom.New(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
