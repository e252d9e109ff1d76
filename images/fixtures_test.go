package images

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/cosign/v2/pkg/oci"
	"github.com/sigstore/cosign/v2/pkg/oci/layout"
	"github.com/sigstore/cosign/v2/pkg/oci/signed"

	"github.com/kubegate/kubegate/images/internal/testimage"
)

var updateFixtures = flag.Bool("update-fixtures", false, "rewrite fixtures/images: the bundled images, signed with a new key")

// fixtureDir holds the images that the README's first command checks
// offline, as `cosign save` writes them, and the public key they are
// signed with.
const fixtureDir = "../fixtures/images"

// fixtureImages are the images the fixtures' manifests name. toolbox is
// left unsigned, and netshoot holds the backdoored liblzma, so that the
// bundled run shows images.unsigned and images.compromised-package.
var fixtureImages = []struct {
	ref    string
	pkgs   []testimage.Pkg
	signed bool
}{
	{"registry.example.com/shop/web:1.4.2", []testimage.Pkg{{Name: "libc6", Version: "2.36-9+deb12u7"}, {Name: "libssl3", Version: "3.0.13-1~deb12u1"}}, true},
	{"registry.example.com/shop/web:1.5.0", []testimage.Pkg{{Name: "libc6", Version: "2.36-9+deb12u8"}, {Name: "libssl3", Version: "3.0.14-1~deb12u2"}}, true},
	{"registry.example.com/tools/netshoot:v0.13", []testimage.Pkg{{Name: "libc6", Version: "2.36-9+deb12u7"}, {Name: "liblzma5", Version: "5.6.1-1"}, {Name: "xz-utils", Version: "5.6.1-1"}}, true},
	{"registry.example.com/batch/report:2.0.1", []testimage.Pkg{{Name: "libc6", Version: "2.36-9+deb12u8"}, {Name: "python3.11", Version: "3.11.2-6+deb12u2"}}, true},
	{"registry.example.com/tools/toolbox:latest", []testimage.Pkg{{Name: "busybox", Version: "1:1.35.0-4+b3"}}, false},
	{"registry.example.com/tools/probe:1.0", []testimage.Pkg{{Name: "curl", Version: "7.88.1-10+deb12u7"}}, true},
}

// TestFixtureImages checks that the bundled layouts verify with the
// bundled key (signed ones) and hold what the fixtures promise; with
// -update-fixtures it writes them afresh.
func TestFixtureImages(t *testing.T) {
	pub := filepath.Join(fixtureDir, "cosign.pub")
	if *updateFixtures {
		writeFixtureImages(t, pub)
	}
	c, err := New(Options{Layout: fixtureDir, SBOM: true, Verify: &VerifyOptions{Keys: []string{pub}, IgnoreTlog: true}})
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, f := range fixtureImages {
		refs = append(refs, f.ref)
	}
	for i, got := range c.Check(context.Background(), refs) {
		f := fixtureImages[i]
		if got.Error != "" {
			t.Errorf("%s: %s (regenerate with go test ./images -run TestFixtureImages -update-fixtures)", f.ref, got.Error)
			continue
		}
		if got.Signature.Verified != f.signed {
			t.Errorf("%s: verified %v, want %v (%s)", f.ref, got.Signature.Verified, f.signed, got.Signature.Reason)
		}
		if len(got.Packages) != len(f.pkgs) {
			t.Errorf("%s: SBOM lists %v, want %v", f.ref, got.Packages, f.pkgs)
		}
	}
}

func writeFixtureImages(t *testing.T, pub string) {
	if err := os.RemoveAll(fixtureDir); err != nil {
		t.Fatal(err)
	}
	// The private key is thrown away: the fixtures only need verifying.
	kb, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return nil, nil })
	if err != nil {
		t.Fatal(err)
	}
	sv, err := cosign.LoadPrivateKey(kb.PrivateBytes, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	signer := &Signer{SV: sv}
	os.MkdirAll(fixtureDir, 0o755)
	if err := os.WriteFile(pub, kb.PublicBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtureImages {
		img, err := testimage.ImageFromFiles(testimage.DebianStatus(f.pkgs...))
		if err != nil {
			t.Fatal(err)
		}
		r, err := ParseRef(f.ref)
		if err != nil {
			t.Fatal(err)
		}
		var se oci.SignedEntity = signed.Image(img)
		if f.signed {
			h, _ := img.Digest()
			if se, err = signer.Sign(context.Background(), se, r.repo, h); err != nil {
				t.Fatal(err)
			}
		}
		dir := filepath.Join(fixtureDir, filepath.FromSlash(r.Name()), r.Tag)
		if err := layout.WriteSignedImage(dir, se.(oci.SignedImage)); err != nil {
			t.Fatal(err)
		}
	}
}
