package vm

import (
	"context"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
)

// Control flow on hand-written plans, where OPA's planner may not emit
// every shape: the expected results follow OPA's WebAssembly compiler, in
// which a scan is a block around a loop and a not statement a block.
func TestControlFlow(t *testing.T) {
	local := func(n int) ir.Operand { return ir.Operand{Value: ir.Local(n)} }
	num := func(n int64, target int) ir.Stmt { return &ir.MakeNumberIntStmt{Value: n, Target: ir.Local(target)} }
	add := func(l int) ir.Stmt { return &ir.ResultSetAddStmt{Value: ir.Local(l)} }
	block := func(stmts ...ir.Stmt) *ir.Block { return &ir.Block{Stmts: stmts} }
	scan := func(body ...ir.Stmt) ir.Stmt {
		return &ir.ScanStmt{Source: ir.Input, Key: 3, Value: 4, Block: block(body...)}
	}
	for _, tc := range []struct {
		name   string
		blocks []*ir.Block
		input  string
		want   []int64
	}{
		{
			name: "an undefined statement in a scan body goes on with the next element",
			blocks: []*ir.Block{block(scan(
				num(2, 2), &ir.EqualStmt{A: local(4), B: local(2)}, add(4),
			))},
			input: "[1, 2, 3, 2]", want: []int64{2, 2},
		},
		{
			name: "break 1 in a scan body leaves the scan, not the block around it",
			blocks: []*ir.Block{block(
				scan(num(2, 2), &ir.EqualStmt{A: local(4), B: local(2)}, &ir.BreakStmt{Index: 1}),
				add(4),
			)},
			input: "[1, 2, 3]", want: []int64{2},
		},
		{
			name: "break 2 in a scan body leaves the block around the scan",
			blocks: []*ir.Block{block(
				&ir.BlockStmt{Blocks: []*ir.Block{block(
					scan(&ir.BreakStmt{Index: 2}),
					num(7, 5), add(5),
				)}},
				num(9, 6), add(6),
			)},
			input: "[1]", want: []int64{9},
		},
		{
			name: "break 3 in a scan body leaves one more block",
			blocks: []*ir.Block{block(
				&ir.BlockStmt{Blocks: []*ir.Block{block(
					scan(&ir.BreakStmt{Index: 3}),
					num(7, 5), add(5),
				)}},
				num(9, 6), add(6),
			), block(num(11, 7), add(7))},
			input: "[1]", want: []int64{11},
		},
		{
			name: "the blocks of a block statement run in turn; an undefined one leaves only itself",
			blocks: []*ir.Block{block(&ir.BlockStmt{Blocks: []*ir.Block{
				block(num(1, 2), &ir.IsUndefinedStmt{Source: 2}, add(2)),
				block(num(2, 3), add(3)),
				block(num(3, 5), &ir.BreakStmt{Index: 0}, add(5)),
				block(num(4, 6), add(6)),
			}})},
			input: "[]", want: []int64{2, 4},
		},
		{
			name: "break 1 in a block statement's block leaves the enclosing block",
			blocks: []*ir.Block{block(
				&ir.BlockStmt{Blocks: []*ir.Block{block(&ir.BreakStmt{Index: 1}), block(num(1, 2), add(2))}},
				num(2, 3), add(3),
			), block(num(3, 5), add(5))},
			input: "[]", want: []int64{3},
		},
		{
			name: "not holds when its block is undefined, and is undefined when the block holds",
			blocks: []*ir.Block{
				block(num(5, 2), &ir.NotStmt{Block: block(&ir.IsUndefinedStmt{Source: 2})}, add(2)),
				block(num(6, 3), &ir.NotStmt{Block: block(&ir.IsDefinedStmt{Source: 3})}, add(3)),
			},
			input: "[]", want: []int64{5},
		},
		{
			name: "break 1 in a not statement's block leaves the block around the not",
			blocks: []*ir.Block{
				block(num(5, 2), &ir.NotStmt{Block: block(&ir.BreakStmt{Index: 1})}, add(2)),
				block(num(6, 3), add(3)),
			},
			input: "[]", want: []int64{6},
		},
		{
			name: "return ends the plan",
			blocks: []*ir.Block{
				block(num(1, 2), add(2), &ir.ReturnLocalStmt{Source: 2}),
				block(num(2, 3), add(3)),
			},
			input: "[]", want: []int64{1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog, err := Prepare(&ir.Policy{
				Static: &ir.Static{},
				Plans:  &ir.Plans{Plans: []*ir.Plan{{Name: "p", Blocks: tc.blocks}}},
				Funcs:  &ir.Funcs{},
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := prog.Eval(context.Background(), ast.MustParseTerm(tc.input), ast.NewTerm(ast.NewObject()))
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, x := range out {
				n, _ := x.Value.(ast.Number).Int64()
				got = append(got, n)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("results %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("results %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// TestPrepareChecksConventions: the plan evaluator relies on two
// conventions of OPA's planner (a function of two parameters is a rule of
// the input and data documents, memoized; a function returns its Return
// local); a plan that breaks either is refused, for topdown to evaluate.
func TestPrepareChecksConventions(t *testing.T) {
	block := func(stmts ...ir.Stmt) *ir.Block { return &ir.Block{Stmts: stmts} }
	rule := &ir.Func{Name: "g0.data.x.p", Params: []ir.Local{0, 1}, Return: 2, Blocks: []*ir.Block{
		block(&ir.MakeNumberIntStmt{Value: 1, Target: 2}),
		block(&ir.ReturnLocalStmt{Source: 2}),
	}}
	call := func(args ...ir.Local) *ir.Policy {
		var ops []ir.Operand
		for _, a := range args {
			ops = append(ops, ir.Operand{Value: a})
		}
		return &ir.Policy{
			Static: &ir.Static{},
			Funcs:  &ir.Funcs{Funcs: []*ir.Func{rule}},
			Plans: &ir.Plans{Plans: []*ir.Plan{{Name: "q", Blocks: []*ir.Block{block(
				&ir.MakeObjectStmt{Target: 5},
				&ir.CallStmt{Func: rule.Name, Args: ops, Result: 6},
				&ir.ResultSetAddStmt{Value: 6},
			)}}}},
		}
	}
	if _, err := Prepare(call(ir.Input, ir.Data)); err != nil {
		t.Errorf("a rule called with the input and data documents: %v", err)
	}
	if _, err := Prepare(call(ir.Input, 5)); err == nil || !strings.Contains(err.Error(), "called with other than the input and data documents") {
		t.Errorf("a rule called with another data document: %v, want a refusal", err)
	}
	bad := *rule
	bad.Blocks = []*ir.Block{block(&ir.MakeNumberIntStmt{Value: 1, Target: 3}), block(&ir.ReturnLocalStmt{Source: 3})}
	p := call(ir.Input, ir.Data)
	p.Funcs.Funcs = []*ir.Func{&bad}
	if _, err := Prepare(p); err == nil || !strings.Contains(err.Error(), "a return of other than the function's result") {
		t.Errorf("a function returning another local: %v, want a refusal", err)
	}
}
