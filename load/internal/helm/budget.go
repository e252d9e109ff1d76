package helm

import (
	"fmt"
	"reflect"
	"runtime/metrics"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
)

// Limits bound what rendering one chart may cost. Chart templates are code
// from the repository under review: a pull request can make them loop,
// recurse or build huge strings, and kubegate must stop them without
// stopping itself.
type Limits struct {
	// Timeout is the most time one rendering of a chart may take.
	Timeout time.Duration
	// MaxOutputBytes bounds the text one rendering writes.
	MaxOutputBytes int64
	// MaxValueBytes bounds a string a template function returns, and
	// MaxListLen a list's elements.
	MaxValueBytes int
	MaxListLen    int
	// MaxHeapGrowth stops a rendering while the process's heap has grown
	// by more than this since it started.
	MaxHeapGrowth uint64
	// MaxSteps bounds the loop iterations, named-template calls and
	// function calls of one rendering.
	MaxSteps int
	// MaxChartBytes bounds the files one chart (with its subcharts) reads.
	MaxChartBytes int64
}

// DefaultLimits render every public chart we tried with a wide margin (the
// largest, kube-prometheus-stack, renders in well under a second, writes
// about 1 MB and takes some ten thousand steps) and stop a runaway template
// within seconds.
var DefaultLimits = Limits{
	Timeout:        10 * time.Second,
	MaxOutputBytes: 64 << 20,
	MaxValueBytes:  16 << 20,
	MaxListLen:     1 << 20,
	MaxHeapGrowth:  1 << 30,
	MaxSteps:       2_000_000,
	MaxChartBytes:  100 << 20,
}

// budgetError is a rendering stopped by its limits: reported as the
// chart's input error, never retried.
type budgetError struct{ msg string }

func (e *budgetError) Error() string { return e.msg }

// budget is the running account of one rendering. Template functions run
// on the rendering's goroutine only, so it needs no locking.
type budget struct {
	lim      Limits
	deadline time.Time
	heapBase uint64
	text     int64 // text written, as estimated by the ticks
	calls    int
	where    string // the template position of the last tick
	at       *site  // and its site
	err      error
	sites    *sites
	sample   []metrics.Sample
}

func newBudget(lim Limits, s *sites) *budget {
	b := &budget{lim: lim, deadline: time.Now().Add(lim.Timeout), sites: s,
		sample: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}
	b.heapBase = b.heap()
	return b
}

func (b *budget) heap() uint64 {
	metrics.Read(b.sample)
	if b.sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return b.sample[0].Value.Uint64()
}

// check is called on every tick and every wrapped function call: it stops
// the rendering once it is over its time or memory.
func (b *budget) check() error {
	if b.err != nil {
		return b.err
	}
	b.calls++
	switch {
	case b.calls > b.lim.MaxSteps:
		b.fail(fmt.Sprintf("rendering took more than %d steps (loop iterations, template and function calls) and was stopped", b.lim.MaxSteps))
	case b.calls&63 == 0 && time.Now().After(b.deadline):
		b.fail(fmt.Sprintf("rendering took longer than %v and was stopped", b.lim.Timeout))
	case b.calls&15 == 0 && b.heap() > b.heapBase+b.lim.MaxHeapGrowth:
		b.fail(fmt.Sprintf("rendering used more than %s of memory and was stopped", formatBytes(int64(b.lim.MaxHeapGrowth))))
	case b.text > b.lim.MaxOutputBytes:
		b.fail(fmt.Sprintf("rendering wrote more than %s and was stopped", formatBytes(b.lim.MaxOutputBytes)))
	}
	return b.err
}

func (b *budget) fail(msg string) {
	if b.where != "" {
		msg += " in " + b.where
	}
	b.err = &budgetError{msg: msg + " (a template loops, recurses or builds a huge value)"}
}

// tick is __kg_tick: the rewriter puts one at the start of every range
// body and every named template, so that a template that loops or recurses
// without calling any function is still counted.
func (b *budget) tick(id int) (string, error) {
	if t := b.sites.tick(id); t != nil {
		b.text += int64(t.text)
		b.where, b.at = t.where, t
	}
	return "", b.check()
}

