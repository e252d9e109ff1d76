package images

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/kubegate/kubegate/images/internal/testimage"
)

func TestFileDigest(t *testing.T) {
	reg := newTestRegistry(t)
	img, err := testimage.ImageFromFiles(
		map[string]string{"usr/local/bin/kubegate": "old", "etc/motd": "hello"},
		map[string]string{"usr/local/bin/kubegate": "new", "etc/.wh.motd": ""},
	)
	if err != nil {
		t.Fatal(err)
	}
	ref, h := reg.push("kubegate/kubegate", "v1", img)
	pinned := strings.Split(ref, ":v1")[0] + "@" + h.String()
	c, err := New(Options{Sleep: (&noSleep{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sum := sha256.Sum256([]byte("new"))
	if got, err := c.FileDigest(ctx, pinned, "/usr/local/bin/kubegate"); err != nil || got != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("the top layer's file: %s, %v", got, err)
	}
	for name, want := range map[string]string{
		"/etc/motd":          "has no file /etc/motd", // whited out
		"/usr/local/bin":     "is not a regular file",
		"/usr/local/bin/opa": "has no file",
	} {
		if _, err := c.FileDigest(ctx, pinned, name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", name, err, want)
		}
	}
	if _, err := c.FileDigest(ctx, ref, "/usr/local/bin/kubegate"); err == nil || !strings.Contains(err.Error(), "not pinned by digest") {
		t.Errorf("a tag: %v", err)
	}
}
