package testimage

import (
	"archive/tar"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestImagesAreDeterministic(t *testing.T) {
	a, err := DebianXZ()
	if err != nil {
		t.Fatal(err)
	}
	b, err := DebianXZ()
	if err != nil {
		t.Fatal(err)
	}
	da, _ := Digest(a)
	db, _ := Digest(b)
	if da != db || !strings.HasPrefix(da, "sha256:") {
		t.Errorf("digests %s and %s", da, db)
	}
	alp, err := AlpineXZ()
	if err != nil {
		t.Fatal(err)
	}
	if dalp, _ := Digest(alp); dalp == da {
		t.Errorf("Debian and Alpine images share a digest")
	}

	cfg, err := a.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OS != "linux" || cfg.Architecture != "amd64" || !cfg.Created.Equal(Epoch) {
		t.Errorf("config = %s/%s created %v", cfg.OS, cfg.Architecture, cfg.Created)
	}
	if mt, _ := a.MediaType(); mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %s", mt)
	}
}

func TestLayerContents(t *testing.T) {
	l, err := Layer(map[string]string{"/etc/os-release": "ID=x\n", "a/b/c.txt": "c"})
	if err != nil {
		t.Fatal(err)
	}
	if mt, _ := l.MediaType(); mt != types.OCILayer {
		t.Errorf("layer media type %s", mt)
	}
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	if got := strings.Join(names, " "); got != "a/ a/b/ a/b/c.txt etc/ etc/os-release" {
		t.Errorf("entries = %s", got)
	}
	if _, err := Layer(map[string]string{"a": "x", "a/b": "y"}); err == nil {
		t.Errorf("file/directory clash accepted")
	}
}

func TestLayouts(t *testing.T) {
	img, err := AlpineXZ()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "plain")
	if err := WriteLayout(dir, img); err != nil {
		t.Fatal(err)
	}
	if err := WriteLayout(dir, img); err == nil {
		t.Errorf("second WriteLayout into one dir accepted")
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	d, _ := img.Digest()
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != d {
		t.Fatalf("index = %+v", im.Manifests)
	}

	cos := filepath.Join(t.TempDir(), "cosign")
	if err := WriteCosignLayout(cos, img); err != nil {
		t.Fatal(err)
	}
	idx, err = layout.ImageIndexFromPath(cos)
	if err != nil {
		t.Fatal(err)
	}
	im, _ = idx.IndexManifest()
	var kinds []string
	for _, m := range im.Manifests {
		kinds = append(kinds, m.Annotations[KindAnnotation])
		if _, err := idx.Image(m.Digest); err != nil {
			t.Errorf("manifest %s unreadable: %v", m.Digest, err)
		}
	}
	if got := strings.Join(kinds, " "); got != KindImage+" "+KindSignatures+" "+KindAttestations {
		t.Errorf("kinds = %s", got)
	}
}
