// Package images checks the container images that manifests reference:
// resolves each tag to its digest, verifies cosign signatures and
// attestations, and builds an SBOM per digest with syft, from registries or
// from OCI layout directories, with a cache keyed by digest. What it finds
// becomes data for the images.* policies (data.kubegate.images).
package images

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	syftsbom "github.com/anchore/syft/syft/sbom"
	syftsource "github.com/anchore/syft/syft/source"
	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kubegate/kubegate/images/sbom"
	"github.com/kubegate/kubegate/vuln"
)

// Options configure a Checker.
type Options struct {
	// Progress, when set, counts each image checked.
	Progress interface{ Add(n int) }
	// Offline: no registry is contacted; images are only parsed.
	Offline bool
	// Layout is a directory of OCI layouts (as `cosign save` writes them)
	// that images come from instead of registries.
	Layout string
	// CacheDir holds SBOMs and verified signatures by digest; "" caches
	// nothing.
	CacheDir string
	// Verify says whose signatures images need; nil checks none.
	Verify *VerifyOptions
	// SBOM builds an SBOM for every image (its packages become data).
	SBOM bool
	// SBOMDir, when set, receives one SBOM per digest in SBOMFormat
	// (cyclonedx-json or spdx-json).
	SBOMDir    string
	SBOMFormat string
	// Vulnerabilities, when set, is matched against every SBOM; VEX are
	// VEX documents (files) that set vulnerabilities aside, with the OpenVEX
	// attestations that verify (see Verify).
	Vulnerabilities *vuln.DB
	VEX             []string
	// Platform is the image of a multi-platform index that is scanned
	// (default linux/amd64).
	Platform v1.Platform
	// Concurrency bounds images checked at once (default 4).
	Concurrency int
	// Timeout bounds the wait for a registry's answer to one request
	// (default 30s); Attempts is how often a request is tried when it
	// fails for a reason that may pass (default 4).
	Timeout  time.Duration
	Attempts int
	// ImageTimeout bounds everything done for one image, layer pulls and
	// scanning included (default 10 minutes).
	ImageTimeout time.Duration
	// MaxImageSize bounds the compressed size of an image kubegate pulls
	// to scan (default 8 GiB): a larger one is an error, not a full disk.
	MaxImageSize int64
	// MaxRetryAfter is the longest Retry-After kubegate honours (default
	// 60s); a registry that asks for more fails the image at once.
	MaxRetryAfter time.Duration

	// Keychain finds registry credentials (default: the Docker config and
	// credential helpers, as docker login writes them).
	Keychain authn.Keychain
	// Transport is the HTTP transport to registries (default
	// go-containerregistry's).
	Transport http.RoundTripper
	// Sleep waits between attempts (tests replace it).
	Sleep func(context.Context, time.Duration) error
}

// Image is what was learnt about one image reference.
type Image struct {
	Ref        string `json:"ref"`
	Registry   string `json:"registry"`
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	Digest     string `json:"digest"`
	// Resolved is the digest the reference points at; Pinned is the
	// reference with that digest.
	Resolved string `json:"resolved,omitempty"`
	Pinned   string `json:"pinned,omitempty"`
	// Error says why the image could not be checked.
	Error string `json:"error,omitempty"`
	// Skipped says why no registry was asked.
	Skipped string `json:"skipped,omitempty"`
	// Signature is nil when no signature is required.
	Signature    *Signature    `json:"signature,omitempty"`
	Attestations []Attestation `json:"attestations,omitempty"`
	// Packages are the SBOM's, nil when no SBOM was built.
	Packages []sbom.Package `json:"packages,omitempty"`
	Scanned  bool           `json:"scanned"`
	// SBOMFile is where the SBOM was written (--sbom-dir).
	SBOMFile string `json:"sbom_file,omitempty"`
	// VulnerabilitiesChecked says the SBOM was matched against the
	// vulnerability database: Vulnerabilities are what it found, and
	// VEXSuppressed what VEX statements set aside.
	VulnerabilitiesChecked bool                 `json:"vulnerabilities_checked"`
	Vulnerabilities        []vuln.Vulnerability `json:"vulnerabilities,omitempty"`
	VEXSuppressed          []vuln.Suppressed    `json:"vex_suppressed,omitempty"`
}

// Checker checks images. It is safe for concurrent use.
type Checker struct {
	opts     Options
	src      source
	verifier *verifier
	secrets  *secrets
	cache    *cache

	genOnce sync.Once
	gen     *sbom.Generator
	genErr  error
}

