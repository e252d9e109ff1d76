package images

import (
	"context"
	"fmt"
	"testing"

	"github.com/kubegate/kubegate/images/internal/testimage"
)

// BenchmarkCheck times 8 unique images resolved, signature-verified and
// scanned from a registry on loopback, cold (an empty cache: every layer
// pulled, every SBOM built) and warm (the cache of an earlier run: the
// tags are resolved again, nothing else is fetched). It reports the
// registry requests and layer downloads per run.
func BenchmarkCheck(b *testing.B) {
	const n = 8
	reg := newTestRegistry(b)
	pub, signer := keyPair(b)
	var refs []string
	for i := range n {
		img := debian(b, testimage.Pkg{Name: "libc6", Version: "2.36-9"}, testimage.Pkg{Name: fmt.Sprintf("app%d", i), Version: "1.0-1"})
		ref, h := reg.push(fmt.Sprintf("bench/app%d", i), "1.0", img)
		reg.sign(signer, ref, h)
		refs = append(refs, ref)
	}
	opts := func(cache string) Options {
		return Options{SBOM: true, CacheDir: cache, Verify: &VerifyOptions{Keys: []string{pub}, IgnoreTlog: true}}
	}
	run := func(b *testing.B, cache string) {
		c, err := New(opts(cache))
		if err != nil {
			b.Fatal(err)
		}
		for _, img := range c.Check(context.Background(), refs) {
			if img.Error != "" || !img.Signature.Verified || len(img.Packages) != 2 {
				b.Fatalf("%+v", img)
			}
		}
	}
	b.Run("cold", func(b *testing.B) {
		reg.requests()
		for b.Loop() {
			run(b, b.TempDir())
		}
		log := reg.requests()
		b.ReportMetric(float64(len(log))/float64(b.N), "requests/op")
		b.ReportMetric(float64(contains(log, "/blobs/"))/float64(b.N), "blob-gets/op")
	})
	b.Run("warm", func(b *testing.B) {
		cache := b.TempDir()
		run(b, cache)
		reg.requests()
		for b.Loop() {
			run(b, cache)
		}
		log := reg.requests()
		b.ReportMetric(float64(len(log))/float64(b.N), "requests/op")
		b.ReportMetric(float64(contains(log, "/blobs/"))/float64(b.N), "blob-gets/op")
	})
}
