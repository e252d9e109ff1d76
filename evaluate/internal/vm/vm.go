// Package vm evaluates a Rego query plan: the intermediate representation
// (IR) that OPA's planner makes of compiled policies, the same plan that
// OPA compiles to WebAssembly. It interprets the plan directly over OPA's
// own values and calls OPA's own built-in functions, without the
// unification, bindings and backtracking machinery of OPA's topdown
// evaluator, which dominates the cost of evaluating many small documents.
//
// The semantics follow OPA's WebAssembly compiler
// (internal/compiler/wasm), the reference for the IR: a statement that is
// undefined leaves the innermost block; BreakStmt{N} leaves N more; a scan
// body is one block level and the scan itself another; a not statement's
// block is one level; functions of (input, data) alone are memoized for one
// evaluation. Topdown remains the reference for results: the engine's
// tests compare the two on every fixture, the corpus and the yardstick.
//
// Prepare refuses a plan with a with statement, a dynamic call or a
// built-in outside pure (one that reads the clock, randomness, the network
// or OPA's caches), so that the caller falls back to topdown.
package vm

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/builtins"
)

// Program is a prepared plan, safe for concurrent evaluations.
type Program struct {
	plan    *ir.Plan
	files   []string // the policy files that statements' locations index
	strings []*ast.Term
	numbers []*ast.Term
	funcs   []*function
	nlocals int
	// machines are evaluation states, reused.
	machines sync.Pool
}

type function struct {
	index   int
	name    string
	params  []ir.Local
	ret     ir.Local
	blocks  []*ir.Block
	nlocals int
	memo    bool
}

// call is a resolved CallStmt: a planned function or a built-in.
type call struct {
	fn      *function
	builtin topdown.BuiltinFunc
	// keysOnly: the built-in reads only its operands' keys; objectGet: it
	// is object.get (lazy.go).
	keysOnly, objectGet bool
}

// ErrUnsupported is wrapped by Prepare's error when the plan needs
// something this package does not implement.
var ErrUnsupported = errors.New("not supported by kubegate's plan evaluator")

// Prepare checks and indexes a plan of one query.
func Prepare(pol *ir.Policy) (*Program, error) {
	if pol.Plans == nil || len(pol.Plans.Plans) != 1 {
		return nil, fmt.Errorf("%w: a policy with other than one plan", ErrUnsupported)
	}
	p := &Program{plan: pol.Plans.Plans[0]}
	if pol.Static != nil {
		for _, f := range pol.Static.Files {
			p.files = append(p.files, f.Value)
		}
		for _, s := range pol.Static.Strings {
			p.strings = append(p.strings, ast.StringTerm(s.Value))
			p.numbers = append(p.numbers, ast.NewTerm(ast.Number(s.Value)))
		}
	}
	byName := map[string]*function{}
	if pol.Funcs != nil {
		for i, f := range pol.Funcs.Funcs {
			fn := &function{index: i, name: f.Name, params: f.Params, ret: f.Return, blocks: f.Blocks, memo: len(f.Params) == 2}
			p.funcs = append(p.funcs, fn)
			byName[f.Name] = fn
		}
	}
	seen := map[ir.Stmt]bool{}
	for _, fn := range p.funcs {
		// The planner numbers locals across the whole policy; a frame
		// holds only its function's, renumbered densely.
		r := &renumber{p: p, byName: byName, seen: seen, locals: map[ir.Local]ir.Local{}, base: map[ir.Local]bool{}, number: map[ir.Local]bool{}}
		fn.params = slices.Clone(fn.params)
		for i := range fn.params {
			r.local(&fn.params[i])
		}
		if len(fn.params) < 2 {
			return nil, fmt.Errorf("%w: function %s takes %d parameters, not the input and data documents first", ErrUnsupported, fn.name, len(fn.params))
		}
		r.local(&fn.ret)
		r.in, r.data, r.ret = fn.params[0], fn.params[1], fn.ret
		r.base[fn.params[1]] = true // the planner's functions take (input, data, ...)
		for _, b := range fn.blocks {
			if err := r.block(b); err != nil {
				return nil, fmt.Errorf("function %s: %w", fn.name, err)
			}
		}
		fn.nlocals = len(r.locals)
	}
	r := &renumber{p: p, byName: byName, seen: seen, locals: map[ir.Local]ir.Local{ir.Input: ir.Input, ir.Data: ir.Data}, base: map[ir.Local]bool{ir.Data: true}, number: map[ir.Local]bool{},
		in: ir.Input, data: ir.Data, ret: -1}
	for _, b := range p.plan.Blocks {
		if err := r.block(b); err != nil {
			return nil, fmt.Errorf("plan %s: %w", p.plan.Name, err)
		}
	}
	p.nlocals = len(r.locals)
	p.machines.New = func() any {
		m := &machine{p: p, memo: make([]*ast.Term, len(p.funcs)), memoSet: make([]bool, len(p.funcs)), stack: make([]*ast.Term, 0, stackSize)}
		m.output = func(t *ast.Term) error {
			m.out = t
			return nil
		}
		return m
	}
	return p, nil
}