// New validates the options and reads keys and roots.
func New(o Options) (*Checker, error) {
	o.Concurrency = cmp.Or(o.Concurrency, 4)
	o.Timeout = cmp.Or(o.Timeout, 30*time.Second)
	o.Attempts = cmp.Or(o.Attempts, 4)
	o.MaxRetryAfter = cmp.Or(o.MaxRetryAfter, time.Minute)
	o.ImageTimeout = cmp.Or(o.ImageTimeout, 10*time.Minute)
	o.MaxImageSize = cmp.Or(o.MaxImageSize, 8<<30)
	o.SBOMFormat = cmp.Or(o.SBOMFormat, "cyclonedx-json")
	if o.Platform.OS == "" {
		o.Platform = v1.Platform{OS: "linux", Architecture: "amd64"}
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.SBOMDir != "" {
		o.SBOM = true
		if err := CheckSBOMFormat(o.SBOMFormat); err != nil {
			return nil, err
		}
	}
	c := &Checker{opts: o, secrets: &secrets{}}
	if o.Verify.Enabled() {
		v, err := newVerifier(*o.Verify)
		if err != nil {
			return nil, err
		}
		c.verifier = v
	}
	if o.CacheDir != "" {
		c.cache = &cache{dir: o.CacheDir}
	}
	switch {
	case o.Offline:
	case o.Layout != "":
		abs, err := filepath.Abs(o.Layout)
		if err != nil {
			return nil, err
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--image-layout %s: not a directory", o.Layout)
		}
		c.src = &layoutDir{dir: abs}
	default:
		keychain := cmp.Or[authn.Keychain](o.Keychain, authn.DefaultKeychain)
		rt := o.Transport
		if rt == nil {
			t := remote.DefaultTransport.(*http.Transport).Clone()
			t.ResponseHeaderTimeout = o.Timeout
			rt = t
		}
		rt = redactingTransport{next: rt, secrets: c.secrets}
		rt = &retrying{next: rt, attempts: o.Attempts, base: 500 * time.Millisecond, maxWait: o.MaxRetryAfter, sleep: o.Sleep}
		c.src = newRegistry(recordingKeychain{inner: keychain, secrets: c.secrets}, rt)
	}
	return c, nil
}

// CheckSBOMFormat says whether format is one --sbom-dir can write.
func CheckSBOMFormat(format string) error {
	if format != sbom.FormatCycloneDXJSON && format != sbom.FormatSPDXJSON {
		return fmt.Errorf("--sbom-format %q: use %s or %s", format, sbom.FormatCycloneDXJSON, sbom.FormatSPDXJSON)
	}
	return nil
}

// DefaultCacheDir is kubegate's directory under the user's cache directory
// (XDG_CACHE_HOME, ~/.cache ...), or "" (no cache) when there is none.
func DefaultCacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "kubegate")
}

// Secrets are the registry credentials used so far, for masking in CI
// logs.
func (c *Checker) Secrets() []string { return c.secrets.Values() }

// Check checks every reference, at most Concurrency at once, and returns
// them in the order given.
func (c *Checker) Check(ctx context.Context, refs []string) []*Image {
	out := make([]*Image, len(refs))
	sem := make(chan struct{}, c.opts.Concurrency)
	var wg sync.WaitGroup
	for i, ref := range refs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			defer func() {
				// A bug in a library reading a hostile image must not
				// take the whole check down: it fails this image.
				if p := recover(); p != nil {
					out[i] = &Image{Ref: ref, Error: fmt.Sprintf("checking %s failed unexpectedly (please report it): %v", ref, p)}
				}
			}()
			out[i] = c.check(ctx, ref)
			if c.opts.Progress != nil {
				c.opts.Progress.Add(1)
			}
			out[i].Error = c.secrets.Redact(out[i].Error)
			if out[i].Signature != nil {
				out[i].Signature.Reason = c.secrets.Redact(out[i].Signature.Reason)
			}
		}()
	}
	wg.Wait()
	return out
}

