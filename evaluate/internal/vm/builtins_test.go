package vm

import (
	"flag"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/version"

	"github.com/kubegate/kubegate/internal/golden"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestBuiltinAllowList: every built-in the plan evaluator admits
// (builtins.txt) is one of OPA's, deterministic, not a relation, with a Go
// implementation; and what it does not admit is the reviewed list
// testdata/refused-builtins.golden, so that a built-in an OPA upgrade adds
// shows up here to be reviewed (admit it in builtins.txt, or refuse it
// with go test ./evaluate/internal/vm -run TestBuiltinAllowList -update).
func TestBuiltinAllowList(t *testing.T) {
	for name := range allowed {
		bi, ok := ast.BuiltinMap[name]
		switch {
		case !ok:
			t.Errorf("builtins.txt admits %s, which OPA does not have", name)
		case bi.Nondeterministic || bi.Relation || topdown.GetBuiltin(name) == nil:
			t.Errorf("builtins.txt admits %s, which is nondeterministic, a relation or has no implementation", name)
		}
	}
	var refused []string
	for name := range ast.BuiltinMap {
		if !allowed[name] {
			refused = append(refused, name)
		}
	}
	slices.Sort(refused)
	golden.Check(t, "testdata/refused-builtins.golden", strings.Join(refused, "\n")+"\n", *update,
		"the built-ins the plan evaluator refuses changed (an OPA upgrade?): review them, admit the pure ones in builtins.txt, then run with -update")
}

// opaVersion is the OPA the plan evaluator was written and checked against.
const opaVersion = "1.22.3"

// TestOPAVersion fails when OPA is upgraded, with what to check: the plan
// evaluator interprets OPA's IR, and a new OPA may plan differently.
func TestOPAVersion(t *testing.T) {
	if version.Version != opaVersion {
		t.Errorf(`OPA is %s; the plan evaluator was checked against %s. Before changing opaVersion:
  1. go test ./evaluate/internal/vm -run TestConformance -v: every case that runs passes; the counts have not fallen;
  2. read the changes to OPA's ir package and internal/planner: a new statement must be refused by Prepare or implemented;
  3. go test ./evaluate/internal/vm -run TestBuiltinAllowList: review the built-ins it lists;
  4. go test ./evaluate -run 'TestPlanEvaluatorMatchesTopdown|TestBuiltinPoliciesPlan' and the FuzzEvaluators fuzzer for a while;
  5. the yardstick (README), paired against the previous OPA.`, version.Version, opaVersion)
	}
}