// renumber checks the statements of one function, refusing what Eval does
// not implement, resolves its calls and renumbers its locals in place.
type renumber struct {
	p      *Program
	byName map[string]*function
	seen   map[ir.Stmt]bool
	locals map[ir.Local]ir.Local
	call   call // the last CallStmt's
	// in, data and ret are the locals of the function's input and data
	// documents and of its result (ret < 0 in the query's plan), which
	// the conventions checked below are about.
	in, data, ret ir.Local
	// base marks the (renumbered) locals that a reference into the data
	// document reaches (data.a.b, data.a[x], not a variable assigned from
	// one), and number those that hold a number constant.
	base, number map[ir.Local]bool
}

// isLocal is o's local, if it is one.
func isLocal(o ir.Operand) (ir.Local, bool) {
	l, ok := o.Value.(ir.Local)
	return l, ok
}

func (r *renumber) local(l *ir.Local) {
	n, ok := r.locals[*l]
	if !ok {
		n = ir.Local(len(r.locals))
		r.locals[*l] = n
	}
	*l = n
}

// flow carries a number constant to the local it is assigned to. (A part
// of the data document assigned to a variable is a value like any other:
// topdown reads obj[2] of it as the number key.)
func (r *renumber) flow(src ir.Operand, dst ir.Local) {
	if l, ok := isLocal(src); ok {
		r.number[dst] = r.number[dst] || r.number[l]
	}
}

func (r *renumber) op(ops ...*ir.Operand) error {
	for _, o := range ops {
		switch v := o.Value.(type) {
		case ir.Local:
			r.local(&v)
			o.Value = v
		case ir.StringIndex:
			if int(v) < 0 || int(v) >= len(r.p.strings) {
				return fmt.Errorf("string constant %d out of range", v)
			}
		case ir.Bool:
		default:
			return fmt.Errorf("%w: operand %T", ErrUnsupported, v)
		}
	}
	return nil
}

func (r *renumber) block(b *ir.Block) error {
	for i, s := range b.Stmts {
		if r.seen[s] {
			return fmt.Errorf("%w: a statement shared between functions", ErrUnsupported)
		}
		r.seen[s] = true
		if err := r.stmt(s); err != nil {
			return err
		}
		if c, ok := s.(*ir.CallStmt); ok {
			// Resolved once, here, rather than looked up by name at
			// every call.
			b.Stmts[i] = &callStmt{Location: c.Location, call: r.call, args: c.Args, result: c.Result}
		}
	}
	return nil
}

// callStmt is a CallStmt with its function resolved.
type callStmt struct {
	ir.Location
	call
	args   []ir.Operand
	result ir.Local
}

