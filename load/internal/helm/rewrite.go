package helm

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"text/template/parse"
	"unicode/utf8"
)

// Templates are rewritten before Helm renders them, in two forms that
// render exactly what the original does:
//
//   - bounded: a __kg_tick call at the start of every named template, every
//     range body and every executed file, and every string handed to tpl
//     rewritten the same way, so that a template that loops or recurses is
//     counted even when it calls no function (see budget);
//   - marked: the bounded form, plus a marker (⟦ID⟧, see markers.go) in the
//     output at the start of every line a template line writes, and at
//     every line an action's multi-line output writes, naming the template
//     file, line and column. Markers are stripped from the output before it
//     is parsed; where they meet a document, they say which template line
//     wrote each of its fields.
//
// The rewrite works on text/template's parse tree and prints it back with
// its String methods (whitespace trimming has already been applied to the
// text by the parser), so the rewritten text means what the original
// meant. The renderer checks that anyway: the bounded form is what kubegate
// reports, and a differential test compares it with Helm's own rendering.

// site is a position in a template file, named by a marker or a tick.
type site struct {
	file      string // display path of the template file (or of the archive holding it)
	inArchive string // the template's path inside that archive, if any
	line, col int
	// Ticks only: what is executing, for messages, and the text bytes its
	// body writes each time.
	where string
	text  int
}

// sites numbers the sites of one chart's templates. Rendering adds ticks
// for the strings given to tpl, from whichever goroutine renders.
type sites struct {
	mu    sync.Mutex
	list  []site
	ticks map[int]bool
	// first is, for each named template, the marker of the line its output
	// starts with.
	first map[string]int
}

func newSites() *sites { return &sites{ticks: map[int]bool{}, first: map[string]int{}} }

func (s *sites) add(x site, tick bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, x)
	id := len(s.list) - 1
	if tick {
		s.ticks[id] = true
	}
	return id
}

func (s *sites) get(id int) (site, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id < 0 || id >= len(s.list) {
		return site{}, false
	}
	return s.list[id], true
}

func (s *sites) tick(id int) *site {
	x, ok := s.get(id)
	if !ok {
		return nil
	}
	return &x
}

func (s *sites) firstOf(name string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.first[name]
	return id, ok
}

// source is one template file to rewrite.
type source struct {
	name      string // Helm's name for it, e.g. web/templates/deployment.yaml
	text      string
	file      string // display path on disk, or of the archive holding it
	inArchive string
	partial   bool // its name starts with _: never executed on its own
}

// rewritten is a template in its two forms; ok is false when the template
// does not parse (Helm then reports the error, at its own position).
type rewritten struct {
	bounded, marked string
	ok              bool
	tickIDs         map[parse.Node]int
}

func parseTemplate(name, text string) (*parse.Tree, map[string]*parse.Tree, error) {
	trees := map[string]*parse.Tree{}
	t := parse.New(name)
	t.Mode = parse.SkipFuncCheck
	main, err := t.Parse(text, "", "", trees)
	return main, trees, err
}

// rewriteTemplate rewrites one template file in both forms.
func rewriteTemplate(src source, s *sites) rewritten {
	main, trees, err := parseTemplate(src.name, src.text)
	if err != nil {
		return rewritten{}
	}
	lines := lineStarts(src.text)
	var out rewritten
	for _, marks := range []bool{false, true} {
		e := &emitter{src: src, lines: lines, sites: s, marks: marks}
		if marks {
			e.ticks = out.tickIDs
		} else {
			e.ticks = map[parse.Node]int{}
			out.tickIDs = e.ticks
		}
		e.tree(main, !src.partial)
		for name, t := range trees {
			if t != main {
				e.define(name, t)
			}
		}
		if marks {
			out.marked = e.b.String()
		} else {
			out.bounded = e.b.String()
		}
	}
	out.ok = true
	return out
}

// rewriteInline rewrites the text given to tpl in the bounded form.
func rewriteInline(text string, s *sites) (string, bool) {
	main, trees, err := parseTemplate("tpl", text)
	if err != nil || len(trees) > 1 {
		// Defines inside tpl text are rare; leave such text as it is
		// (its functions are still bounded).
		return "", false
	}
	e := &emitter{src: source{name: "tpl", text: text, file: "tpl"}, lines: lineStarts(text), sites: s, ticks: map[parse.Node]int{}}
	e.list(main.Root)
	return e.b.String(), true
}

func lineStarts(text string) []int {
	out := []int{0}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			out = append(out, i+1)
		}
	}
	return out
}

// emitter prints a parse tree back as template text, adding ticks and,
// when marks is set, markers.
type emitter struct {
	src   source
	lines []int
	sites *sites
	marks bool
	// ticks gives a tick the same id in both forms.
	ticks map[parse.Node]int
	b     out
	// inDefine: output at the very start of a named template's output is
	// never marked (a helper such as a fullname is used as a value).
	inDefine bool
	// pending: the output line started by the previous text has nothing
	// written on it yet, so the next output node starts it.
	pending bool
}

// out is the rewritten text. Text that ends in "{" just before an action
// would read as "{{{": the "{" is then written as an action of its own.
type out struct{ bytes.Buffer }

