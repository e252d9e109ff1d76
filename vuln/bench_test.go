package vuln

import (
	"fmt"
	"testing"

	syftpkg "github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/sbom"

	"github.com/kubegate/kubegate/vuln/vulntest"
)

// BenchmarkMatch8Images matches 8 images against a database of 3,000
// advisories, once it is open, one image at a time as package images does
// (DB.Match takes turns): the cost the images.vulnerability checks add to a
// cold run with 8 images (issue 20's target: under 1 s). Reports
// ms/8images. A warm run reads the matches from the cache instead.
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
	// 8 images of 120 packages (a Debian-based application image), and a
	// mix closer to a service's: 4 of 90 (debian:12-slim), 2 of 15 and 2
	// of 4 (Alpine, distroless).
	for _, sizes := range [][]int{{120, 120, 120, 120, 120, 120, 120, 120}, {90, 90, 90, 90, 15, 15, 4, 4}} {
		var images []*sbom.SBOM
		total := 0
		for i, size := range sizes {
			var pkgs []syftpkg.Package
			for j := range size {
				n := (i*37 + j) % 400
				pkgs = append(pkgs, deb(fmt.Sprintf("lib%d", n), fmt.Sprintf("1.%d-0", j%5), fmt.Sprintf("src%d", n)))
			}
			total += size
			images = append(images, image(fmt.Sprintf("registry.example.com/app%d", i), debian12, pkgs...))
		}
		b.Run(fmt.Sprintf("%dpackages", total), func(b *testing.B) {
			found := 0
			for b.Loop() {
				found = 0
				for _, s := range images {
					vs, _, err := db.Match(s, nil)
					if err != nil {
						b.Fatal(err)
					}
					found += len(vs)
				}
			}
			if found == 0 {
				b.Fatal("no vulnerability matched")
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/8images")
			b.ReportMetric(float64(found), "matches")
		})
	}
}