func (r *renumber) stmt(s ir.Stmt) error {
	switch s := s.(type) {
	case *ir.BlockStmt:
		for _, b := range s.Blocks {
			if err := r.block(b); err != nil {
				return err
			}
		}
	case *ir.ScanStmt:
		r.local(&s.Source)
		r.local(&s.Key)
		r.local(&s.Value)
		if r.base[s.Source] {
			r.base[s.Value] = true
		}
		return r.block(s.Block)
	case *ir.NotStmt:
		return r.block(s.Block)
	case *ir.CallStmt:
		r.local(&s.Result)
		for i := range s.Args {
			if err := r.op(&s.Args[i]); err != nil {
				return err
			}
		}
		if fn, ok := r.byName[s.Func]; ok {
			if len(fn.params) != len(s.Args) {
				return fmt.Errorf("call of %s with %d arguments, want %d", s.Func, len(s.Args), len(fn.params))
			}
			// A function of two parameters is a rule, memoized for the
			// evaluation: it must be called with the input and data
			// documents themselves (a with statement would change them,
			// and is refused above).
			if fn.memo {
				a, aok := isLocal(s.Args[0])
				b, bok := isLocal(s.Args[1])
				if !aok || !bok || a != r.in || b != r.data {
					return fmt.Errorf("%w: %s, a rule, called with other than the input and data documents", ErrUnsupported, s.Func)
				}
			}
			r.call = call{fn: fn}
			return nil
		}
		bi, ok := ast.BuiltinMap[s.Func]
		f := topdown.GetBuiltin(s.Func)
		if !ok || f == nil || bi.Decl.Result() == nil || !pure(s.Func) {
			return fmt.Errorf("%w: built-in function %s", ErrUnsupported, s.Func)
		}
		r.call = call{builtin: f, keysOnly: keysOnly[s.Func], objectGet: s.Func == "object.get"}
	case *ir.DotStmt:
		r.local(&s.Target)
		if err := r.op(&s.Source, &s.Key); err != nil {
			return err
		}
		if src, ok := isLocal(s.Source); ok && r.base[src] {
			// Topdown reads the reference data.a[2] as data.a["2"]
			// (base documents have string keys); the plan looks the
			// number up, as OPA's WebAssembly does (OPA issue 3711):
			// leave such a rule to topdown.
			if key, ok := isLocal(s.Key); ok && r.number[key] {
				return fmt.Errorf("%w: a number key into the data document", ErrUnsupported)
			}
			r.base[s.Target] = true
		}
	case *ir.LenStmt:
		r.local(&s.Target)
		return r.op(&s.Source)
	case *ir.AssignIntStmt:
		r.local(&s.Target)
	case *ir.AssignVarStmt:
		r.local(&s.Target)
		if err := r.op(&s.Source); err != nil {
			return err
		}
		r.flow(s.Source, s.Target)
	case *ir.AssignVarOnceStmt:
		r.local(&s.Target)
		if err := r.op(&s.Source); err != nil {
			return err
		}
		r.flow(s.Source, s.Target)
	case *ir.ResetLocalStmt:
		r.local(&s.Target)
	case *ir.MakeNullStmt:
		r.local(&s.Target)
	case *ir.MakeNumberIntStmt:
		r.local(&s.Target)
		r.number[s.Target] = true
	case *ir.MakeNumberRefStmt:
		r.local(&s.Target)
		r.number[s.Target] = true
		if s.Index < 0 || s.Index >= len(r.p.numbers) {
			return fmt.Errorf("number constant %d out of range", s.Index)
		}
	case *ir.MakeArrayStmt:
		r.local(&s.Target)
	case *ir.MakeObjectStmt:
		r.local(&s.Target)
	case *ir.MakeSetStmt:
		r.local(&s.Target)
	case *ir.EqualStmt:
		return r.op(&s.A, &s.B)
	case *ir.NotEqualStmt:
		return r.op(&s.A, &s.B)
	case *ir.IsArrayStmt:
		return r.op(&s.Source)
	case *ir.IsObjectStmt:
		return r.op(&s.Source)
	case *ir.IsSetStmt:
		return r.op(&s.Source)
	case *ir.IsDefinedStmt:
		r.local(&s.Source)
	case *ir.IsUndefinedStmt:
		r.local(&s.Source)
	case *ir.ArrayAppendStmt:
		r.local(&s.Array)
		return r.op(&s.Value)
	case *ir.ObjectInsertStmt:
		r.local(&s.Object)
		return r.op(&s.Key, &s.Value)
	case *ir.ObjectInsertOnceStmt:
		r.local(&s.Object)
		return r.op(&s.Key, &s.Value)
	case *ir.SetAddStmt:
		r.local(&s.Set)
		return r.op(&s.Value)
	case *ir.ObjectMergeStmt:
		r.local(&s.A)
		r.local(&s.B)
		r.local(&s.Target)
	case *ir.ResultSetAddStmt:
		r.local(&s.Value)
	case *ir.ReturnLocalStmt:
		r.local(&s.Source)
		// Eval returns a function's Return local when it returns (in the
		// query's plan, a return only ends it).
		if r.ret >= 0 && s.Source != r.ret {
			return fmt.Errorf("%w: a return of other than the function's result", ErrUnsupported)
		}
	case *ir.BreakStmt, *ir.NopStmt:
	default:
		return fmt.Errorf("%w: statement %T", ErrUnsupported, s)
	}
	return nil
}

