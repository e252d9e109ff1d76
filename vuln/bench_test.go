package vuln

import (
	"fmt"
	"testing"

	syftpkg "github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/sbom"
	"golang.org/x/sync/errgroup"

	"github.com/kubegate/kubegate/vuln/vulntest"
)

// BenchmarkMatch8Images matches 8 images of 120 Debian packages each
// against a database of 3,000 advisories, once it is open: the cost the
// images.vulnerability checks add to a pull request with 8 images (issue
// 20's target: under 1 s). Reports ms/8images.
func BenchmarkMatch8Images(b *testing.B) {
	advs := append([]vulntest.Advisory(nil), advisories...)
	for i := range 3000 {
		advs = append(advs, vulntest.Advisory{ID: fmt.Sprintf("CVE-2025-%05d", i), Severity: []string{"low", "medium", "high", "critical"}[i%4],
			Distro: "debian:12", Package: fmt.Sprintf("src%d", i%400), Type: "deb", Affected: fmt.Sprintf("< 1.%d-1", i%7), Fix: fmt.Sprintf("1.%d-1", i%7)})
	}
	dir := b.TempDir()
	if err := vulntest.Write(dir, advs); err != nil {
		b.Fatal(err)
	}
	db, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var images []*sbom.SBOM
	for i := range 8 {
		var pkgs []syftpkg.Package
		for j := range 120 {
			n := (i*37 + j) % 400
			pkgs = append(pkgs, deb(fmt.Sprintf("lib%d", n), fmt.Sprintf("1.%d-0", j%5), fmt.Sprintf("src%d", n)))
		}
		images = append(images, image(fmt.Sprintf("registry.example.com/app%d", i), debian12, pkgs...))
	}
	// As package images does: four images at a time.
	found := 0
	for b.Loop() {
		counts := make([]int, len(images))
		var g errgroup.Group
		g.SetLimit(4)
		for i, s := range images {
			g.Go(func() error {
				vs, _, err := db.Match(s, nil)
				counts[i] = len(vs)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		found = 0
		for _, n := range counts {
			found += n
		}
	}
	if found == 0 {
		b.Fatal("no vulnerability matched")
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/8images")
	b.ReportMetric(float64(found), "matches")
}
