package images

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/sigstore/cosign/v2/pkg/oci"
	ocilayout "github.com/sigstore/cosign/v2/pkg/oci/layout"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"

	"github.com/kubegate/kubegate/load"
)

// source is where images come from: registries, or an OCI layout
// directory for air-gapped runs.
type source interface {
	// resolve gives the digest the reference points at now.
	resolve(ctx context.Context, r Ref) (v1.Hash, error)
	// entity gives the image (or index) with its signatures and
	// attestations.
	entity(ctx context.Context, r Ref, h v1.Hash) (oci.SignedEntity, error)
	// image gives the image for platform: the manifest h itself, or the
	// platform's entry when h is an index.
	image(ctx context.Context, r Ref, h v1.Hash, platform v1.Platform) (v1.Image, error)
}

// remoteSource reads images from their registries.
type remoteSource struct {
	opts []remote.Option
}

func newRegistry(keychain authn.Keychain, rt http.RoundTripper) *remoteSource {
	return &remoteSource{opts: []remote.Option{
		remote.WithAuthFromKeychain(keychain),
		remote.WithTransport(rt),
		remote.WithUserAgent("kubegate"),
		// Retries are the retrying transport's, which honours Retry-After.
		remote.WithRetryBackoff(remote.Backoff{Steps: 1}),
		remote.WithRetryStatusCodes(),
	}}
}

func (g *remoteSource) with(ctx context.Context) []remote.Option {
	return append([]remote.Option{remote.WithContext(ctx)}, g.opts...)
}

func (g *remoteSource) resolve(ctx context.Context, r Ref) (v1.Hash, error) {
	ref := r.reference()
	if r.Digest != "" {
		return v1.NewHash(r.Digest)
	}
	desc, err := remote.Head(ref, g.with(ctx)...)
	if err != nil {
		// Some registries answer HEAD badly; GET is what pulls use.
		var terr *transport.Error
		if errors.As(err, &terr) && (terr.StatusCode == http.StatusMethodNotAllowed || terr.StatusCode == http.StatusNotImplemented) {
			d, gerr := remote.Get(ref, g.with(ctx)...)
			if gerr != nil {
				return v1.Hash{}, gerr
			}
			return d.Digest, nil
		}
		return v1.Hash{}, err
	}
	return desc.Digest, nil
}

func (g *remoteSource) entity(ctx context.Context, r Ref, h v1.Hash) (oci.SignedEntity, error) {
	return ociremote.SignedEntity(r.repo.Digest(h.String()), ociremote.WithRemoteOptions(g.with(ctx)...))
}

func (g *remoteSource) image(ctx context.Context, r Ref, h v1.Hash, platform v1.Platform) (v1.Image, error) {
	return remote.Image(r.repo.Digest(h.String()), append(g.with(ctx), remote.WithPlatform(platform))...)
}

// layoutDir reads images from OCI layouts under one directory, each at
// <dir>/<registry>/<repository>/<tag>, as `cosign save` writes them:
//
//	cosign save --dir images/registry.example.com/shop/web/1.5.0 registry.example.com/shop/web:1.5.0
//
// A digest-pinned reference is looked up by digest among its repository's
// layouts. Nothing is read outside dir, and no registry is contacted.
type layoutDir struct {
	dir string
}

// paths are the candidate layouts for r, most specific first.
func (l *layoutDir) paths(r Ref) ([]string, error) {
	repoDirs := []string{filepath.Join(l.dir, filepath.FromSlash(r.Name()))}
	if r.Registry == "docker.io" {
		repoDirs = append(repoDirs, filepath.Join(l.dir, name.DefaultRegistry, filepath.FromSlash(r.Repository)))
	}
	var out []string
	for _, rd := range repoDirs {
		if !load.Within(rd, l.dir) {
			return nil, fmt.Errorf("image %q names a path outside the image layout directory", r.Original)
		}
		if r.Digest == "" || r.Tag != "" {
			out = append(out, filepath.Join(rd, cmp.Or(r.Tag, "latest")))
		}
		if r.Digest != "" {
			entries, _ := os.ReadDir(rd)
			for _, e := range entries {
				if e.IsDir() {
					out = append(out, filepath.Join(rd, e.Name()))
				}
			}
		}
	}
	return out, nil
}

