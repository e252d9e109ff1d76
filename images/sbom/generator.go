// Package sbom builds software bills of materials for container images with
// syft used as a library, strictly offline: images are read from OCI image
// layouts on disk only (syft's "oci-dir" source, never a registry or a
// daemon), and every syft option that could reach the network is turned off.
//
// A Generator is made once per run (New) and reused for every image: it
// holds syft's license scanner, which costs about a second to build.
package sbom

import (
	"context"
	"errors"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging"
	"github.com/anchore/syft/syft/cataloging/pkgcataloging"
	"github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source"

	// syft's RPM database cataloger needs an SQL driver named "sqlite";
	// without it RPM-based images fail to catalog. It is glebarez's (a fork
	// of modernc.org/sqlite), which grype's database reader registers too:
	// a second driver under the same name would panic at start.
	_ "github.com/glebarez/go-sqlite"
)

// ociDirSource is syft's (stereoscope's) name for the OCI layout source.
const ociDirSource = "oci-dir"

// Generator creates SBOMs. It is safe for concurrent use.
type Generator struct {
	// values holds the context values prepared once in New (syft's license
	// scanner); scans look them up behind the caller's own context.
	values context.Context
	// cfg is built once: syft's default package configuration compiles
	// the binary classifiers' regular expressions, which cost more than a
	// whole scan of a small image. CreateSBOM only reads it.
	cfg *syft.CreateSBOMConfig
}

// New builds the license scanner once and returns a Generator reusing it.
// Only ctx's values are kept; its cancellation does not affect later scans.
func New(ctx context.Context) (*Generator, error) {
	licenses := cataloging.DefaultLicenseConfig()
	values, err := syft.SetContextLicenseScanner(context.WithoutCancel(ctx), licenses)
	if err != nil {
		return nil, fmt.Errorf("sbom: building syft license scanner: %w", err)
	}
	return &Generator{values: values, cfg: createConfig(licenses)}, nil
}

// FromLayout scans the image whose manifest digest is digest ("sha256:...")
// in the OCI image layout at dir. The layout may hold several manifests or
// nested indexes (as `cosign save` writes them): the one image is then
// extracted into a temporary single-image layout first. A digest naming an
// image index rather than an image is an error.
//
// The SBOM's source is named after the digest (Source.Name, Source.Version
// and the image metadata's user input), never after dir, so the SBOM of an
// image does not depend on where its layout was written. Callers may set
// Source.Name to an image reference before encoding.
func (g *Generator) FromLayout(ctx context.Context, dir string, digest string) (*sbom.SBOM, error) {
	if g == nil || g.values == nil {
		return nil, errors.New("sbom: Generator not made with New")
	}
	h, err := v1.NewHash(digest)
	if err != nil {
		return nil, fmt.Errorf("sbom: image %q in OCI layout %s: invalid manifest digest: %w", digest, dir, err)
	}
	fail := func(what string, err error) error {
		return fmt.Errorf("sbom: image %s in OCI layout %s: %s: %w", h, dir, what, err)
	}

	if err := ctx.Err(); err != nil {
		return nil, fail("not started", err)
	}
	scanDir, cleanup, err := singleImageLayout(dir, h)
	if err != nil {
		return nil, fail("selecting the image", err)
	}
	defer cleanup()

	ctx = mergedContext{Context: ctx, values: g.values}

	srcCfg := syft.DefaultGetSourceConfig().WithSources(ociDirSource)
	src, err := syft.GetSource(ctx, scanDir, srcCfg)
	if err != nil {
		return nil, fail("opening the image with syft", err)
	}
	defer func() { _ = src.Close() }()

	s, err := syft.CreateSBOM(ctx, src, g.cfg)
	if err != nil {
		return nil, fail("cataloging", err)
	}
	if err := normalizeSource(s, h); err != nil {
		return nil, fail("checking the scanned image", err)
	}
	return s, nil
}