// Conflict is an evaluation error: a complete rule or function with two
// different values, or an object rule with two values for one key. Its
// text is worded as topdown's: "FILE:ROW: eval_conflict_error: ...".
type Conflict struct {
	File string
	Row  int
	Msg  string
}

func (c *Conflict) Error() string {
	return fmt.Sprintf("%s:%d: eval_conflict_error: %s", c.File, c.Row, c.Msg)
}

// conflicting says what produced two values, worded as topdown says it:
// "rule data.x.p produced conflicting values", or for a function "function
// data.x.f produced conflicting values for the same inputs". The planner
// names a rule's function gN.data.x.p, and gives every function the input
// and data documents as its first two parameters.
func (m *machine) conflicting() string {
	if m.fn == nil {
		return "the query produced conflicting values"
	}
	name := m.fn.name
	if _, rest, ok := strings.Cut(name, "."); ok && strings.HasPrefix(rest, "data.") {
		name = rest
	}
	if len(m.fn.params) > 2 {
		return "function " + name + " produced conflicting values for the same inputs"
	}
	return "rule " + name + " produced conflicting values"
}

// conflict makes the Conflict of a statement.
func (m *machine) conflict(loc ir.Location, format string, args ...any) *Conflict {
	c := &Conflict{Row: loc.Row, Msg: fmt.Sprintf(format, args...)}
	if loc.File >= 0 && loc.File < len(m.p.files) {
		c.File = m.p.files[loc.File]
	}
	return c
}

// Eval evaluates the plan with input and data, returning the result set's
// values (each an object of the query's variables). Built-in errors make
// the call undefined, as OPA's StrictBuiltinErrors(false) does.
func (p *Program) Eval(ctx context.Context, input, data *ast.Term) ([]*ast.Term, error) {
	return p.EvalData(ctx, input, &Data{Term: data})
}

// EvalData is Eval with a data document that may hold lazy values (see
// Lazy); the results hold none.
func (p *Program) EvalData(ctx context.Context, input *ast.Term, data *Data) ([]*ast.Term, error) {
	m := p.machines.Get().(*machine)
	defer p.release(m)
	m.ctx = ctx
	m.data, m.lazy = data, len(data.holders) > 0
	// A cache of the evaluation's own (no built-in the allow-list admits
	// uses it today, but one that does finds it, as under topdown), and no
	// metrics collected.
	if m.cache == nil {
		m.cache = builtins.Cache{}
	}
	m.bctx = topdown.BuiltinContext{Context: ctx, Cache: m.cache, Metrics: noMetrics}
	locals, pooled := m.push(p.nlocals)
	defer m.pop(locals, pooled)
	locals[ir.Input], locals[ir.Data] = input, data.Term
	for _, b := range p.plan.Blocks {
		r, err := m.block(b, locals)
		if err != nil {
			return nil, err
		}
		if r == ret {
			break
		}
	}
	return m.results, nil
}

