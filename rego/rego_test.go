package rego_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"path"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/kubegate/kubegate/internal/k8s"
	"github.com/kubegate/kubegate/rego"
	"github.com/kubegate/kubegate/schema"
)

// modules parses every embedded .rego file, tests included.
func modules(t *testing.T) map[string]*ast.Module {
	t.Helper()
	mods := map[string]*ast.Module{}
	err := fs.WalkDir(rego.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".rego" {
			return err
		}
		src, err := fs.ReadFile(rego.FS, p)
		if err != nil {
			return err
		}
		m, err := ast.ParseModuleWithOpts(p, string(src), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			return err
		}
		mods[p] = m
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return mods
}

// TestRego runs every *_test.rego, as `opa test rego/` would.
func TestRego(t *testing.T) {
	mods := modules(t)
	// The data the engine gives the policies beside the resources.
	var apis map[string]any
	data, _ := json.Marshal(schema.Lifecycle())
	if err := json.Unmarshal(data, &apis); err != nil {
		t.Fatal(err)
	}
	store := inmem.NewFromObject(map[string]any{"kubegate": map[string]any{"workloads": k8s.Workloads(), "apis": apis, "cluster": map[string]any{"minor": 37}}})
	ch, err := tester.NewRunner().SetModules(mods).SetStore(store).EnableTracing(false).RunTests(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r := range ch {
		n++
		name := r.Location.File + ":" + r.Package + "." + r.Name
		if r.Error != nil {
			t.Errorf("%s: error: %v", name, r.Error)
		} else if r.Fail {
			t.Errorf("%s: FAIL", name)
		}
	}
	if n == 0 {
		t.Fatal("no Rego tests ran")
	}
}

// TestEveryRuleHasTests is the coverage gate: each rule module
// (<area>/<rule>.rego) needs a sibling <rule>_test.rego holding at least one
// test_fires_* and one test_passes_* test.
func TestEveryRuleHasTests(t *testing.T) {
	mods := modules(t)
	for p, m := range mods {
		if strings.HasSuffix(p, "_test.rego") {
			continue
		}
		if strings.HasPrefix(p, "lib/") || strings.HasPrefix(p, "index/") {
			// Helpers and lookup tables: no METADATA, but tests all the same.
			if _, ok := mods[strings.TrimSuffix(p, ".rego")+"_test.rego"]; !ok && strings.HasPrefix(p, "index/") {
				t.Errorf("%s: no sibling _test.rego", p)
			}
			continue
		}
		if len(m.Annotations) == 0 {
			t.Errorf("%s: rule module has no METADATA", p)
		}
		tm, ok := mods[strings.TrimSuffix(p, ".rego")+"_test.rego"]
		if !ok {
			t.Errorf("%s: no sibling _test.rego", p)
			continue
		}
		var fires, passes bool
		for _, r := range tm.Rules {
			name := r.Head.Ref().String()
			fires = fires || strings.HasPrefix(name, "test_fires")
			passes = passes || strings.HasPrefix(name, "test_passes")
		}
		if !fires || !passes {
			t.Errorf("%s: tests need at least one test_fires_* and one test_passes_* (fires=%v passes=%v)", p, fires, passes)
		}
	}
}
