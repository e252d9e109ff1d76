package schema_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kubegate/kubegate/schema"
)

// The schema verdicts on built-in kinds agree with the API server's own
// decoding: client-go's scheme with strict decoding, which rejects unknown
// fields and values of the wrong type as the API server's strict field
// validation does. Over valid objects of many kinds and, from each, objects
// with one mutation (an unknown key put in a map at random, or a scalar
// changed to another type), kubegate rejects exactly what the decoder
// rejects; and the valid objects raise nothing. Each time, the fast pass
// over values (fast.go) calls valid only what kube-openapi calls valid
// (TestFastPassAgrees, in effect).
func TestDifferentialAgainstStrictDecoding(t *testing.T) {
	decoder := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	cat := catalog(t, 37)
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	var seeds []map[string]any
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, objects(t, string(data))...)
	}
	decodes := func(obj map[string]any) error {
		data, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = decoder.Decode(data, nil, nil)
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const perSeed = 40
	var rejected, accepted, fastValid int
	for _, seed := range seeds {
		if err := decodes(seed); err != nil {
			t.Fatalf("%v seed does not decode: %v", seed["kind"], err)
		}
		if got := problems(cat, seed); len(got) > 0 {
			t.Errorf("%v seed: %q", seed["kind"], got)
		}
		for i := range perSeed {
			obj := schema.DeepCopy(seed).(map[string]any)
			what := mutate(rng, obj, i%2 == 0)
			if what == "" {
				continue
			}
			err := decodes(obj)
			got := problems(cat, obj)
			// The fast pass never calls valid what kube-openapi does not.
			if fast, full := schema.FastAndFull(cat, obj); fast && !full {
				t.Errorf("%v, %s: the fast pass says valid, kube-openapi does not", seed["kind"], what)
			} else if fast {
				fastValid++
			}
			if (err != nil) != (len(got) > 0) {
				t.Errorf("%v, %s:\n  strict decoding: %v\n  kubegate: %q", seed["kind"], what, err, got)
			}
			if err != nil {
				rejected++
			} else {
				accepted++
			}
		}
	}
	t.Logf("%d seeds, %d mutations the decoder rejected, %d it accepted; kubegate agreed on each; the fast pass found %d valid", len(seeds), rejected, accepted, fastValid)
	if rejected < 100 || accepted < 20 {
		t.Errorf("too few cases of each verdict: %d rejected, %d accepted", rejected, accepted)
	}
}

// mutate changes obj once: an unknown key in a map (unknown true), or a
// scalar into another type. It says what it did ("" for nothing).
func mutate(rng *rand.Rand, obj map[string]any, unknown bool) string {
	type site struct {
		parent any
		key    any // string or int
		path   string
	}
	var mapSites, scalars []site
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch v := v.(type) {
		case map[string]any:
			mapSites = append(mapSites, site{parent: v, path: path})
			for _, k := range slices.Sorted(maps.Keys(v)) {
				x := v[k]
				if path == "" && (k == "apiVersion" || k == "kind") {
					continue
				}
				if _, ok := x.(map[string]any); !ok {
					if _, ok := x.([]any); !ok {
						scalars = append(scalars, site{parent: v, key: k, path: path + "." + k})
					}
				}
				walk(x, path+"."+k)
			}
		case []any:
			for i, x := range v {
				switch x.(type) {
				case map[string]any, []any:
				default:
					scalars = append(scalars, site{parent: v, key: i, path: fmt.Sprintf("%s[%d]", path, i)})
				}
				walk(x, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(obj, "")
	if unknown {
		s := mapSites[rng.IntN(len(mapSites))]
		s.parent.(map[string]any)["zzUnknownField"] = "x"
		return "an unknown key at " + s.path
	}
	if len(scalars) == 0 {
		return ""
	}
	s := scalars[rng.IntN(len(scalars))]
	var old any
	switch p := s.parent.(type) {
	case map[string]any:
		old = p[s.key.(string)]
	case []any:
		old = p[s.key.(int)]
	}
	var repl any
	switch old.(type) {
	case string:
		repl = []any{int64(7), true}[rng.IntN(2)]
	case int64, float64:
		repl = []any{"seven", true}[rng.IntN(2)]
	case bool:
		repl = []any{"yes", int64(1)}[rng.IntN(2)]
	default:
		return ""
	}
	switch p := s.parent.(type) {
	case map[string]any:
		p[s.key.(string)] = repl
	case []any:
		p[s.key.(int)] = repl
	}
	return fmt.Sprintf("%s: %v -> %#v", s.path, old, repl)
}