// release readies a machine for the next evaluation and pools it.
func (p *Program) release(m *machine) {
	clear(m.memo)
	clear(m.memoSet)
	clear(m.cache)
	clear(m.args[:cap(m.args)])
	m.results, m.ctx, m.bctx, m.out, m.fn = nil, nil, topdown.BuiltinContext{}, nil, nil
	m.data, m.lazy = nil, false
	clear(m.merged)
	p.machines.Put(m)
}

// stackSize is how many locals a machine keeps for its frames; a deeper
// evaluation allocates the rest.
const stackSize = 1 << 12

// push returns a frame of n locals, from the machine's stack when it has
// room (pooled).
func (m *machine) push(n int) ([]*ast.Term, bool) {
	if top := len(m.stack); top+n <= cap(m.stack) {
		m.stack = m.stack[:top+n]
		return m.stack[top : top+n : top+n], true
	}
	return make([]*ast.Term, n), false
}

// pop releases the latest frame: frames are released in the reverse order
// of push.
func (m *machine) pop(f []*ast.Term, pooled bool) {
	if pooled {
		clear(f)
		m.stack = m.stack[:len(m.stack)-len(f)]
	}
}

// Outcomes of a block or statement: normal (go on), ret (the function
// returned), or n >= 0: leave n more enclosing blocks after this one (0
// leaves the current block).
const (
	normal = -1
	ret    = -2
)

type machine struct {
	p     *Program
	stack []*ast.Term
	// out is a built-in's output, which output (bound once, not a closure
	// per call) receives.
	out     *ast.Term
	output  func(*ast.Term) error
	ctx     context.Context
	bctx    topdown.BuiltinContext
	memo    []*ast.Term
	memoSet []bool
	results []*ast.Term
	steps   int
	args    []*ast.Term
	// fn is the function being evaluated (nil: the query), for conflicts.
	fn *function
	// cache is the built-ins' cache of one evaluation.
	cache builtins.Cache
	// data is the data document; lazy says it holds lazy values, and
	// merged are the objects merged from its holders in this evaluation,
	// holders too (lazy.go).
	data   *Data
	lazy   bool
	merged map[ast.Object]struct{}
}

var noMetrics = metrics.NoOp()

// checkEvery is how many loop iterations pass between checks of the
// context, so that a policy looping over a huge set stops at the timeout.
const checkEvery = 1 << 12

func (m *machine) block(b *ir.Block, l []*ast.Term) (int, error) {
	for _, s := range b.Stmts {
		r, err := m.stmt(s, l)
		if err != nil || r != normal {
			return r, err
		}
	}
	return normal, nil
}

func (m *machine) read(o ir.Operand, l []*ast.Term) *ast.Term {
	switch v := o.Value.(type) {
	case ir.Local:
		return l[v]
	case ir.StringIndex:
		return m.p.strings[v]
	case ir.Bool:
		return ast.InternedTerm(bool(v))
	}
	return nil
}