// action starts an action.
func (o *out) action() {
	if n := o.Len(); n > 0 && o.Bytes()[n-1] == '{' {
		o.Truncate(n - 1)
		o.WriteString(`{{"{"}}`)
	}
	o.WriteString("{{")
}

// position converts a byte offset of the source into a 1-based line and
// column (in characters).
func (e *emitter) position(off int) (line, col int) {
	lo, hi := 0, len(e.lines)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if e.lines[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	start := e.lines[lo]
	return lo + 1, utf8.RuneCountInString(e.src.text[start:min(off, len(e.src.text))]) + 1
}

func (e *emitter) site(off int) site {
	line, col := e.position(off)
	return site{file: e.src.file, inArchive: e.src.inArchive, line: line, col: col}
}

func (e *emitter) marker(off int) string {
	return markerText(e.sites.add(e.site(off), false))
}

func (e *emitter) tick(n parse.Node, off int, where string, body *parse.ListNode) {
	id, ok := e.ticks[n]
	if !ok {
		x := e.site(off)
		x.where = where
		x.text = staticText(body)
		id = e.sites.add(x, true)
		e.ticks[n] = id
	}
	e.b.action()
	e.b.WriteString("__kg_tick " + strconv.Itoa(id) + "}}")
}

// staticText is the text a list writes itself, outside nested ranges and
// named templates (they tick for their own).
func staticText(l *parse.ListNode) int {
	if l == nil {
		return 0
	}
	n := 0
	for _, x := range l.Nodes {
		switch x := x.(type) {
		case *parse.TextNode:
			n += len(x.Text)
		case *parse.IfNode:
			n += staticText(x.List) + staticText(x.ElseList)
		case *parse.WithNode:
			n += staticText(x.List) + staticText(x.ElseList)
		case *parse.RangeNode:
			n += staticText(x.ElseList)
		}
	}
	return n
}

// tree prints a file's own template; executed files tick on entry.
func (e *emitter) tree(t *parse.Tree, executed bool) {
	if executed && !parse.IsEmptyTree(t.Root) {
		e.tick(t.Root, 0, e.src.where(), t.Root)
		e.pending = true
	}
	e.list(t.Root)
}

func (s source) where() string {
	if s.inArchive != "" {
		return s.inArchive + " in " + s.file
	}
	return s.file
}

// define prints a named template. An empty one stays empty: text/template
// lets an empty definition not replace an earlier one, and a tick would
// make it non-empty.
func (e *emitter) define(name string, t *parse.Tree) {
	e.b.action()
	e.b.WriteString("define " + strconv.Quote(name) + "}}")
	if !parse.IsEmptyTree(t.Root) {
		e.tick(t.Root, int(t.Root.Position()), "template "+strconv.Quote(name)+" ("+e.src.where()+")", t.Root)
		if e.marks {
			if off, ok := firstOutput(t.Root); ok {
				id := e.sites.add(e.site(off), false)
				e.sites.mu.Lock()
				e.sites.first[name] = id
				e.sites.mu.Unlock()
			}
		}
	}
	e.inDefine, e.pending = true, false
	e.list(t.Root)
	e.inDefine, e.pending = false, false
	e.b.action()
	e.b.WriteString("end}}")
}

// firstOutput is where the first line a named template writes comes from:
// its first text with something on it, or its first printing action,
// looking into the first branch of conditionals.
func firstOutput(l *parse.ListNode) (int, bool) {
	if l == nil {
		return 0, false
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			if i := strings.IndexFunc(string(n.Text), notSpace); i >= 0 {
				return int(n.Pos) + i, true
			}
		case *parse.ActionNode:
			if len(n.Pipe.Decl) == 0 {
				return int(n.Pos), true
			}
		case *parse.IfNode:
			return firstOutput(n.List)
		case *parse.WithNode:
			return firstOutput(n.List)
		case *parse.RangeNode:
			return firstOutput(n.List)
		case *parse.TemplateNode:
			return int(n.Pos), true
		}
	}
	return 0, false
}

func notSpace(r rune) bool { return r != ' ' && r != '\t' && r != '\n' && r != '\r' }

func (e *emitter) list(l *parse.ListNode) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		e.node(n)
	}
}

func (e *emitter) node(n parse.Node) {
	switch n := n.(type) {
	case *parse.TextNode:
		e.text(n)
	case *parse.ActionNode:
		e.action(n)
	case *parse.IfNode:
		e.branch("if", &n.BranchNode, nil)
	case *parse.WithNode:
		e.branch("with", &n.BranchNode, nil)
	case *parse.RangeNode:
		e.branch("range", &n.BranchNode, n)
	case *parse.CommentNode:
		// dropped, as the parser drops it
	case *parse.TemplateNode:
		if e.marks && !e.inDefine {
			e.b.WriteString(regionOpen)
		}
		e.b.action()
		e.b.WriteString(strings.TrimPrefix(n.String(), "{{"))
		if e.marks && !e.inDefine {
			e.b.WriteString(regionClose)
		}
		e.pending = false
	default:
		// break, continue: printed as they are; they write nothing.
		e.b.action()
		e.b.WriteString(strings.TrimPrefix(n.String(), "{{"))
		e.pending = false
	}
}

