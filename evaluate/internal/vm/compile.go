package vm

import (
	"context"
	"errors"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// target is the rego target under which OPA hands a query's plan to
// planCapture rather than evaluating it.
const target = "kubegate-plan"

// planCapture receives the plan of the query being prepared. rego offers a
// plan only to a registered target plugin, and plugins are global: it is
// registered by the first Compile (not when the package is imported), and
// mu serialises planning.
type planCapture struct {
	mu   sync.Mutex
	plan *ir.Policy
}

var (
	capture  = &planCapture{}
	register sync.Once
)

func (*planCapture) IsTarget(t string) bool { return t == target }

func (c *planCapture) PrepareForEval(_ context.Context, p *ir.Policy, _ ...rego.PrepareOption) (rego.TargetPluginEval, error) {
	c.plan = p
	return nil, nil
}

// Compile plans query over the compiled policies of c with OPA's planner
// and prepares the plan. rego switches c to IR mode to plan, which only
// skips building topdown's indices for later queries; Compile switches it
// back to topdown's mode, so c serves both evaluators.
func Compile(c *ast.Compiler, query string) (*Program, error) {
	register.Do(func() { rego.RegisterPlugin(target, capture) })
	capture.mu.Lock()
	defer capture.mu.Unlock()
	defer c.WithEvalMode(ast.EvalModeTopdown)
	capture.plan = nil
	_, err := rego.New(
		rego.Query(query),
		rego.Compiler(c),
		rego.Store(inmem.New()),
		rego.Target(target),
	).PrepareForEval(context.Background())
	if err != nil {
		return nil, err
	}
	if capture.plan == nil {
		return nil, errors.New("OPA made no plan")
	}
	return Prepare(capture.plan)
}