func (m *machine) stmt(s ir.Stmt, l []*ast.Term) (int, error) {
	switch s := s.(type) {
	case *ir.DotStmt:
		src := m.read(s.Source, l)
		key := m.read(s.Key, l)
		if src == nil || key == nil {
			return 0, nil
		}
		v := dot(src, key)
		if m.lazy {
			v = force(v)
		}
		if v == nil {
			return 0, nil
		}
		l[s.Target] = v
	case *ir.AssignVarStmt:
		l[s.Target] = m.read(s.Source, l)
	case *callStmt:
		v, err := m.call(s, l)
		if err != nil {
			return 0, err
		}
		if v == nil {
			return 0, nil
		}
		l[s.result] = v
	case *ir.EqualStmt:
		a, b := m.whole(m.read(s.A, l)), m.whole(m.read(s.B, l))
		if a == nil || b == nil || ast.Compare(a.Value, b.Value) != 0 {
			return 0, nil
		}
	case *ir.NotEqualStmt:
		a, b := m.whole(m.read(s.A, l)), m.whole(m.read(s.B, l))
		if a == nil || b == nil || ast.Compare(a.Value, b.Value) == 0 {
			return 0, nil
		}
	case *ir.IsDefinedStmt:
		if l[s.Source] == nil {
			return 0, nil
		}
	case *ir.IsUndefinedStmt:
		if l[s.Source] != nil {
			return 0, nil
		}
	case *ir.ResetLocalStmt:
		l[s.Target] = nil
	case *ir.AssignVarOnceStmt:
		v := m.read(s.Source, l)
		if cur := l[s.Target]; cur != nil {
			if v == nil || ast.Compare(m.whole(cur).Value, m.whole(v).Value) != 0 {
				return 0, m.conflict(s.Location, "%s: %v and %v", m.conflicting(), cur, v)
			}
			return normal, nil
		}
		l[s.Target] = v
	case *ir.ScanStmt:
		return m.scan(s, l)
	case *ir.BlockStmt:
		for _, b := range s.Blocks {
			r, err := m.block(b, l)
			if err != nil || r == ret {
				return r, err
			}
			if r > 0 {
				return r - 1, nil
			}
		}
	case *ir.NotStmt:
		r, err := m.block(s.Block, l)
		switch {
		case err != nil || r == ret:
			return r, err
		case r == normal:
			return 0, nil // the negated block held: not is undefined
		case r > 0:
			return r - 1, nil
		}
	case *ir.ReturnLocalStmt:
		return ret, nil
	case *ir.BreakStmt:
		return int(s.Index), nil
	case *ir.MakeArrayStmt:
		l[s.Target] = ast.NewTerm(ast.NewArrayWithCapacity(int(s.Capacity)))
	case *ir.ArrayAppendStmt:
		arr, ok := value(l[s.Array]).(*ast.Array)
		v := m.whole(m.read(s.Value, l))
		if !ok || v == nil {
			return 0, fmt.Errorf("array append to a %T", value(l[s.Array]))
		}
		l[s.Array].Value = arr.Append(v)
	case *ir.MakeObjectStmt:
		l[s.Target] = ast.NewTerm(ast.NewObject())
	case *ir.ObjectInsertStmt:
		obj, ok := value(l[s.Object]).(ast.Object)
		k, v := m.whole(m.read(s.Key, l)), m.whole(m.read(s.Value, l))
		if !ok || k == nil || v == nil {
			return 0, fmt.Errorf("object insert into a %T", value(l[s.Object]))
		}
		obj.Insert(k, v)
	case *ir.ObjectInsertOnceStmt:
		obj, ok := value(l[s.Object]).(ast.Object)
		k, v := m.whole(m.read(s.Key, l)), m.whole(m.read(s.Value, l))
		if !ok || k == nil || v == nil {
			return 0, fmt.Errorf("object insert into a %T", value(l[s.Object]))
		}
		if cur := obj.Get(k); cur != nil {
			if ast.Compare(cur.Value, v.Value) != 0 {
				return 0, m.conflict(s.Location, "object keys must be unique: %v has the values %v and %v", k, cur, v)
			}
			return normal, nil
		}
		obj.Insert(k, v)
	case *ir.ObjectMergeStmt:
		// A base document and a virtual one under the same path.
		l[s.Target] = m.merge(l[s.A], l[s.B])
	case *ir.MakeSetStmt:
		l[s.Target] = ast.NewTerm(ast.NewSet())
	case *ir.SetAddStmt:
		set, ok := value(l[s.Set]).(ast.Set)
		v := m.whole(m.read(s.Value, l))
		if !ok || v == nil {
			return 0, fmt.Errorf("set add to a %T", value(l[s.Set]))
		}
		set.Add(v)
	case *ir.MakeNullStmt:
		l[s.Target] = ast.InternedNullTerm
	case *ir.MakeNumberIntStmt:
		l[s.Target] = ast.InternedTerm(int(s.Value))
	case *ir.MakeNumberRefStmt:
		l[s.Target] = m.p.numbers[s.Index]
	case *ir.AssignIntStmt:
		l[s.Target] = ast.InternedTerm(int(s.Value))
	case *ir.LenStmt:
		var n int
		switch v := value(m.read(s.Source, l)).(type) {
		case *ast.Array:
			n = v.Len()
		case ast.Object:
			n = v.Len()
		case ast.Set:
			n = v.Len()
		case ast.String:
			n = len([]rune(string(v)))
		default:
			return 0, nil
		}
		l[s.Target] = ast.InternedTerm(n)
	case *ir.IsArrayStmt:
		if v := m.read(s.Source, l); v == nil {
			return 0, nil
		} else if _, ok := v.Value.(*ast.Array); !ok {
			return 0, nil
		}
	case *ir.IsObjectStmt:
		if v := m.read(s.Source, l); v == nil {
			return 0, nil
		} else if _, ok := v.Value.(ast.Object); !ok {
			return 0, nil
		}
	case *ir.IsSetStmt:
		if v := m.read(s.Source, l); v == nil {
			return 0, nil
		} else if _, ok := v.Value.(ast.Set); !ok {
			return 0, nil
		}
	case *ir.ResultSetAddStmt:
		m.results = append(m.results, m.whole(l[s.Value]))
	case *ir.NopStmt:
	default:
		return 0, fmt.Errorf("%w: statement %T", ErrUnsupported, s)
	}
	return normal, nil
}

