package images

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Ref is an image reference as a manifest writes it, taken apart the way
// the container runtime reads it (go-containerregistry's parser, with
// Docker's defaults: docker.io and library/ for bare names).
type Ref struct {
	// Original is the reference exactly as written.
	Original string
	// Registry is the registry host, "docker.io" for Docker Hub.
	Registry string
	// Repository is the path within the registry (library/nginx).
	Repository string
	// Tag is the tag as written; "" when the reference has none.
	Tag string
	// Digest is the digest the reference pins ("sha256:..."), if any.
	Digest string

	repo name.Repository
}

// ParseRef takes an image reference apart.
func ParseRef(s string) (Ref, error) {
	r := Ref{Original: s}
	base := s
	if i := strings.LastIndex(s, "@"); i >= 0 {
		d, err := name.NewDigest(s)
		if err != nil {
			return r, fmt.Errorf("image %q is not a valid reference: %v", s, err)
		}
		r.Digest = d.DigestStr()
		base = s[:i]
	}
	// A tag is what follows the last colon after the last slash (a colon
	// before it belongs to a registry port).
	if i := strings.LastIndex(base, ":"); i > strings.LastIndex(base, "/") {
		r.Tag = base[i+1:]
	}
	t, err := name.NewTag(base)
	if err != nil {
		return r, fmt.Errorf("image %q is not a valid reference: %v", s, err)
	}
	r.repo = t.Context()
	r.Registry = familiarRegistry(r.repo.RegistryStr())
	r.Repository = r.repo.RepositoryStr()
	return r, nil
}

// familiarRegistry names Docker Hub as people write it.
func familiarRegistry(host string) string {
	if host == name.DefaultRegistry {
		return "docker.io"
	}
	return host
}

// Name is the repository with its registry: docker.io/library/nginx.
func (r Ref) Name() string { return r.Registry + "/" + r.Repository }

// reference is what to resolve: the digest when pinned, else the tag
// ("latest" when there is none, as the runtime pulls).
func (r Ref) reference() name.Reference {
	if r.Digest != "" {
		return r.repo.Digest(r.Digest)
	}
	return r.repo.Tag(cmp.Or(r.Tag, "latest"))
}

// Pinned is the reference with the digest it resolves to, as a manifest
// should write it: registry.example.com/web:1.4@sha256:...
func (r Ref) Pinned(digest string) string {
	base := r.Original
	if i := strings.LastIndex(base, "@"); i >= 0 {
		base = base[:i]
	}
	return base + "@" + digest
}
