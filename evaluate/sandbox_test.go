package evaluate

import (
	"flag"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/kubegate/kubegate/internal/golden"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite golden files")

// TestSandboxAllowList: every built-in policies may call (sandbox.txt) is
// one of OPA's, and what they may not is the reviewed list
// testdata/sandbox-refused.golden, so that a built-in an OPA upgrade adds
// shows up here (admit it in sandbox.txt if it reaches neither the
// network nor the environment, then run with -update-golden).
func TestSandboxAllowList(t *testing.T) {
	have := map[string]bool{}
	for _, b := range ast.CapabilitiesForThisVersion().Builtins {
		have[b.Name] = true
	}
	for name := range sandboxAllowed {
		if !have[name] {
			t.Errorf("sandbox.txt admits %s, which OPA does not have", name)
		}
	}
	var refused []string
	for name := range have {
		if !sandboxAllowed[name] {
			refused = append(refused, name)
		}
	}
	slices.Sort(refused)
	golden.Check(t, "testdata/sandbox-refused.golden", strings.Join(refused, "\n")+"\n", *updateGolden,
		"the built-ins the sandbox refuses changed (an OPA upgrade?): review them, then run with -update-golden")
	caps := sandboxed(false)
	for _, b := range caps.Builtins {
		if b.Name == "http.send" || b.Name == "opa.runtime" {
			t.Errorf("the sandbox admits %s", b.Name)
		}
	}
}
