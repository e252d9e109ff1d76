// Package testimage builds small but real OCI images in-process for the
// tests of the images packages: gzip'd tar layers, a valid linux/amd64
// config, Debian and Alpine package databases that syft recognises, and OCI
// image layouts on disk (single-image and cosign-save style).
//
// Everything here is deterministic: the same inputs always give the same
// layer, config and manifest digests, so tests may compare digests and SBOM
// bytes across runs.
package testimage

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Epoch is the fixed time used for tar entries and the image config, so that
// digests do not depend on the wall clock.
var Epoch = time.Unix(0, 0).UTC()

// Cosign's layout annotations, as written by `cosign save` (key "kind").
const (
	KindAnnotation       = "kind"
	KindImage            = "dev.cosignproject.cosign/image"
	KindImageIndex       = "dev.cosignproject.cosign/imageIndex"
	KindSignatures       = "dev.cosignproject.cosign/sigs"
	KindAttestations     = "dev.cosignproject.cosign/atts"
	simpleSigningMedia   = types.MediaType("application/vnd.dev.cosign.simplesigning.v1+json")
	dsseEnvelopeMedia    = types.MediaType("application/vnd.dsse.envelope.v1+json")
	cosignSigAnnotation  = "dev.cosignproject.cosign/signature"
	inTotoPredicateAnnot = "predicateType"
)

// Pkg is one OS package for DebianStatus and AlpineInstalled.
type Pkg struct {
	Name    string
	Version string
	// Source is a Debian binary package's source package, when it differs
	// from its name (liblzma5's is xz-utils).
	Source string
}

