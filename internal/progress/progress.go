// Package progress tells the person waiting what a run is doing: on a
// terminal, one status line (github.com/schollz/progressbar) for runs
// longer than about a second, cleared at the end; in a CI log, one line
// per phase with its count and duration, in a ::group:: under GitHub
// Actions and in collapsible sections under GitLab; and, asked for, a
// table of the phases' times.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Mode is how progress is shown.
type Mode int

const (
	Off      Mode = iota // nothing (--quiet, or output nobody watches live)
	Terminal             // a status line, redrawn
	Log                  // a line per phase (CI logs)
	GitHub               // Log in a ::group::
	GitLab               // Log in collapsible sections
)

// Detect picks the mode for w: a terminal gets the status line; a CI job's
// log (GITHUB_ACTIONS, GITLAB_CI, CI) the phase lines; anything else, a
// pipe or a file, nothing.
func Detect(w io.Writer, getenv func(string) string) Mode {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) && getenv("TERM") != "dumb" {
		return Terminal
	}
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		return GitHub
	case getenv("GITLAB_CI") == "true":
		return GitLab
	case getenv("CI") != "" && getenv("CI") != "false":
		return Log
	}
	return Off
}

// Reporter follows a run's phases. Its methods are safe for concurrent use.
type Reporter struct {
	w     io.Writer
	mode  Mode
	start time.Time
	delay time.Duration // before the terminal line appears
	now   func() time.Time

	mu      sync.Mutex
	phases  []*Phase
	current *Phase
	bar     *progressbar.ProgressBar
	barOf   *Phase
	grouped bool
	stop    chan struct{}
	done    chan struct{}
}

// New is a reporter writing to w in mode.
func New(w io.Writer, mode Mode) *Reporter {
	r := &Reporter{w: w, mode: mode, start: time.Now(), delay: time.Second, now: time.Now, stop: make(chan struct{}), done: make(chan struct{})}
	if mode == Terminal {
		go r.draw()
	} else {
		close(r.done)
	}
	return r
}

// Phase is one step of a run: loading, image checks, evaluation, reports.
type Phase struct {
	r       *Reporter
	name    string // "load"
	doing   string // "rendering inputs"
	unit    string // "inputs"
	total   atomic.Int64
	n       atomic.Int64
	start   time.Time
	elapsed time.Duration
	summary string
	ended   bool
}

// Start begins a phase: name for the table, doing for the status line,
// counting units of which total are expected (0: not known).
func (r *Reporter) Start(name, doing, unit string, total int) *Phase {
	p := &Phase{r: r, name: name, doing: doing, unit: unit, start: r.now()}
	p.total.Store(int64(total))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.phases = append(r.phases, p)
	r.current = p
	switch r.mode {
	case GitHub:
		if !r.grouped {
			fmt.Fprintln(r.w, "::group::kubegate: progress")
			r.grouped = true
		}
	case GitLab:
		fmt.Fprintf(r.w, "\x1b[0Ksection_start:%d:kubegate_%s[collapsed=true]\r\x1b[0Kkubegate: %s\n", p.start.Unix(), name, doing)
	}
	return p
}

// Add counts n more units done.
func (p *Phase) Add(n int) {
	if p != nil {
		p.n.Add(int64(n))
	}
}

// SetTotal changes how many units are expected.
func (p *Phase) SetTotal(n int) {
	if p != nil {
		p.total.Store(int64(n))
	}
}

// End ends the phase; summary says what it did ("40 inputs, 10,000
// resources"), "" for its count.
func (p *Phase) End(summary string) {
	if p == nil {
		return
	}
	r := p.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.ended {
		return
	}
	p.ended = true
	p.elapsed = r.now().Sub(p.start)
	if summary == "" {
		summary = Plural(int(p.n.Load()), strings.TrimSuffix(p.unit, "s"))
	}
	p.summary = summary
	if r.current == p {
		r.current = nil
	}
	switch r.mode {
	case Log, GitHub:
		fmt.Fprintf(r.w, "kubegate: %s: %s in %s\n", p.name, summary, Seconds(p.elapsed))
	case GitLab:
		fmt.Fprintf(r.w, "kubegate: %s: %s in %s\n", p.name, summary, Seconds(p.elapsed))
		fmt.Fprintf(r.w, "\x1b[0Ksection_end:%d:kubegate_%s\r\x1b[0K\n", r.now().Unix(), p.name)
	}
}

// StopDrawing clears the terminal line for good, before the reports are
// written; phases still count and log.
func (r *Reporter) StopDrawing() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		r.bar.Clear()
		r.bar = nil
	}
}

// Close ends the display: the terminal line is cleared, the GitHub group
// closed. It may be called more than once.
func (r *Reporter) Close() {
	r.StopDrawing()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.grouped {
		fmt.Fprintln(r.w, "::endgroup::")
		r.grouped = false
	}
}

// draw keeps the terminal line up to date, from delay on.
func (r *Reporter) draw() {
	defer close(r.done)
	select {
	case <-r.stop:
		return
	case <-time.After(r.delay):
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		r.mu.Lock()
		r.redraw()
		r.mu.Unlock()
		select {
		case <-r.stop:
			return
		case <-tick.C:
		}
	}
}

// redraw shows the current phase (r.mu held).
func (r *Reporter) redraw() {
	p := r.current
	if p == nil {
		return
	}
	if r.barOf != p {
		if r.bar != nil {
			r.bar.Clear()
		}
		total := p.total.Load()
		if total <= 0 {
			total = -1 // a spinner
		}
		r.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(r.w),
			progressbar.OptionSetDescription("kubegate: "+p.doing),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString(p.unit),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetWidth(20),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionUseANSICodes(true),
		)
		r.barOf = p
	}
	if t := p.total.Load(); t > 0 && r.bar.GetMax64() != t {
		r.bar.ChangeMax64(t)
	}
	r.bar.Set64(p.n.Load())
}

// Timings writes the phases' times as a table.
func (r *Reporter) Timings(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var total time.Duration
	fmt.Fprintf(w, "%-9s %9s  %s\n", "phase", "time", "")
	for _, p := range r.phases {
		fmt.Fprintf(w, "%-9s %9s  %s\n", p.name, Seconds(p.elapsed), p.summary)
		total += p.elapsed
	}
	fmt.Fprintf(w, "%-9s %9s  (wall time %s)\n", "total", Seconds(total), Seconds(r.now().Sub(r.start)))
}

// Seconds writes a duration as "1.23 s".
func Seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// Plural is a count of things: "1 input", "10,000 resources".
func Plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return Count(n) + " " + thing + "s"
}

// Count writes n with thousands separators: 10,000.
func Count(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + Count(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