// find opens the layout that holds r (and, when r is pinned, that digest).
func (l *layoutDir) find(r Ref) (string, oci.SignedImageIndex, v1.Hash, error) {
	paths, err := l.paths(r)
	if err != nil {
		return "", nil, v1.Hash{}, err
	}
	for _, p := range paths {
		if _, err := os.Stat(filepath.Join(p, "index.json")); err != nil {
			continue
		}
		if err := noEscape(l.dir, p); err != nil {
			return "", nil, v1.Hash{}, err
		}
		se, h, err := openLayout(p)
		if err != nil {
			return "", nil, v1.Hash{}, fmt.Errorf("image layout %s: %v", p, err)
		}
		if r.Digest == "" || h.String() == r.Digest {
			return p, se, h, nil
		}
	}
	want := filepath.Join(l.dir, filepath.FromSlash(r.Name()), cmp.Or(r.Tag, "latest"))
	if r.Digest != "" && r.Tag == "" {
		want = filepath.Join(l.dir, filepath.FromSlash(r.Name()), "<tag>") + " holding " + r.Digest
	}
	return "", nil, v1.Hash{}, fmt.Errorf("%w: image %q is not in the image layout directory (looked for %s, as `cosign save --dir` writes it)", fs.ErrNotExist, r.Original, want)
}

// noEscape refuses a layout with a symbolic link that leads outside the
// image layout directory: the layouts may come with a pull request, and
// nothing outside the directory is read. The directory is opened as an
// os.Root, through which each link is resolved (load.OpenIn: an absolute
// link that stays inside is followed too, as in the repository) and one
// that leaves it refused; links to directories are followed (and checked)
// a few levels deep.
// (go-containerregistry reads a layout by path, with no file-system
// abstraction to hand the root to, so the check comes before the read;
// nothing changes the checkout while kubegate runs.)
func noEscape(root, layout string) error {
	r, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer r.Close()
	rel, err := filepath.Rel(root, layout)
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return fmt.Errorf("image layout %s is outside the image layout directory", layout)
	}
	var walk func(dir string, depth int) error
	walk = func(dir string, depth int) error {
		return fs.WalkDir(r.FS(), dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.Type()&fs.ModeSymlink == 0 {
				return err
			}
			full := filepath.Join(root, filepath.FromSlash(p))
			f, err := load.OpenIn(r, root, full)
			if errors.Is(err, load.ErrOutside) {
				return fmt.Errorf("image layout %s: %s is a symbolic link that leads outside the image layout directory; refusing to read it", layout, full)
			}
			if err != nil {
				return fmt.Errorf("image layout %s: %v", layout, err)
			}
			info, err := f.Stat()
			f.Close()
			if err != nil {
				return fmt.Errorf("image layout %s: %v", layout, err)
			}
			if info.IsDir() {
				if depth >= 4 {
					return fmt.Errorf("image layout %s: %s: too many levels of linked directories", layout, full)
				}
				// Walk where the link leads (os.Root's file system would
				// refuse an absolute link that OpenIn allowed).
				real, err1 := filepath.EvalSymlinks(full)
				realRoot, err2 := filepath.EvalSymlinks(root)
				rel, err3 := filepath.Rel(realRoot, real)
				if err := errors.Join(err1, err2, err3); err != nil {
					return fmt.Errorf("image layout %s: %v", layout, err)
				}
				return walk(filepath.ToSlash(rel), depth+1)
			}
			return nil
		})
	}
	return walk(filepath.ToSlash(rel), 0)
}