// createConfig returns syft's default cataloging configuration with every
// option that could reach the network (or read the host's caches, which
// would make the SBOM depend on the machine) explicitly turned off.
func createConfig(licenses cataloging.LicenseConfig) *syft.CreateSBOMConfig {
	cfg := syft.DefaultCreateSBOMConfig().
		WithLicenseConfig(licenses).
		WithPackagesConfig(offlinePackagesConfig())
	if cfg.ToolVersion == "" {
		// syft reads its version from the binary's build info, which test
		// binaries (and stripped ones) lack
		cfg.ToolVersion = syftVersion
	}
	return cfg
}

// syftVersion is the syft version required in go.mod (a test checks that
// they agree), used when the build info does not tell it.
const syftVersion = "v1.57.1"

// offlinePackagesConfig is pkgcataloging.DefaultConfig() made offline.
func offlinePackagesConfig() pkgcataloging.Config {
	c := pkgcataloging.DefaultConfig()

	// Go: no license look-ups on the module proxy (proxy.golang.org or
	// GOPROXY), none in the host's module cache or vendor dir, and no
	// golang.org/x/tools/go/packages (it runs the go tool, which may
	// download modules). Proxy settings and the host's module cache path,
	// taken from the environment, are dropped: they would otherwise be
	// recorded in the SBOM's configuration.
	c.Golang = c.Golang.
		WithSearchRemoteLicenses(false).
		WithSearchLocalModCacheLicenses(false).
		WithSearchLocalVendorLicenses(false).
		WithUsePackagesLib(false)
	c.Golang.Proxies = nil
	c.Golang.NoProxy = nil
	c.Golang.LocalModCacheDir = ""
	c.Golang.LocalVendorDir = ""

	// Java: no Maven Central (or other repository) look-ups for parent
	// POMs, licenses and versions, no host ~/.m2 repository, no transitive
	// dependency resolution (which needs one of the two).
	c.JavaArchive = c.JavaArchive.
		WithUseNetwork(false).
		WithUseMavenLocalRepository(false).
		WithResolveTransitiveDependencies(false)
	c.JavaArchive.MavenLocalRepositoryDir = ""

	// JavaScript: no npm registry license look-ups.
	c.JavaScript = c.JavaScript.WithSearchRemoteLicenses(false)

	// Python: no PyPI license look-ups.
	c.Python = c.Python.WithSearchRemoteLicenses(false)

	// C/C++: no git clone of the vcpkg registry to resolve vcpkg.json
	// dependencies.
	c.Cpp = c.Cpp.WithVcpkgAllowGitClone(false)

	return c
}

// normalizeSource checks that syft scanned the requested image and names
// the source after the digest instead of the (possibly temporary) layout
// path.
func normalizeSource(s *sbom.SBOM, want v1.Hash) error {
	md, ok := s.Source.Metadata.(source.ImageMetadata)
	if !ok {
		return fmt.Errorf("syft described the source as %T, not an image", s.Source.Metadata)
	}
	if md.ManifestDigest != want.String() {
		return fmt.Errorf("syft scanned manifest %s instead", md.ManifestDigest)
	}
	md.UserInput = want.String()
	s.Source.Metadata = md
	s.Source.Name = want.String()
	s.Source.Version = want.String()
	return nil
}

// mergedContext takes cancellation and deadlines from the caller's context
// and looks values up there first, then in the Generator's prepared values.
type mergedContext struct {
	context.Context
	values context.Context
}

func (c mergedContext) Value(key any) any {
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.values.Value(key)
}

// Deadline, Done and Err come from the embedded caller context; spelled
// out so the intent is plain.
func (c mergedContext) Deadline() (time.Time, bool) { return c.Context.Deadline() }
func (c mergedContext) Done() <-chan struct{}       { return c.Context.Done() }
func (c mergedContext) Err() error                  { return c.Context.Err() }
