package load

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestShardsPartitionInputs: over the bundled fixtures and a directory of
// many small applications, the shards of every split are disjoint, cover
// every resource, keep a kustomization and the files of one directory
// together, and do not change between runs.
func TestShardsPartitionInputs(t *testing.T) {
	wd := t.TempDir()
	for i := range 40 {
		dir := filepath.Join(wd, "apps", fmt.Sprintf("app%02d", i))
		os.MkdirAll(dir, 0o755)
		for _, kind := range []string{"ConfigMap", "Secret"} {
			doc := fmt.Sprintf("apiVersion: v1\nkind: %s\nmetadata: {name: app%02d}\n", kind, i)
			os.WriteFile(filepath.Join(dir, kind+".yaml"), []byte(doc), 0o644)
		}
	}
	fixtures, err := filepath.Abs("../fixtures")
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"apps", fixtures}
	ids := func(res *Result) []string {
		if len(res.Errors) > 0 {
			t.Fatalf("errors: %v", res.Errors)
		}
		var out []string
		for _, r := range res.Resources {
			out = append(out, r.Source.File+" "+r.ID().String())
		}
		slices.Sort(out)
		return out
	}
	all := ids(Load(paths, Options{WorkDir: wd}))
	for _, n := range []int{2, 3, 7} {
		var union []string
		inputs := 0
		for i := 1; i <= n; i++ {
			res := Load(paths, Options{WorkDir: wd, Shard: Shard{Index: i, Count: n}})
			got := ids(res)
			if again := ids(Load(paths, Options{WorkDir: wd, Shard: Shard{Index: i, Count: n}})); !slices.Equal(got, again) {
				t.Fatalf("shard %d/%d differs between runs", i, n)
			}
			if i == 1 {
				inputs = res.OtherShards
			}
			union = append(union, got...)
		}
		slices.Sort(union)
		if !slices.Equal(union, all) {
			t.Errorf("%d shards: union of %d resources, want the %d of the whole run (no duplicates, none lost)", n, len(union), len(all))
		}
		if inputs == 0 {
			t.Errorf("%d shards: shard 1 left nothing to the others", n)
		}
	}
	// Each application directory lands in one shard.
	for i := 1; i <= 3; i++ {
		perApp := map[string]int{}
		for _, r := range Load([]string{"apps"}, Options{WorkDir: wd, Shard: Shard{Index: i, Count: 3}}).Resources {
			perApp[filepath.Dir(r.Source.File)]++
		}
		for app, n := range perApp {
			if n != 2 {
				t.Errorf("shard %d/3 has %d of %s's 2 files", i, n, app)
			}
		}
	}
}
