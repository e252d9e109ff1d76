package sbom

import (
	"cmp"
	"slices"

	"github.com/anchore/syft/syft/sbom"
)

// Package is one package of an SBOM, as handed to the Rego rules.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Type    string `json:"type"` // syft's package type: "deb", "apk", "rpm", "go-module", "java-archive", ...
	PURL    string `json:"purl"` // package URL, "" when syft made none
}

// Packages lists s's packages sorted by type, name, version and purl, with
// duplicates (the same four fields, e.g. one package found at two
// locations) removed. It never returns nil.
func Packages(s *sbom.SBOM) []Package {
	out := []Package{}
	if s == nil || s.Artifacts.Packages == nil {
		return out
	}
	for p := range s.Artifacts.Packages.Enumerate() {
		out = append(out, Package{Name: p.Name, Version: p.Version, Type: string(p.Type), PURL: p.PURL})
	}
	slices.SortFunc(out, func(a, b Package) int {
		return cmp.Or(
			cmp.Compare(a.Type, b.Type),
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Version, b.Version),
			cmp.Compare(a.PURL, b.PURL),
		)
	})
	return slices.Compact(out)
}