// openLayout reads a cosign-save layout: the image (or index) it holds and
// its digest. A plain single-image OCI layout works too.
func openLayout(p string) (oci.SignedImageIndex, v1.Hash, error) {
	se, err := ocilayout.SignedImageIndex(p)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	if ii, err := se.SignedImageIndex(v1.Hash{}); err == nil && ii != nil {
		h, err := ii.Digest()
		return se, h, err
	}
	if img, err := se.SignedImage(v1.Hash{}); err == nil && img != nil {
		h, err := img.Digest()
		return se, h, err
	}
	// Not written by cosign: a layout whose index holds one image.
	idx, err := layout.ImageIndexFromPath(p)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, v1.Hash{}, err
	}
	if len(m.Manifests) != 1 {
		return nil, v1.Hash{}, fmt.Errorf("the layout holds %d manifests and none is marked as the image (by `cosign save`)", len(m.Manifests))
	}
	return se, m.Manifests[0].Digest, nil
}

func (l *layoutDir) resolve(_ context.Context, r Ref) (v1.Hash, error) {
	_, _, h, err := l.find(r)
	return h, err
}

// entity is the layout itself: cosign save keeps the signatures and
// attestations beside the image, and the layout's index serves them.
func (l *layoutDir) entity(_ context.Context, r Ref, _ v1.Hash) (oci.SignedEntity, error) {
	_, se, _, err := l.find(r)
	return se, err
}

func (l *layoutDir) image(_ context.Context, r Ref, h v1.Hash, platform v1.Platform) (v1.Image, error) {
	p, _, _, err := l.find(r)
	if err != nil {
		return nil, err
	}
	idx, err := layout.ImageIndexFromPath(p)
	if err != nil {
		return nil, err
	}
	return imageIn(idx, h, platform)
}

// imageIn finds manifest h in an index, descending into nested indexes, and
// picks platform's image when h is itself an index.
func imageIn(idx v1.ImageIndex, h v1.Hash, platform v1.Platform) (v1.Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range m.Manifests {
		switch {
		case d.Digest == h && d.MediaType.IsImage():
			return idx.Image(d.Digest)
		case d.Digest == h && d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			return platformImage(child, platform)
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			if img, err := imageIn(child, h, platform); err == nil {
				return img, nil
			}
		}
	}
	return nil, fmt.Errorf("manifest %s is not in the layout", h)
}

func platformImage(idx v1.ImageIndex, platform v1.Platform) (v1.Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.Satisfies(platform) && d.MediaType.IsImage() {
			return idx.Image(d.Digest)
		}
	}
	return nil, fmt.Errorf("the index has no image for %s", platform.String())
}

// explain turns a registry error into what the author of a pull request
// can act on, naming the registry and the reference.
func explain(r Ref, err error) string {
	var terr *transport.Error
	var nerr net.Error
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return err.Error()
	case errors.As(err, &terr):
		switch terr.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Sprintf("registry %s refused access to %s (HTTP %d): check the repository name, or give kubegate credentials for %s (it reads the Docker config, DOCKER_CONFIG and credential helpers, as docker login writes them)", r.Registry, r.Original, terr.StatusCode, r.Registry)
		case http.StatusNotFound:
			return fmt.Sprintf("registry %s has no %s (HTTP 404): check the repository and tag", r.Registry, r.Original)
		case http.StatusTooManyRequests:
			return fmt.Sprintf("registry %s rate-limited the requests for %s (HTTP 429) after retries: authenticate to raise the limit, or use --cache-dir so that later runs pull less", r.Registry, r.Original)
		}
		if terr.StatusCode >= 500 {
			return fmt.Sprintf("registry %s failed for %s (HTTP %d) after retries: the registry is having trouble; run again later", r.Registry, r.Original, terr.StatusCode)
		}
		return fmt.Sprintf("registry %s answered HTTP %d for %s: %v", r.Registry, terr.StatusCode, r.Original, terr)
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &nerr) && nerr.Timeout():
		return fmt.Sprintf("registry %s did not answer in time for %s: %v", r.Registry, r.Original, err)
	case errors.As(err, &nerr):
		return fmt.Sprintf("cannot reach registry %s for %s: %v (where no registry is reachable, run with --offline, or give the images with --image-layout)", r.Registry, r.Original, err)
	}
	return fmt.Sprintf("%s: %v", r.Original, err)
}