// Layer returns a gzip'd OCI tar layer holding files (path -> content).
// Leading slashes are dropped; parent directories get their own entries.
// Entries are sorted and carry fixed times, owners and modes.
func Layer(files map[string]string) (v1.Layer, error) {
	b, err := tarBytes(files)
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

func tarBytes(files map[string]string) ([]byte, error) {
	names := make([]string, 0, len(files))
	contents := make(map[string]string, len(files))
	dirs := map[string]bool{}
	for p, c := range files {
		clean := strings.TrimPrefix(path.Clean("/"+p), "/")
		if clean == "" {
			return nil, fmt.Errorf("testimage: invalid file path %q", p)
		}
		if _, dup := contents[clean]; dup {
			return nil, fmt.Errorf("testimage: duplicate file path %q", p)
		}
		contents[clean] = c
		names = append(names, clean)
		for d := path.Dir(clean); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for d := range dirs {
		if _, isFile := contents[d]; isFile {
			return nil, fmt.Errorf("testimage: %q is both a file and a directory", d)
		}
	}
	entries := make([]string, 0, len(dirs)+len(names))
	for d := range dirs {
		entries = append(entries, d+"/")
	}
	entries = append(entries, names...)
	sort.Strings(entries)

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{
			Name:    e,
			ModTime: Epoch,
			Uname:   "root",
			Gname:   "root",
			Format:  tar.FormatPAX,
		}
		if strings.HasSuffix(e, "/") {
			hdr.Typeflag = tar.TypeDir
			hdr.Mode = 0o755
		} else {
			hdr.Typeflag = tar.TypeReg
			hdr.Mode = 0o644
			hdr.Size = int64(len(contents[e]))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("testimage: tar header %s: %w", e, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, contents[e]); err != nil {
				return nil, fmt.Errorf("testimage: tar content %s: %w", e, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Image returns an OCI image (OCI manifest and config media types) made of
// layers, with a valid linux/amd64 config whose creation time is Epoch.
func Image(layers ...v1.Layer) (v1.Image, error) {
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		return nil, fmt.Errorf("testimage: append layers: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("testimage: config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = "amd64"
	cfg.Created = v1.Time{Time: Epoch}
	cfg.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cfg.Config.Cmd = []string{"/bin/sh"}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("testimage: set config: %w", err)
	}
	return img, nil
}

// ImageFromFiles is Image(Layer(files...)...) with one layer per map.
func ImageFromFiles(layers ...map[string]string) (v1.Image, error) {
	ls := make([]v1.Layer, 0, len(layers))
	for _, files := range layers {
		l, err := Layer(files)
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
	}
	return Image(ls...)
}

// Merge returns the union of the file maps; later maps win on conflicts.
func Merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// DebianOSRelease is /etc/os-release of Debian 12 (bookworm).
const DebianOSRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`

// AlpineOSRelease is /etc/os-release of Alpine 3.20.
const AlpineOSRelease = `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.20.0
PRETTY_NAME="Alpine Linux v3.20"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"
`

// DebianStatus returns the files of a Debian root holding pkgs: a dpkg
// database at /var/lib/dpkg/status and /etc/os-release (bookworm).
func DebianStatus(pkgs ...Pkg) map[string]string {
	var b strings.Builder
	for i, p := range pkgs {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Package: %s\n", p.Name)
		if p.Source != "" {
			fmt.Fprintf(&b, "Source: %s\n", p.Source)
		}
		b.WriteString("Status: install ok installed\n")
		b.WriteString("Priority: optional\n")
		b.WriteString("Section: libs\n")
		b.WriteString("Installed-Size: 100\n")
		b.WriteString("Maintainer: Test Maintainer <test@example.invalid>\n")
		b.WriteString("Architecture: amd64\n")
		fmt.Fprintf(&b, "Version: %s\n", p.Version)
		fmt.Fprintf(&b, "Description: %s test package\n", p.Name)
		fmt.Fprintf(&b, " Package %s built by kubegate's testimage.\n", p.Name)
	}
	return map[string]string{
		"/var/lib/dpkg/status": b.String(),
		"/etc/os-release":      DebianOSRelease,
		"/etc/debian_version":  "12.5\n",
	}
}

// AlpineInstalled returns the files of an Alpine root holding pkgs: an apk
// database at /lib/apk/db/installed and /etc/os-release (3.20).
func AlpineInstalled(pkgs ...Pkg) map[string]string {
	var b strings.Builder
	for _, p := range pkgs {
		fmt.Fprintf(&b, "P:%s\n", p.Name)
		fmt.Fprintf(&b, "V:%s\n", p.Version)
		b.WriteString("A:x86_64\n")
		b.WriteString("S:100\n")
		b.WriteString("I:200\n")
		fmt.Fprintf(&b, "T:%s test package\n", p.Name)
		b.WriteString("U:https://example.invalid/\n")
		b.WriteString("L:MIT\n")
		fmt.Fprintf(&b, "o:%s\n", p.Name)
		b.WriteString("m:Test Maintainer <test@example.invalid>\n")
		b.WriteString("t:1700000000\n")
		b.WriteString("\n")
	}
	return map[string]string{
		"/lib/apk/db/installed": b.String(),
		"/etc/os-release":       AlpineOSRelease,
		"/etc/alpine-release":   "3.20.0\n",
	}
}

// DebianXZ is the Debian image of the supply-chain examples: liblzma5 and
// xz-utils 5.6.1-1.
func DebianXZ() (v1.Image, error) {
	return ImageFromFiles(DebianStatus(
		Pkg{Name: "liblzma5", Version: "5.6.1-1"},
		Pkg{Name: "xz-utils", Version: "5.6.1-1"},
	))
}

// AlpineXZ is the Alpine image of the supply-chain examples: xz-libs 5.6.1-r0.
func AlpineXZ() (v1.Image, error) {
	return ImageFromFiles(AlpineInstalled(Pkg{Name: "xz-libs", Version: "5.6.1-r0"}))
}

// Digest returns img's manifest digest as "sha256:...".
func Digest(img v1.Image) (string, error) {
	h, err := img.Digest()
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

// WriteLayout writes an OCI image layout at dir whose index.json holds img
// (and nothing else). dir is created if needed; an existing index.json in
// it is an error, use AppendLayout to add to a layout.
func WriteLayout(dir string, img v1.Image) error {
	return WriteLayoutAnnotated(dir, img, nil)
}

// AppendLayout adds img to the layout at dir (created when missing), with
// the given descriptor annotations (may be nil).
func AppendLayout(dir string, img v1.Image, annotations map[string]string) error {
	p, err := openOrCreate(dir)
	if err != nil {
		return err
	}
	return p.AppendImage(img, annotated(annotations)...)
}

// AppendIndexLayout adds the image index idx to the layout at dir (created
// when missing), with the given descriptor annotations (may be nil).
func AppendIndexLayout(dir string, idx v1.ImageIndex, annotations map[string]string) error {
	p, err := openOrCreate(dir)
	if err != nil {
		return err
	}
	return p.AppendIndex(idx, annotated(annotations)...)
}

// annotated is the layout option that sets a descriptor's annotations,
// none for nil.
func annotated(annotations map[string]string) []layout.Option {
	if len(annotations) == 0 {
		return nil
	}
	return []layout.Option{layout.WithAnnotations(annotations)}
}

func openOrCreate(dir string) (layout.Path, error) {
	if p, err := layout.FromPath(dir); err == nil {
		return p, nil
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return "", fmt.Errorf("testimage: write layout %s: %w", dir, err)
	}
	return p, nil
}

// Index returns an OCI image index over imgs, each descriptor carrying the
// platform of the image's config (a multi-arch image).
func Index(imgs ...v1.Image) (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	adds := make([]mutate.IndexAddendum, 0, len(imgs))
	for _, img := range imgs {
		cfg, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("testimage: config: %w", err)
		}
		adds = append(adds, mutate.IndexAddendum{
			Add: img,
			Descriptor: v1.Descriptor{
				Platform: &v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant},
			},
		})
	}
	return mutate.AppendManifests(idx, adds...), nil
}

// SignaturesImage returns a small image shaped like cosign's signature
// image for subject: one simple-signing layer with a (fake) signature
// annotation. It is not verifiable; it only has cosign's shape.
func SignaturesImage(subject string) (v1.Image, error) {
	payload := fmt.Sprintf(`{"critical":{"identity":{"docker-reference":"example.invalid/test"},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`, subject)
	return artifactImage([]byte(payload), simpleSigningMedia, map[string]string{cosignSigAnnotation: "MEUCIQDfakefakefake"})
}

// AttestationsImage returns a small image shaped like cosign's attestation
// image for subject: one DSSE envelope layer.
func AttestationsImage(subject string) (v1.Image, error) {
	payload := fmt.Sprintf(`{"payloadType":"application/vnd.in-toto+json","payload":"","signatures":[],"subject":%q}`, subject)
	return artifactImage([]byte(payload), dsseEnvelopeMedia, map[string]string{inTotoPredicateAnnot: "https://cyclonedx.org/bom"})
}

func artifactImage(payload []byte, mt types.MediaType, annotations map[string]string) (v1.Image, error) {
	// cosign stores the payload itself as the layer blob (static layer:
	// compressed and uncompressed forms are the same bytes).
	layer := static.NewLayer(payload, mt)
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, Annotations: annotations})
	if err != nil {
		return nil, fmt.Errorf("testimage: cosign-style image: %w", err)
	}
	return img, nil
}

// WriteCosignLayout writes at dir what `cosign save` writes for a signed,
// attested single-platform image: index.json holding the image (kind
// dev.cosignproject.cosign/image), its signatures image (.../sigs) and its
// attestations image (.../atts).
func WriteCosignLayout(dir string, img v1.Image) error {
	d, err := Digest(img)
	if err != nil {
		return err
	}
	sigs, err := SignaturesImage(d)
	if err != nil {
		return err
	}
	atts, err := AttestationsImage(d)
	if err != nil {
		return err
	}
	if err := WriteLayoutAnnotated(dir, img, map[string]string{KindAnnotation: KindImage}); err != nil {
		return err
	}
	if err := AppendLayout(dir, sigs, map[string]string{KindAnnotation: KindSignatures}); err != nil {
		return err
	}
	return AppendLayout(dir, atts, map[string]string{KindAnnotation: KindAttestations})
}

// WriteCosignIndexLayout is WriteCosignLayout for a multi-platform image:
// index.json holds the image index (kind .../imageIndex, a nested index),
// then its signatures and attestations images.
func WriteCosignIndexLayout(dir string, idx v1.ImageIndex) error {
	h, err := idx.Digest()
	if err != nil {
		return err
	}
	sigs, err := SignaturesImage(h.String())
	if err != nil {
		return err
	}
	atts, err := AttestationsImage(h.String())
	if err != nil {
		return err
	}
	if err := newLayoutDir(dir); err != nil {
		return err
	}
	if err := AppendIndexLayout(dir, idx, map[string]string{KindAnnotation: KindImageIndex}); err != nil {
		return err
	}
	if err := AppendLayout(dir, sigs, map[string]string{KindAnnotation: KindSignatures}); err != nil {
		return err
	}
	return AppendLayout(dir, atts, map[string]string{KindAnnotation: KindAttestations})
}

// WriteLayoutAnnotated is WriteLayout with descriptor annotations.
func WriteLayoutAnnotated(dir string, img v1.Image, annotations map[string]string) error {
	if err := newLayoutDir(dir); err != nil {
		return err
	}
	return AppendLayout(dir, img, annotations)
}

func newLayoutDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		return fmt.Errorf("testimage: %s already holds an OCI layout", dir)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if _, err := layout.Write(dir, empty.Index); err != nil {
		return fmt.Errorf("testimage: write layout %s: %w", dir, err)
	}
	return nil
}
