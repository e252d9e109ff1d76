package sbom

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// singleImageLayout returns the path of an OCI layout whose index.json
// holds exactly the image want, and a cleanup func. When dir already is
// such a layout it is returned as is; otherwise a temporary layout is made
// whose index.json names only want and whose blobs directory links to
// dir's (falling back to copying the image's blobs where links fail).
func singleImageLayout(dir string, want v1.Hash) (string, func(), error) {
	noop := func() {}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return "", noop, fmt.Errorf("reading the layout's index.json: %w", err)
	}
	top, err := idx.IndexManifest()
	if err != nil {
		return "", noop, fmt.Errorf("parsing the layout's index.json: %w", err)
	}

	desc, parent, err := findDescriptor(idx, want, 0)
	if err != nil {
		return "", noop, err
	}
	if desc == nil {
		return "", noop, fmt.Errorf("manifest not found in the layout (it holds %s)", describeManifests(top.Manifests))
	}
	if desc.MediaType.IsIndex() {
		return "", noop, fmt.Errorf("manifest is an image index (%s), not an image: pass the digest of one platform's image manifest", desc.MediaType)
	}
	if !desc.MediaType.IsImage() {
		return "", noop, fmt.Errorf("manifest has media type %q, not an image manifest", desc.MediaType)
	}

	if len(top.Manifests) == 1 && top.Manifests[0].Digest == want {
		return dir, noop, nil
	}

	tmp, err := os.MkdirTemp("", "kubegate-sbom-layout-")
	if err != nil {
		return "", noop, fmt.Errorf("making a temporary layout: %w", err)
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }

	if err := linkedLayout(tmp, dir, *desc); err != nil {
		// links unavailable: copy the one image's blobs instead
		img, ierr := parent.Image(want)
		if ierr != nil {
			cleanup()
			return "", noop, fmt.Errorf("reading the image: %w", ierr)
		}
		if rerr := os.RemoveAll(tmp); rerr != nil {
			return "", noop, fmt.Errorf("making a temporary layout: %w", errors.Join(err, rerr))
		}
		p, werr := layout.Write(tmp, empty.Index)
		if werr == nil {
			werr = p.AppendImage(img)
		}
		if werr != nil {
			cleanup()
			return "", noop, fmt.Errorf("extracting the image into a temporary layout: %w", errors.Join(err, werr))
		}
	}
	return tmp, cleanup, nil
}

// linkedLayout writes at tmp an OCI layout whose index.json holds only
// desc and whose blobs directory is a symlink to src's.
func linkedLayout(tmp, src string, desc v1.Descriptor) error {
	abs, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	if err := os.Symlink(filepath.Join(abs, "blobs"), filepath.Join(tmp, "blobs")); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return err
	}
	index := v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     "application/vnd.oci.image.index.v1+json",
		Manifests:     []v1.Descriptor{desc},
	}
	b, err := json.Marshal(index)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(tmp, "index.json"), b, 0o644)
}

// maxIndexDepth bounds the walk through nested indexes (a cycle would
// need a hash collision, but a malformed layout should still not hang).
const maxIndexDepth = 8

// findDescriptor looks for want in idx and its nested indexes, depth
// first, returning the descriptor and the index that holds it.
func findDescriptor(idx v1.ImageIndex, want v1.Hash, depth int) (*v1.Descriptor, v1.ImageIndex, error) {
	if depth > maxIndexDepth {
		return nil, nil, fmt.Errorf("image indexes nested deeper than %d", maxIndexDepth)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, nil, fmt.Errorf("parsing an image index: %w", err)
	}
	for i := range im.Manifests {
		if im.Manifests[i].Digest == want {
			d := im.Manifests[i]
			return &d, idx, nil
		}
	}
	for _, m := range im.Manifests {
		if !m.MediaType.IsIndex() {
			continue
		}
		child, err := idx.ImageIndex(m.Digest)
		if err != nil {
			return nil, nil, fmt.Errorf("reading nested index %s: %w", m.Digest, err)
		}
		d, parent, err := findDescriptor(child, want, depth+1)
		if err != nil || d != nil {
			return d, parent, err
		}
	}
	return nil, nil, nil
}

// describeManifests summarises index.json's entries for error messages.
func describeManifests(ms []v1.Descriptor) string {
	if len(ms) == 0 {
		return "no manifests"
	}
	const maxListed = 6
	parts := make([]string, 0, maxListed)
	for i, m := range ms {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more", len(ms)-maxListed))
			break
		}
		s := m.Digest.String()
		if kind := m.Annotations["kind"]; kind != "" {
			s += " (" + kind + ")"
		} else if m.MediaType.IsIndex() {
			s += " (index)"
		}
		parts = append(parts, s)
	}
	noun := "manifests"
	if len(ms) == 1 {
		noun = "manifest"
	}
	return fmt.Sprintf("%d %s: %s", len(ms), noun, strings.Join(parts, ", "))
}
