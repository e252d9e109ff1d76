package schema_test

import (
	"path/filepath"
	"testing"

	"github.com/kubegate/kubegate/load"
	"github.com/kubegate/kubegate/schema"
)

// BenchmarkValidate validates the valid testdata objects (17 of many
// kinds), as kubegate does each resource of a run.
func BenchmarkValidate(b *testing.B) {
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	res := load.Load(files, load.Options{WorkDir: "."})
	if len(res.Errors) > 0 || len(res.Resources) == 0 {
		b.Fatal(res.Errors)
	}
	c, err := schema.New(37)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range res.Resources {
		c.Validate(r.Object) // build the validators
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, r := range res.Resources {
			if ps, _, _ := c.Validate(r.Object); len(ps) > 0 {
				b.Fatal(ps)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(res.Resources))/1000, "µs/object")
}