// tplGuard is __kg_tpl: the string a template hands to tpl, rewritten with
// ticks too, so that a template hidden in values is bounded as well.
func (b *budget) tplGuard(src string) (string, error) {
	if err := b.check(); err != nil {
		return "", err
	}
	src = unmark(src) // the marked rendering may hand tpl an included line
	if out, ok := rewriteInline(src, b.sites); ok {
		return out, nil
	}
	return src, nil
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// notWrapped are the functions Helm defines itself (or removes) rather than
// taking them from sprig: kubegate leaves them as Helm has them. The list
// of functions that are wrapped is kept as a golden file (testdata/
// wrapped-functions.golden), so that a sprig or Helm upgrade that adds or
// shadows one is a visible change.
var notWrapped = map[string]bool{
	"env": true, "expandenv": true, // removed by Helm
	"include": true, "tpl": true, "required": true, "fail": true, "lookup": true, "getHostByName": true,
	"toToml": true, "mustToToml": true, "fromToml": true, "toYaml": true, "mustToYaml": true, "toYamlPretty": true,
	"fromYaml": true, "fromYamlArray": true, "toJson": true, "mustToJson": true, "fromJson": true, "fromJsonArray": true,
	"mustToDuration": true, "durationSeconds": true, "durationMilliseconds": true, "durationMicroseconds": true,
	"durationNanoseconds": true, "durationMinutes": true, "durationHours": true, "durationDays": true,
	"durationWeeks": true, "durationRoundTo": true, "durationTruncateTo": true,
}

// builtinPrints are text/template's own print, printf and println (the
// same fmt functions): a template function of the same name takes their
// place, so that they are bounded like sprig's (a string doubled with
// printf "%s%s" in a loop grows past any memory in some thirty steps).
var builtinPrints = map[string]any{"print": fmt.Sprint, "printf": fmt.Sprintf, "println": fmt.Sprintln}

// wrappedNames lists the functions kubegate bounds, sorted: sprig's, and
// text/template's print functions.
func wrappedNames() []string {
	var out []string
	for name := range sprig.TxtFuncMap() {
		if !notWrapped[name] {
			out = append(out, name)
		}
	}
	for name := range builtinPrints {
		out = append(out, name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

var errorType = reflect.TypeFor[error]()

// funcs returns the template functions of one rendering: sprig's, each
// checked against the budget before it runs and its result bounded after;
// the ones that allocate in proportion to an argument refused before they
// allocate; and the rewriter's own. With marks (the marked rendering), a
// function that reads its text rather than copying it (sha256sum,
// fromYaml, ...) reads it without markers, so that markers change where
// lines come from, not what the chart computes.
func (b *budget) funcs(extra template.FuncMap, marks bool) template.FuncMap {
	src := sprig.TxtFuncMap()
	for name, fn := range builtinPrints {
		src[name] = fn
	}
	out := template.FuncMap{}
	for _, name := range wrappedNames() {
		out[name] = b.wrap(name, src[name], marks && !copiesText[name])
	}
	if marks {
		for name, fn := range markerFreeHelmFuncs {
			out[name] = fn
		}
	}
	out["__kg_tick"] = b.tick
	out["__kg_tpl"] = b.tplGuard
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// sizeArg says which argument of a function makes it allocate in
// proportion, and how to read the size from the arguments.
var sizeArg = map[string]func(args []reflect.Value) int64{
	"until":        func(a []reflect.Value) int64 { return intArg(a, 0) },
	"untilStep":    func(a []reflect.Value) int64 { return stepCount(intArg(a, 0), intArg(a, 1), intArg(a, 2)) },
	"seq":          seqCount,
	"repeat":       func(a []reflect.Value) int64 { return intArg(a, 0) * int64(strArgLen(a, 1)) },
	"indent":       func(a []reflect.Value) int64 { return intArg(a, 0) * int64(1+strings.Count(strArg(a, 1), "\n")) },
	"nindent":      func(a []reflect.Value) int64 { return intArg(a, 0) * int64(1+strings.Count(strArg(a, 1), "\n")) },
	"randAlphaNum": func(a []reflect.Value) int64 { return intArg(a, 0) },
	"randAlpha":    func(a []reflect.Value) int64 { return intArg(a, 0) },
	"randNumeric":  func(a []reflect.Value) int64 { return intArg(a, 0) },
	"randAscii":    func(a []reflect.Value) int64 { return intArg(a, 0) },
	"randBytes":    func(a []reflect.Value) int64 { return intArg(a, 0) },
}

func intArg(a []reflect.Value, i int) int64 {
	if i >= len(a) {
		return 0
	}
	v := a[i]
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(min(v.Uint(), 1<<62))
	case reflect.Float32, reflect.Float64:
		return int64(max(min(v.Float(), 1<<62), -(1 << 62)))
	}
	return 0
}

func strArg(a []reflect.Value, i int) string {
	if i >= len(a) {
		return ""
	}
	v := a[i]
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() == reflect.String {
		return v.String()
	}
	return ""
}

func strArgLen(a []reflect.Value, i int) int { return len(strArg(a, i)) }

func stepCount(start, stop, step int64) int64 {
	if step == 0 {
		return 0
	}
	n := (stop - start) / step
	if n < 0 {
		return 0
	}
	return n
}

// seqCount is how many numbers sprig's seq makes: seq LAST, seq FIRST
// LAST, seq FIRST STEP LAST.
func seqCount(a []reflect.Value) int64 {
	abs := func(x int64) int64 {
		if x < 0 {
			return -x
		}
		return x
	}
	switch len(a) {
	case 1:
		return abs(intArg(a, 0))
	case 2:
		return abs(intArg(a, 1) - intArg(a, 0))
	case 3:
		if s := abs(intArg(a, 1)); s > 0 {
			return abs(intArg(a, 2)-intArg(a, 0)) / s
		}
	}
	return 0
}

// wrap bounds one sprig function. The wrapper has the function's
// parameters and results, plus an error result when it had none: text/
// template accepts either, and an error stops the rendering.
func (b *budget) wrap(name string, fn any, strip bool) any {
	fv := reflect.ValueOf(fn)
	ft := fv.Type()
	in := make([]reflect.Type, ft.NumIn())
	for i := range in {
		in[i] = ft.In(i)
	}
	var out []reflect.Type
	hasErr := ft.NumOut() == 2 && ft.Out(1) == errorType
	switch {
	case ft.NumOut() == 1 && ft.Out(0) != errorType:
		out = []reflect.Type{ft.Out(0), errorType}
	case hasErr:
		out = []reflect.Type{ft.Out(0), errorType}
	default:
		return fn // nothing to bound (no results, or an error alone)
	}
	wt := reflect.FuncOf(in, out, ft.IsVariadic())
	size := sizeArg[name]
	return reflect.MakeFunc(wt, func(args []reflect.Value) []reflect.Value {
		fail := func(err error) []reflect.Value {
			return []reflect.Value{reflect.Zero(out[0]), reflect.ValueOf(&err).Elem()}
		}
		if err := b.check(); err != nil {
			return fail(err)
		}
		if size != nil {
			limit, unit := int64(b.lim.MaxValueBytes), "bytes"
			if name == "until" || name == "untilStep" || name == "seq" {
				limit, unit = int64(b.lim.MaxListLen), "elements"
			}
			if n := size(args); n > limit {
				return fail(fmt.Errorf("%s would make %d %s, over kubegate's limit of %d", name, n, unit, limit))
			}
		}
		if strip {
			args = stripArgs(args)
		}
		var res []reflect.Value
		if ft.IsVariadic() {
			res = fv.CallSlice(args)
		} else {
			res = fv.Call(args)
		}
		if hasErr && !res[1].IsNil() {
			return res
		}
		if err := b.bound(name, res[0]); err != nil {
			return fail(err)
		}
		return []reflect.Value{res[0], reflect.Zero(errorType)}
	}).Interface()
}

// bound refuses a function result over the size limits.
func (b *budget) bound(name string, v reflect.Value) error {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		if v.Len() > b.lim.MaxValueBytes {
			return fmt.Errorf("%s returned a string of %d bytes, over kubegate's limit of %s", name, v.Len(), formatBytes(int64(b.lim.MaxValueBytes)))
		}
	case reflect.Slice, reflect.Map:
		if v.Len() > b.lim.MaxListLen {
			return fmt.Errorf("%s returned %d elements, over kubegate's limit of %d", name, v.Len(), b.lim.MaxListLen)
		}
	}
	return nil
}