// merge combines a base document a with a virtual one b under the same
// path, as OPA's WebAssembly runtime does (opa_value_merge): objects are
// merged key by key, recursively; where either side is not an object, a
// (the base document) wins. An object merged from a holder of lazy values
// is one too.
func (m *machine) merge(a, b *ast.Term) *ast.Term {
	if a == nil {
		return b
	}
	ao, aok := a.Value.(ast.Object)
	bo, bok := value(b).(ast.Object)
	if !aok || !bok {
		return a
	}
	out := ast.NewObject()
	if m.lazy && (m.holds(a) || m.holds(b)) {
		if m.merged == nil {
			m.merged = map[ast.Object]struct{}{}
		}
		m.merged[out] = struct{}{}
	}
	ao.Foreach(func(k, v *ast.Term) {
		if other := bo.Get(k); other != nil {
			out.Insert(k, m.merge(v, other))
		} else {
			out.Insert(k, v)
		}
	})
	bo.Foreach(func(k, v *ast.Term) {
		if ao.Get(k) == nil {
			out.Insert(k, v)
		}
	})
	return ast.NewTerm(out)
}

// value is a local's value, nil when undefined.
func value(t *ast.Term) ast.Value {
	if t == nil {
		return nil
	}
	return t.Value
}

// dot is DotStmt: an object's value, an array's element or a set's member;
// nil (undefined) for anything else.
func dot(src, key *ast.Term) *ast.Term {
	switch v := src.Value.(type) {
	case ast.Object:
		return v.Get(key)
	case *ast.Array:
		n, ok := key.Value.(ast.Number)
		if !ok {
			return nil
		}
		i, ok := n.Int()
		if !ok || i < 0 || i >= v.Len() {
			return nil
		}
		return v.Elem(i)
	case ast.Set:
		if v.Contains(key) {
			return key
		}
	}
	return nil
}

// errStop ends an iteration early.
var errStop = errors.New("stop")