// text prints a text node; with marks, a marker goes before the first
// character of every line it starts (after the indentation).
func (e *emitter) text(n *parse.TextNode) {
	text := string(n.Text)
	if !e.marks {
		e.b.WriteString(text)
		return
	}
	start := 0
	atLineStart := e.pending || (!e.inDefine && e.lineStartAt(int(n.Pos)))
	for {
		// The segment of one output line: from start to the next newline.
		end := strings.IndexByte(text[start:], '\n')
		seg := text[start:]
		if end >= 0 {
			seg = text[start : start+end]
		}
		k := strings.IndexFunc(seg, func(r rune) bool { return r != ' ' && r != '\t' && r != '\r' })
		if atLineStart && k >= 0 {
			e.b.WriteString(seg[:k])
			e.b.WriteString(e.marker(int(n.Pos) + start + k))
			e.b.WriteString(seg[k:])
		} else {
			e.b.WriteString(seg)
		}
		if end < 0 {
			// The text ends inside this line: the next node continues it
			// (and starts it, when nothing was written on it yet).
			e.pending = atLineStart && k < 0
			return
		}
		e.b.WriteByte('\n')
		start += end + 1
		atLineStart = true
	}
}

// lineStartAt reports whether only indentation precedes off on its line
// of the source.
func (e *emitter) lineStartAt(off int) bool {
	for i := off - 1; i >= 0; i-- {
		switch e.src.text[i] {
		case ' ', '\t':
			continue
		case '\n':
			return true
		default:
			return false
		}
	}
	return true
}

// action prints an action. A printing action is marked twice with marks:
// before it when it starts an output line, and through __kg_mark, which
// marks every further line of its output.
func (e *emitter) action(n *parse.ActionNode) {
	printing := len(n.Pipe.Decl) == 0
	if e.marks && printing && e.pending {
		e.b.WriteString(e.marker(e.actionStart(int(n.Pos))))
	}
	if e.marks && printing && !e.inDefine {
		// What a file's own action prints (not text it writes) is marked
		// as printed: only a printed value can have come from the values.
		e.b.WriteString(regionOpen)
		defer e.b.WriteString(regionClose)
	}
	e.b.action()
	e.b.WriteString(e.pipe(n.Pipe))
	if e.marks && printing {
		id := e.sites.add(e.site(e.actionStart(int(n.Pos))), false)
		e.b.WriteString(" | __kg_mark " + strconv.Itoa(id))
	}
	e.b.WriteString("}}")
	if printing {
		e.pending = false
	}
}

// actionStart is the offset of the {{ that opens the action whose pipeline
// starts at off.
func (e *emitter) actionStart(off int) int {
	if i := strings.LastIndex(e.src.text[:min(off, len(e.src.text))], "{{"); i >= 0 {
		return i
	}
	return off
}

func (e *emitter) branch(kw string, b *parse.BranchNode, r *parse.RangeNode) {
	e.b.action()
	e.b.WriteString(kw + " " + e.pipe(b.Pipe) + "}}")
	pending := e.pending
	if r != nil {
		e.tick(r, e.actionStart(int(r.Pos)), kw+" at "+e.src.where()+":"+strconv.Itoa(e.site(int(r.Pos)).line), b.List)
	}
	e.list(b.List)
	if b.ElseList != nil {
		e.b.action()
		e.b.WriteString("else}}")
		e.pending = pending
		e.list(b.ElseList)
	}
	e.b.action()
	e.b.WriteString("end}}")
	e.pending = false
}

// pipe prints a pipeline. Every string given to tpl goes through __kg_tpl
// first; with marks, the output of every include goes through __kg_first,
// which marks the first line of a multi-line result.
func (e *emitter) pipe(p *parse.PipeNode) string {
	if p == nil {
		return ""
	}
	var b strings.Builder
	if len(p.Decl) > 0 {
		for i, v := range p.Decl {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(v.String())
		}
		if p.IsAssign {
			b.WriteString(" = ")
		} else {
			b.WriteString(" := ")
		}
	}
	for i, c := range p.Cmds {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(e.command(c))
		if e.marks && isCall(c, "include") && len(c.Args) >= 2 {
			b.WriteString(" | __kg_first " + e.arg(c.Args[1]))
		}
	}
	return b.String()
}

func isCall(c *parse.CommandNode, fn string) bool {
	id, ok := c.Args[0].(*parse.IdentifierNode)
	return ok && id.Ident == fn
}

func (e *emitter) command(c *parse.CommandNode) string {
	var b strings.Builder
	for i, a := range c.Args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if i == 1 && isCall(c, "tpl") {
			b.WriteString("(__kg_tpl " + e.arg(a) + ")")
			continue
		}
		b.WriteString(e.arg(a))
	}
	return b.String()
}

func (e *emitter) arg(a parse.Node) string {
	if p, ok := a.(*parse.PipeNode); ok {
		return "(" + e.pipe(p) + ")"
	}
	return a.String()
}
