package images

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// FileDigest is the SHA-256 of the regular file at name in the image ref
// (for the Checker's platform, when ref is an index), read from the image's
// flattened filesystem as a container sees it (later layers and whiteouts
// win). ref must be pinned by digest, so that what is read is what was
// verified. kubegate verify-self ties the running binary to its image with
// it.
func (c *Checker) FileDigest(ctx context.Context, ref, name string) (string, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return "", err
	}
	if r.Digest == "" {
		return "", fmt.Errorf("%s is not pinned by digest", ref)
	}
	if c.src == nil {
		return "", errors.New("no registry or image layout to read the image from (offline)")
	}
	h, err := c.src.resolve(ctx, r)
	if err != nil {
		return "", errors.New(explain(r, err))
	}
	img, err := c.src.image(ctx, r, h, c.opts.Platform)
	if err != nil {
		return "", errors.New(explain(r, err))
	}
	if err := c.checkSize(img); err != nil {
		return "", err
	}
	fs := mutate.Extract(img)
	defer fs.Close()
	want := strings.TrimPrefix(path.Clean("/"+name), "/")
	tr := tar.NewReader(fs)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("%s has no file %s", ref, name)
		}
		if err != nil {
			return "", fmt.Errorf("reading the layers of %s: %v", ref, err)
		}
		if strings.TrimPrefix(path.Clean("/"+hdr.Name), "/") != want {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			return "", fmt.Errorf("%s in %s is not a regular file", name, ref)
		}
		sum := sha256.New()
		if _, err := io.Copy(sum, tr); err != nil {
			return "", fmt.Errorf("reading %s in %s: %v", name, ref, err)
		}
		return "sha256:" + hex.EncodeToString(sum.Sum(nil)), nil
	}
}