// scan runs the body for every key and value of an array, object or set,
// in OPA's order (sets and objects sorted).
func (m *machine) scan(s *ir.ScanStmt, l []*ast.Term) (int, error) {
	src := l[s.Source]
	if src == nil {
		return normal, nil
	}
	switch v := src.Value.(type) {
	case *ast.Array:
		for i := range v.Len() {
			if out, stop, err := m.iteration(s, l, ast.InternedTerm(i), v.Elem(i)); stop {
				return out, err
			}
		}
	case ast.Set:
		for _, x := range v.Slice() {
			if out, stop, err := m.iteration(s, l, x, x); stop {
				return out, err
			}
		}
	case ast.Object:
		out := normal
		var failed error
		_ = v.Iter(func(k, x *ast.Term) error {
			if m.lazy {
				if x = force(x); x == nil {
					return nil
				}
			}
			var stop bool
			if out, stop, failed = m.iteration(s, l, k, x); stop {
				return errStop
			}
			return nil
		})
		return out, failed
	}
	return normal, nil
}

// iteration runs a scan's body for one key and value, and says whether the
// scan stops, with what outcome.
func (m *machine) iteration(s *ir.ScanStmt, l []*ast.Term, k, v *ast.Term) (int, bool, error) {
	m.steps++
	if m.steps%checkEvery == 0 {
		if err := m.ctx.Err(); err != nil {
			return 0, true, err
		}
	}
	l[s.Key], l[s.Value] = k, v
	r, err := m.block(s.Block, l)
	switch {
	case err != nil:
		return 0, true, err
	case r == ret:
		return ret, true, nil
	case r == normal || r == 0:
		return normal, false, nil // next iteration
	case r == 1:
		return normal, true, nil // leaves the scan
	default:
		return r - 2, true, nil
	}
}

// call runs a planned function or a built-in; nil is undefined.
func (m *machine) call(s *callStmt, l []*ast.Term) (*ast.Term, error) {
	if fn := s.fn; fn != nil {
		if fn.memo && m.memoSet[fn.index] {
			return m.memo[fn.index], nil
		}
		frame, pooled := m.push(fn.nlocals)
		defer m.pop(frame, pooled)
		for i, a := range s.args {
			frame[fn.params[i]] = m.read(a, l)
		}
		caller := m.fn
		m.fn = fn
		for _, b := range fn.blocks {
			r, err := m.block(b, frame)
			if err != nil {
				return nil, err // m.fn stays: the conflict above names it
			}
			if r == ret {
				break
			}
		}
		m.fn = caller
		v := frame[fn.ret]
		if fn.memo {
			m.memo[fn.index], m.memoSet[fn.index] = v, true
		}
		return v, nil
	}
	if s.objectGet && m.lazy && len(s.args) == 3 {
		if obj := m.read(s.args[0], l); m.holds(obj) {
			path, def := m.read(s.args[1], l), m.read(s.args[2], l)
			if path == nil || def == nil {
				return nil, nil
			}
			return m.objectGet(obj, m.whole(path), m.whole(def)), nil
		}
	}
	// Built-ins do not keep their operands slice, and do not call back
	// into the plan: one buffer serves every call.
	args := m.args[:0]
	for _, a := range s.args {
		v := m.read(a, l)
		if v == nil {
			return nil, nil
		}
		if !s.keysOnly {
			v = m.whole(v)
		}
		args = append(args, v)
	}
	m.args = args
	m.out = nil
	err := s.builtin(m.bctx, args, m.output)
	out := m.out
	if err != nil {
		var halt topdown.Halt
		if errors.As(err, &halt) {
			return nil, halt.Err
		}
		return nil, nil // a built-in error is undefined
	}
	return out, nil
}

// pure reports whether the plan evaluator may call a built-in: one of the
// allow-list (builtins.txt), a reviewed list of functions of their
// arguments alone, which need nothing of OPA's evaluation context (no
// clock, randomness, network, caches, tracing or printing). A built-in an
// OPA upgrade adds is not admitted until someone adds it there (see
// TestBuiltinAllowList).
func pure(name string) bool { return allowed[name] }

//go:embed builtins.txt
var builtinsList string

var allowed = NameList(builtinsList)

// NameList reads a reviewed list of names such as builtins.txt: one name
// per line, blank lines and # comments skipped.
func NameList(text string) map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
}