func (c *Checker) check(ctx context.Context, s string) *Image {
	ctx, cancel := context.WithTimeout(ctx, c.opts.ImageTimeout)
	defer cancel()
	img := &Image{Ref: s}
	r, err := ParseRef(s)
	if err != nil {
		img.Error = err.Error()
		return img
	}
	img.Registry, img.Repository, img.Tag, img.Digest = r.Registry, r.Repository, r.Tag, r.Digest
	if c.src == nil {
		img.Skipped = "kubegate ran with --offline"
		return img
	}
	h, err := c.src.resolve(ctx, r)
	if err != nil {
		img.Error = explain(r, err)
		return img
	}
	img.Resolved = h.String()
	img.Pinned = r.Pinned(img.Resolved)
	if c.verifier != nil {
		if err := c.verify(ctx, r, h, img); err != nil {
			img.Error = fmt.Sprintf("verifying the signatures of %s: %s", r.Original, explain(r, err))
			return img
		}
	}
	if c.opts.SBOM {
		if err := c.sbom(ctx, r, h, img); err != nil {
			img.Error = fmt.Sprintf("building the SBOM of %s: %s", r.Original, explain(r, err))
		}
	}
	return img
}

// verify checks signatures; a positive verdict is cached by digest and
// trust configuration (a negative one is not: a signature may be added
// later).
func (c *Checker) verify(ctx context.Context, r Ref, h v1.Hash, img *Image) error {
	key := h.Hex + "-" + c.verifier.hash
	var hit verifyRecord
	if c.cache.get("verify", key+".json", &hit) {
		img.Signature, img.Attestations = hit.Signature, hit.Attestations
		return nil
	}
	se, err := c.src.entity(ctx, r, h)
	if err != nil {
		return err
	}
	sig, atts, err := c.verifier.verify(ctx, se, h)
	if err != nil {
		return err
	}
	img.Signature, img.Attestations = sig, atts
	if sig.Verified {
		c.cache.put("verify", key+".json", verifyRecord{Signature: sig, Attestations: atts})
	}
	return nil
}

type verifyRecord struct {
	Signature    *Signature    `json:"signature"`
	Attestations []Attestation `json:"attestations"`
}

// sbom records the packages of the platform's image and writes its SBOM
// to SBOMDir.
func (c *Checker) sbom(ctx context.Context, r Ref, h v1.Hash, img *Image) error {
	doc, err := c.sbomDoc(ctx, r, h)
	if err != nil {
		return err
	}
	img.Scanned = true
	img.Packages = sbom.Packages(doc)
	if db := c.opts.Vulnerabilities; db != nil {
		if err := c.vulnerabilities(db, doc, r, h, img); err != nil {
			return err
		}
	}
	if c.opts.SBOMDir != "" {
		b, err := sbom.Encode(doc, c.opts.SBOMFormat)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(c.opts.SBOMDir, 0o755); err != nil {
			return err
		}
		f := filepath.Join(c.opts.SBOMDir, sbom.FileName(h.String(), c.opts.SBOMFormat))
		if err := os.WriteFile(f, b, 0o644); err != nil {
			return err
		}
		img.SBOMFile = f
	}
	return nil
}

// vulnerabilities matches the image's SBOM against db, or reads what that
// gave from the cache: the matches of a digest are a function of the
// database (its build), the image's name and the VEX documents, so a warm
// run matches nothing again.
func (c *Checker) vulnerabilities(db *vuln.DB, doc *syftsbom.SBOM, r Ref, h v1.Hash, img *Image) error {
	docs, cleanup, err := c.vexDocuments(img.Attestations)
	if err != nil {
		return err
	}
	defer cleanup()
	key := sha256.New()
	fmt.Fprintf(key, "%s\x00%s\x00%s\x00%s\x00%s\x00%s", h, c.opts.Platform.String(), r.Name(), r.Tag, db.Built.Format(time.RFC3339Nano), db.Schema)
	for _, d := range docs {
		b, err := os.ReadFile(d)
		if err != nil {
			return fmt.Errorf("reading the VEX document %s: %v", d, err)
		}
		fmt.Fprintf(key, "\x00%d\x00", len(b))
		key.Write(b)
	}
	name := hex.EncodeToString(key.Sum(nil)) + ".json"
	var hit vulnRecord
	if c.cache.get("vulnerabilities", name, &hit) {
		img.Vulnerabilities, img.VEXSuppressed, img.VulnerabilitiesChecked = hit.Vulnerabilities, hit.Suppressed, true
		return nil
	}
	if img.Vulnerabilities, img.VEXSuppressed, err = db.Match(named(doc, r, h), docs); err != nil {
		return err
	}
	img.VulnerabilitiesChecked = true
	c.cache.put("vulnerabilities", name, vulnRecord{Vulnerabilities: img.Vulnerabilities, Suppressed: img.VEXSuppressed})
	return nil
}

