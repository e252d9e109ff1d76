package images

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/cosign/v2/pkg/oci"
	"github.com/sigstore/cosign/v2/pkg/oci/layout"
	"github.com/sigstore/cosign/v2/pkg/oci/signed"

	"github.com/kubegate/kubegate/images/internal/testimage"
)

// debian builds a small image whose dpkg database lists pkgs.
func debian(t testing.TB, pkgs ...testimage.Pkg) v1.Image {
	t.Helper()
	img, err := testimage.ImageFromFiles(testimage.DebianStatus(pkgs...))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestParseRef(t *testing.T) {
	for in, want := range map[string]string{
		"nginx":                   "docker.io library/nginx  ",
		"nginx:1.27":              "docker.io library/nginx 1.27 ",
		"ghcr.io/acme/web:latest": "ghcr.io acme/web latest ",
		"localhost:5000/web":      "localhost:5000 web  ",
		"localhost:5000/web:2@sha256:" + strings.Repeat("a", 64): "localhost:5000 web 2 sha256:" + strings.Repeat("a", 64),
	} {
		r, err := ParseRef(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := fmt.Sprintf("%s %s %s %s", r.Registry, r.Repository, r.Tag, r.Digest); got != want {
			t.Errorf("%s: got %q, want %q", in, got, want)
		}
	}
	if _, err := ParseRef("Not A Ref!"); err == nil || !strings.Contains(err.Error(), `"Not A Ref!"`) {
		t.Errorf("a bad reference gives %v", err)
	}
}

func TestResolvesTagToDigest(t *testing.T) {
	reg := newTestRegistry(t)
	ref, h := reg.push("shop/web", "1.4.2", debian(t))
	img := checkOne(t, Options{Sleep: (&noSleep{}).sleep}, ref)
	if img.Error != "" || img.Resolved != h.String() || img.Pinned != ref+"@"+h.String() {
		t.Fatalf("got %+v, want resolved %s", img, h)
	}
}

func TestVerifiesKeySignatures(t *testing.T) {
	reg := newTestRegistry(t)
	pub, signer := keyPair(t)
	otherPub, _ := keyPair(t)
	ref, h := reg.push("shop/web", "1", debian(t, testimage.Pkg{Name: "bash", Version: "5.2-1"}))
	reg.sign(signer, ref, h)
	unsignedRef, _ := reg.push("shop/other", "1", debian(t, testimage.Pkg{Name: "zsh", Version: "5.9-4"}))

	verify := func(ref string, keys ...string) *Image {
		return checkOne(t, Options{Verify: &VerifyOptions{Keys: keys, IgnoreTlog: true}, Sleep: (&noSleep{}).sleep}, ref)
	}
	if got := verify(ref, pub); got.Error != "" || !got.Signature.Verified || got.Signature.Signers[0] != "key "+pub {
		t.Errorf("the right key: %+v %+v", got, got.Signature)
	}
	if got := verify(ref, otherPub); got.Error != "" || got.Signature.Verified || !strings.Contains(got.Signature.Reason, "no attached signature verifies") {
		t.Errorf("a wrong key must not verify: %+v", got.Signature)
	}
	if got := verify(ref, otherPub, pub); !got.Signature.Verified {
		t.Errorf("any of several keys will do: %+v", got.Signature)
	}
	if got := verify(unsignedRef, pub); got.Signature.Verified || !strings.Contains(got.Signature.Reason, "no cosign signature is attached") {
		t.Errorf("an unsigned image: %+v", got.Signature)
	}
}

// A signature is bound to a digest: pushing other content to the tag, or
// copying a valid signature onto another image's .sig tag, must not pass.
func TestRejectsTamperedAndCopiedSignatures(t *testing.T) {
	reg := newTestRegistry(t)
	pub, signer := keyPair(t)
	ref, h := reg.push("shop/web", "1", debian(t, testimage.Pkg{Name: "bash", Version: "5.2-1"}))
	reg.sign(signer, ref, h)
	opts := Options{Verify: &VerifyOptions{Keys: []string{pub}, IgnoreTlog: true}, Sleep: (&noSleep{}).sleep}

	// Tampered: the tag now points at other content.
	evil := debian(t, testimage.Pkg{Name: "bash", Version: "5.2-1"}, testimage.Pkg{Name: "backdoor", Version: "1"})
	_, evilHash := reg.push("shop/web", "1", evil)
	if got := checkOne(t, opts, ref); got.Resolved != evilHash.String() || got.Signature.Verified {
		t.Errorf("tampered image passed: %+v %+v", got, got.Signature)
	}

	// Copied: the good image's signature manifest, written under the evil
	// image's signature tag.
	repo := mustRef(ref).Context()
	goodSig, err := remote.Image(repo.Tag(h.Algorithm + "-" + h.Hex + ".sig"))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(repo.Tag(evilHash.Algorithm+"-"+evilHash.Hex+".sig"), goodSig); err != nil {
		t.Fatal(err)
	}
	got := checkOne(t, opts, ref)
	if got.Signature.Verified {
		t.Fatalf("a signature copied from another image verified: %+v", got.Signature)
	}
	if !strings.Contains(got.Signature.Reason, "digest") {
		t.Errorf("the reason should say the digest does not match: %s", got.Signature.Reason)
	}
}

func TestKeylessIdentity(t *testing.T) {
	reg := newTestRegistry(t)
	ca := newTestCA(t)
	const issuer = "https://token.actions.githubusercontent.com"
	const identity = "https://github.com/acme/web/.github/workflows/release.yaml@refs/heads/main"
	ref, h := reg.push("acme/web", "1", debian(t))
	reg.sign(ca.signer(t, identity, issuer), ref, h)
	check := func(id, iss string) *Image {
		return checkOne(t, Options{Verify: &VerifyOptions{Identity: id, Issuer: iss, Roots: ca.rootPEM, IgnoreTlog: true}, Sleep: (&noSleep{}).sleep}, ref)
	}
	if got := check(`https://github\.com/acme/web/.*`, `https://token\.actions\.githubusercontent\.com`); got.Error != "" || !got.Signature.Verified {
		t.Fatalf("the right identity: %+v %+v", got, got.Signature)
	} else if !strings.Contains(got.Signature.Signers[0], identity) || !strings.Contains(got.Signature.Signers[0], issuer) {
		t.Errorf("signers should name identity and issuer: %v", got.Signature.Signers)
	}
	if got := check(`https://github\.com/evil/.*`, `https://token\.actions\.githubusercontent\.com`); got.Signature.Verified {
		t.Errorf("another identity passed: %+v", got.Signature)
	}
	if got := check(`https://github\.com/acme/web/.*`, `https://accounts\.google\.com`); got.Signature.Verified {
		t.Errorf("another issuer passed: %+v", got.Signature)
	}
	// Anchored: a prefix of the identity is not the identity.
	if got := check(`https://github\.com/acme`, `https://token\.actions\.githubusercontent\.com`); got.Signature.Verified {
		t.Errorf("an unanchored prefix matched: %+v", got.Signature)
	}
	// A certificate from another CA does not chain.
	other := newTestCA(t)
	ref2, h2 := reg.push("acme/web", "2", debian(t, testimage.Pkg{Name: "a", Version: "1"}))
	reg.sign(other.signer(t, identity, issuer), ref2, h2)
	got := checkOne(t, Options{Verify: &VerifyOptions{Identity: ".*", Issuer: ".*", Roots: ca.rootPEM, IgnoreTlog: true}, Sleep: (&noSleep{}).sleep}, ref2)
	if got.Signature.Verified {
		t.Errorf("a certificate from another CA passed: %+v", got.Signature)
	}
	if _, err := New(Options{Verify: &VerifyOptions{Identity: ".*"}}); err == nil || !strings.Contains(err.Error(), "both --verify-identity and --verify-issuer") {
		t.Errorf("keyless without an issuer must be refused: %v", err)
	}
}

func TestRefusesKeyURIsAndBadKeys(t *testing.T) {
	for _, k := range []string{"k8s://ns/secret", "awskms://alias/x", "gcpkms://projects/p"} {
		if _, err := New(Options{Verify: &VerifyOptions{Keys: []string{k}}}); err == nil || !strings.Contains(err.Error(), "cosign public-key --key "+k) {
			t.Errorf("%s: %v", k, err)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.pub")
	os.WriteFile(bad, []byte("not a key"), 0o644)
	if _, err := New(Options{Verify: &VerifyOptions{Keys: []string{bad}}}); err == nil || !strings.Contains(err.Error(), bad+": not a PEM public key") {
		t.Errorf("bad key file: %v", err)
	}
}

func TestAttestationsReadBack(t *testing.T) {
	reg := newTestRegistry(t)
	pub, signer := keyPair(t)
	_, other := keyPair(t)
	ref, h := reg.push("shop/web", "1", debian(t))
	reg.sign(signer, ref, h)
	reg.attest(signer, ref, h, "https://slsa.dev/provenance/v1", `{"buildDefinition":{"buildType":"https://example.com/build"}}`)
	reg.attest(other, ref, h, "https://evil.example/claims", `{}`)
	got := checkOne(t, Options{Verify: &VerifyOptions{Keys: []string{pub}, IgnoreTlog: true}, Sleep: (&noSleep{}).sleep}, ref)
	if got.Error != "" || len(got.Attestations) != 1 {
		t.Fatalf("want the one attestation signed with the trusted key, got %+v (%s)", got.Attestations, got.Error)
	}
	a := got.Attestations[0]
	bt, _ := a.Predicate.(map[string]any)["buildDefinition"].(map[string]any)
	if a.PredicateType != "https://slsa.dev/provenance/v1" || bt["buildType"] != "https://example.com/build" {
		t.Errorf("attestation: %+v", a)
	}
}

func TestSBOMAndCache(t *testing.T) {
	reg := newTestRegistry(t)
	ref, h := reg.push("shop/xz", "5.6.1", debian(t, testimage.Pkg{Name: "liblzma5", Version: "5.6.1-1"}, testimage.Pkg{Name: "xz-utils", Version: "5.6.1-1"}))
	cache := t.TempDir()
	sbomDir := t.TempDir()
	opts := Options{SBOM: true, SBOMDir: sbomDir, CacheDir: cache, Sleep: (&noSleep{}).sleep}
	reg.requests()
	first := checkOne(t, opts, ref)
	if first.Error != "" || !first.Scanned {
		t.Fatalf("%+v", first)
	}
	var names []string
	for _, p := range first.Packages {
		names = append(names, p.Name+" "+p.Version+" "+p.Type)
	}
	if !strings.Contains(strings.Join(names, ","), "liblzma5 5.6.1-1 deb") {
		t.Errorf("packages: %v", names)
	}
	cold := reg.requests()
	if contains(cold, "/blobs/") == 0 {
		t.Fatalf("the first run should pull layers: %v", cold)
	}
	sbomFile := filepath.Join(sbomDir, "sha256-"+h.Hex+".cdx.json")
	b, err := os.ReadFile(sbomFile)
	if err != nil || !strings.Contains(string(b), "liblzma5") {
		t.Fatalf("SBOM file %s: %v", sbomFile, err)
	}

	second := checkOne(t, opts, ref)
	warm := reg.requests()
	if len(second.Packages) != len(first.Packages) {
		t.Errorf("cached SBOM lists %d packages, first run %d", len(second.Packages), len(first.Packages))
	}
	// The tag is re-resolved (tags move); nothing keyed by digest is
	// fetched again.
	if contains(warm, "/blobs/") != 0 || contains(warm, "/manifests/5.6.1") == 0 || contains(warm, "/manifests/sha256") != 0 {
		t.Errorf("warm run requests: %v", warm)
	}
	// Pinned by digest and cached: no request at all.
	checkOne(t, opts, ref+"@"+h.String())
	if r := reg.requests(); len(r) != 0 {
		t.Errorf("a cached digest still asked the registry: %v", r)
	}
}

func TestRegistryFaults(t *testing.T) {
	reg := newTestRegistry(t)
	ref, _ := reg.push("shop/web", "1", debian(t))
	manifest := func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/manifests/") }

	t.Run("500s", func(t *testing.T) {
		reg.setFault(func(w http.ResponseWriter, r *http.Request) bool {
			if manifest(r) {
				w.WriteHeader(http.StatusInternalServerError)
				return true
			}
			return false
		})
		reg.requests()
		sl := &noSleep{}
		got := checkOne(t, Options{Sleep: sl.sleep, Attempts: 3}, ref)
		if !strings.Contains(got.Error, "registry "+reg.host+" failed for "+ref+" (HTTP 500) after retries") {
			t.Errorf("error: %s", got.Error)
		}
		if n := contains(reg.requests(), "/manifests/"); n != 3 || len(sl.waits) != 2 {
			t.Errorf("want 3 attempts and 2 waits, got %d requests and waits %v", n, sl.waits)
		}
	})
	t.Run("429 with Retry-After", func(t *testing.T) {
		n := 0
		reg.setFault(func(w http.ResponseWriter, r *http.Request) bool {
			if manifest(r) && n < 2 {
				n++
				w.Header().Set("Retry-After", "7")
				w.WriteHeader(http.StatusTooManyRequests)
				return true
			}
			return false
		})
		sl := &noSleep{}
		got := checkOne(t, Options{Sleep: sl.sleep}, ref)
		if got.Error != "" || got.Resolved == "" {
			t.Fatalf("should succeed after the registry's wait: %+v", got)
		}
		if fmt.Sprint(sl.waits) != "[7s 7s]" {
			t.Errorf("waits %v, want Retry-After's 7s twice", sl.waits)
		}
	})
	t.Run("429 asking for too long", func(t *testing.T) {
		reg.setFault(func(w http.ResponseWriter, r *http.Request) bool {
			if manifest(r) {
				w.Header().Set("Retry-After", "3600")
				w.WriteHeader(http.StatusTooManyRequests)
				return true
			}
			return false
		})
		sl := &noSleep{}
		got := checkOne(t, Options{Sleep: sl.sleep}, ref)
		if !strings.Contains(got.Error, "rate-limited") || len(sl.waits) != 0 {
			t.Errorf("error %q, waits %v", got.Error, sl.waits)
		}
	})
	t.Run("no answer", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		reg.setFault(func(w http.ResponseWriter, r *http.Request) bool {
			if manifest(r) {
				<-release
				return true
			}
			return false
		})
		got := checkOne(t, Options{Sleep: (&noSleep{}).sleep, Timeout: 50 * time.Millisecond, Attempts: 2}, ref)
		if !strings.Contains(got.Error, "did not answer in time") {
			t.Errorf("error: %s", got.Error)
		}
	})
	t.Run("refused, credentials never echoed", func(t *testing.T) {
		const secret = "s3cr3t-planted-token"
		cfg := filepath.Join(t.TempDir())
		auth := base64.StdEncoding.EncodeToString([]byte("robot:" + secret))
		os.WriteFile(filepath.Join(cfg, "config.json"), []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.host, auth)), 0o600)
		t.Setenv("DOCKER_CONFIG", cfg)
		reg.setFault(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Header.Get("Authorization") == "" {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				w.WriteHeader(http.StatusUnauthorized)
				return true
			}
			// A hostile registry echoes what it was sent.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `{"errors":[{"code":"DENIED","message":"denied for %s (%s)"}]}`, r.Header.Get("Authorization"), secret)
			return true
		})
		c, err := New(Options{Sleep: (&noSleep{}).sleep})
		if err != nil {
			t.Fatal(err)
		}
		got := c.Check(context.Background(), []string{ref})[0]
		if !strings.Contains(got.Error, "registry "+reg.host+" refused access to "+ref+" (HTTP 403)") {
			t.Errorf("error: %s", got.Error)
		}
		if strings.Contains(got.Error, secret) || strings.Contains(got.Error, auth) {
			t.Errorf("the credential leaked: %s", got.Error)
		}
		if s := strings.Join(c.Secrets(), " "); !strings.Contains(s, secret) {
			t.Errorf("the secret was not recorded for masking: %q", s)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		reg.setFault(nil)
		got := checkOne(t, Options{Sleep: (&noSleep{}).sleep, Attempts: 2}, "127.0.0.1:1/shop/web:1")
		if !strings.Contains(got.Error, "cannot reach registry 127.0.0.1:1 for 127.0.0.1:1/shop/web:1") {
			t.Errorf("error: %s", got.Error)
		}
	})
}

func TestOffline(t *testing.T) {
	got := checkOne(t, Options{Offline: true}, "nginx:1.27")
	if got.Skipped == "" || got.Resolved != "" || got.Registry != "docker.io" || got.Tag != "1.27" {
		t.Errorf("%+v", got)
	}
}

// An OCI layout as cosign save writes it: resolved, verified and scanned
// without any registry.
func TestLayoutSource(t *testing.T) {
	dir := t.TempDir()
	pub, signer := keyPair(t)
	img := debian(t, testimage.Pkg{Name: "liblzma5", Version: "5.6.1-1"})
	h, _ := img.Digest()
	repo := mustRef("registry.example.com/shop/web:1.5.0").Context()
	se, err := signer.Sign(context.Background(), signed.Image(img), repo, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := layout.WriteSignedImage(filepath.Join(dir, "registry.example.com/shop/web/1.5.0"), se.(oci.SignedImage)); err != nil {
		t.Fatal(err)
	}
	opts := Options{Layout: dir, SBOM: true, Verify: &VerifyOptions{Keys: []string{pub}, IgnoreTlog: true}}
	got := checkOne(t, opts, "registry.example.com/shop/web:1.5.0")
	if got.Error != "" || got.Resolved != h.String() || !got.Signature.Verified || len(got.Packages) == 0 {
		t.Fatalf("%+v %+v", got, got.Signature)
	}
	if got := checkOne(t, opts, "registry.example.com/shop/web@"+h.String()); got.Error != "" || !got.Signature.Verified {
		t.Errorf("by digest: %+v", got)
	}
	got = checkOne(t, opts, "registry.example.com/shop/web:1.6.0")
	if !strings.Contains(got.Error, `image "registry.example.com/shop/web:1.6.0" is not in the image layout directory (looked for `+filepath.Join(dir, "registry.example.com/shop/web/1.6.0")) {
		t.Errorf("missing image: %s", got.Error)
	}
	// A blob that is a link out of the directory is refused, not read.
	blobs := filepath.Join(dir, "registry.example.com/shop/web/1.5.0/blobs/sha256")
	entries, _ := os.ReadDir(blobs)
	victim := filepath.Join(blobs, entries[0].Name())
	os.Remove(victim)
	if err := os.Symlink("/etc/hostname", victim); err != nil {
		t.Fatal(err)
	}
	if got := checkOne(t, opts, "registry.example.com/shop/web:1.5.0"); !strings.Contains(got.Error, "is a symbolic link that leads outside the image layout directory") {
		t.Errorf("a link out of the layout: %+v", got)
	}
	if got := checkOne(t, opts, "registry.example.com/../../etc:1"); got.Error == "" {
		t.Errorf("a reference escaping the layout directory: %+v", got)
	}
}

// kubegate sign's path: sign and attach the SBOM, then check verifies both.
func TestSignAllThenVerify(t *testing.T) {
	reg := newTestRegistry(t)
	pub, signer := keyPair(t)
	ref, h := reg.push("shop/web", "1", debian(t, testimage.Pkg{Name: "bash", Version: "5.2-1"}))
	c, err := New(Options{SBOM: true, Sleep: (&noSleep{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	res := c.SignAll(context.Background(), []string{ref}, signer)
	if res[0].Error != "" || res[0].Digest != h.String() || !slices.Equal(res[0].Attested, []string{SBOMPredicateType}) {
		t.Fatalf("%+v", res[0])
	}
	got := checkOne(t, Options{Verify: &VerifyOptions{Keys: []string{pub}, IgnoreTlog: true}, Sleep: (&noSleep{}).sleep}, ref)
	if !got.Signature.Verified || len(got.Attestations) != 1 || got.Attestations[0].PredicateType != SBOMPredicateType {
		t.Fatalf("after signing: %+v %+v", got.Signature, got.Attestations)
	}
	if !strings.Contains(fmt.Sprint(got.Attestations[0].Predicate), "bash") {
		t.Errorf("the attested SBOM does not list the image's package")
	}
	// A release's provenance is attested besides the SBOM.
	slsa, err := PredicateType("slsaprovenance1")
	if err != nil || slsa != "https://slsa.dev/provenance/v1" {
		t.Fatalf("slsaprovenance1: %q, %v", slsa, err)
	}
	signer.Predicates = []Predicate{{Type: slsa, Body: []byte(`{"buildDefinition":{"buildType":"https://example.com/release"}}`)}}
	res = c.SignAll(context.Background(), []string{ref}, signer)
	if res[0].Error != "" || !slices.Equal(res[0].Attested, []string{SBOMPredicateType, slsa}) {
		t.Fatalf("with a provenance: %+v", res[0])
	}
	got = checkOne(t, Options{Verify: &VerifyOptions{Keys: []string{pub}, IgnoreTlog: true}, Sleep: (&noSleep{}).sleep}, ref)
	var types []string
	for _, a := range got.Attestations {
		types = append(types, a.PredicateType)
	}
	if !slices.Contains(types, slsa) || !slices.Contains(types, SBOMPredicateType) {
		t.Errorf("attestations after signing with a provenance: %v", types)
	}
	if _, err := PredicateType("slsa"); err == nil || !strings.Contains(err.Error(), "slsaprovenance1") {
		t.Errorf("an unknown short name: %v", err)
	}
	signer.Predicates = nil
	off, _ := New(Options{Offline: true})
	if r := off.SignAll(context.Background(), []string{ref}, signer); !strings.Contains(r[0].Error, "cannot sign offline") {
		t.Errorf("offline signing: %+v", r[0])
	}
}

func TestBounds(t *testing.T) {
	reg := newTestRegistry(t)
	ref, _ := reg.push("shop/big", "1", debian(t, testimage.Pkg{Name: "a", Version: "1"}))
	reg.requests()
	got := checkOne(t, Options{SBOM: true, MaxImageSize: 10, Sleep: (&noSleep{}).sleep}, ref)
	if !strings.Contains(got.Error, "above the 10-byte bound on images kubegate pulls to scan") {
		t.Errorf("size bound: %s", got.Error)
	}
	if n := contains(reg.requests(), "/blobs/"); n != 0 {
		t.Errorf("%d layers pulled before the size was checked", n)
	}
	// The whole check of one image is bounded, whatever the registry does.
	release := make(chan struct{})
	defer close(release)
	reg.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/manifests/") {
			<-release
			return true
		}
		return false
	})
	got = checkOne(t, Options{ImageTimeout: 20 * time.Millisecond, Sleep: (&noSleep{}).sleep}, ref)
	if !strings.Contains(got.Error, "did not answer in time") {
		t.Errorf("image timeout: %s", got.Error)
	}
}

// A multi-platform image: the tag resolves to the index (what to pin and
// what is signed) and the SBOM is the platform's image.
func TestMultiPlatformIndex(t *testing.T) {
	reg := newTestRegistry(t)
	pub, signer := keyPair(t)
	amd := debian(t, testimage.Pkg{Name: "libc6", Version: "2.36-9"})
	armBase := debian(t, testimage.Pkg{Name: "libc6", Version: "2.36-9"}, testimage.Pkg{Name: "arm-only", Version: "1"})
	cfg, _ := armBase.ConfigFile()
	cfg.Architecture = "arm64"
	arm, err := mutate.ConfigFile(armBase, cfg)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := testimage.Index(amd, arm)
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.host + "/multi/app:1"
	if err := remote.WriteIndex(mustRef(ref), idx); err != nil {
		t.Fatal(err)
	}
	h, _ := idx.Digest()
	reg.sign(signer, ref, h)
	for platform, want := range map[string]int{"linux/amd64": 1, "linux/arm64": 2} {
		p, _ := v1.ParsePlatform(platform)
		got := checkOne(t, Options{SBOM: true, Platform: *p, Verify: &VerifyOptions{Keys: []string{pub}, IgnoreTlog: true}, Sleep: (&noSleep{}).sleep}, ref)
		if got.Error != "" || got.Resolved != h.String() || !got.Signature.Verified || len(got.Packages) != want {
			t.Errorf("%s: %+v %+v", platform, got, got.Signature)
		}
	}
}

// noEscape: links that stay inside the layout directory are read, links out
// of it refused, also when they hide behind a linked directory.
func TestLayoutLinks(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		t.Helper()
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(outside, "secret"), "x")
	write(filepath.Join(root, "shared/blob"), "b")
	write(filepath.Join(root, "ok/blobs/sha256/a"), "a")
	link("../../../shared/blob", filepath.Join(root, "ok/blobs/sha256/b"))
	link(filepath.Join(root, "shared"), filepath.Join(root, "ok/blobs/more"))
	if err := noEscape(root, filepath.Join(root, "ok")); err != nil {
		t.Errorf("links inside the directory: %v", err)
	}

	write(filepath.Join(root, "rel/index.json"), "{}")
	link("../../"+filepath.Base(outside)+"/secret", filepath.Join(root, "rel/blob"))
	write(filepath.Join(root, "abs/index.json"), "{}")
	link(filepath.Join(outside, "secret"), filepath.Join(root, "abs/blob"))
	write(filepath.Join(root, "hidden/index.json"), "{}")
	link(filepath.Join(root, "trap"), filepath.Join(root, "hidden/dir"))
	if err := os.MkdirAll(filepath.Join(root, "trap"), 0o755); err != nil {
		t.Fatal(err)
	}
	link(filepath.Join(outside, "secret"), filepath.Join(root, "trap/blob"))
	write(filepath.Join(root, "loop/index.json"), "{}")
	link(".", filepath.Join(root, "loop/self"))
	for _, dir := range []string{"rel", "abs", "hidden", "loop"} {
		err := noEscape(root, filepath.Join(root, dir))
		if err == nil {
			t.Errorf("%s: a link out of the directory was not refused", dir)
			continue
		}
		want := "leads outside the image layout directory"
		if dir == "loop" {
			want = "too many levels of linked directories"
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", dir, err)
		}
	}
}