type vulnRecord struct {
	Vulnerabilities []vuln.Vulnerability `json:"vulnerabilities"`
	Suppressed      []vuln.Suppressed    `json:"suppressed"`
}

// named is doc with the image's name and tag in its source, as VEX
// statements name images (pkg:oci/NAME?repository_url=REGISTRY/REPOSITORY):
// an SBOM is built and cached by digest alone.
func named(doc *syftsbom.SBOM, r Ref, h v1.Hash) *syftsbom.SBOM {
	md, ok := doc.Source.Metadata.(syftsource.ImageMetadata)
	if !ok {
		return doc
	}
	out := *doc
	md.UserInput = r.Original
	md.RepoDigests = []string{r.Name() + "@" + h.String()}
	md.Tags = nil
	if r.Tag != "" {
		md.Tags = []string{r.Name() + ":" + r.Tag}
	}
	out.Source.Metadata = md
	out.Source.Name = r.Name()
	return &out
}

// OpenVEXPredicateType is the predicate type of OpenVEX attestations.
const OpenVEXPredicateType = "https://openvex.dev/ns"

// vexDocuments are the VEX documents for one image: the configured files,
// and the OpenVEX documents attested to it (verified with the same keys or
// identity as its signatures), written to temporary files for grype.
func (c *Checker) vexDocuments(atts []Attestation) ([]string, func(), error) {
	docs := slices.Clone(c.opts.VEX)
	var dir string
	cleanup := func() {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	for i, a := range atts {
		if !strings.HasPrefix(a.PredicateType, OpenVEXPredicateType) {
			continue
		}
		b, err := json.Marshal(a.Predicate)
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		if dir == "" {
			if dir, err = os.MkdirTemp("", "kubegate-vex-"); err != nil {
				return nil, nil, err
			}
		}
		p := filepath.Join(dir, fmt.Sprintf("attested-%d.openvex.json", i))
		if err := os.WriteFile(p, b, 0o600); err != nil {
			cleanup()
			return nil, nil, err
		}
		docs = append(docs, p)
	}
	return docs, cleanup, nil
}

// sbomDoc builds the SBOM of the platform's image of h, or reads it from
// the cache: what is keyed by digest is never fetched twice.
func (c *Checker) sbomDoc(ctx context.Context, r Ref, h v1.Hash) (*syftsbom.SBOM, error) {
	key := h.Hex + "-" + sanitize(c.opts.Platform.String()) + ".syft.json"
	if raw, ok := c.cache.raw("sbom", key); ok {
		// A damaged entry is rebuilt.
		if doc, err := sbom.Decode(raw); err == nil {
			return doc, nil
		}
	}
	doc, err := c.scan(ctx, r, h)
	if err != nil {
		return nil, err
	}
	if enc, err := sbom.Encode(doc, "syft-json"); err == nil {
		c.cache.putRaw("sbom", key, enc)
	}
	return doc, nil
}

// scan pulls the image into a temporary OCI layout and runs syft over it,
// so that syft itself never touches a network.
func (c *Checker) scan(ctx context.Context, r Ref, h v1.Hash) (*syftsbom.SBOM, error) {
	image, err := c.src.image(ctx, r, h, c.opts.Platform)
	if err != nil {
		return nil, err
	}
	if err := c.checkSize(image); err != nil {
		return nil, err
	}
	gen, err := c.generator(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kubegate-image-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return nil, err
	}
	if err := p.AppendImage(image); err != nil {
		return nil, err
	}
	d, err := image.Digest()
	if err != nil {
		return nil, err
	}
	return gen.FromLayout(ctx, dir, d.String())
}

// checkSize refuses an image whose layers add up to more than
// MaxImageSize, before any layer is pulled.
func (c *Checker) checkSize(image v1.Image) error {
	m, err := image.Manifest()
	if err != nil {
		return err
	}
	var total int64
	for _, l := range m.Layers {
		total += l.Size
	}
	if total > c.opts.MaxImageSize {
		return fmt.Errorf("the image's layers add up to %d bytes, above the %d-byte bound on images kubegate pulls to scan; run with --no-sbom, or build the SBOM elsewhere", total, c.opts.MaxImageSize)
	}
	return nil
}

func (c *Checker) generator(ctx context.Context) (*sbom.Generator, error) {
	c.genOnce.Do(func() { c.gen, c.genErr = sbom.New(ctx) })
	return c.gen, c.genErr
}
