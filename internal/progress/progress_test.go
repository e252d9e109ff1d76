package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// fixedClock advances by step at each reading.
func fixedClock(step time.Duration) func() time.Time {
	t := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(step)
		return t
	}
}

func run(mode Mode) (*Reporter, *bytes.Buffer) {
	var buf bytes.Buffer
	r := New(&buf, mode)
	r.now = fixedClock(250 * time.Millisecond)
	p := r.Start("load", "loading", "inputs", 0)
	p.SetTotal(40)
	p.Add(40)
	p.End("")
	p = r.Start("evaluate", "evaluating", "resources", 10000)
	p.Add(10000)
	p.End(Plural(10000, "resource") + ", " + Plural(1, "finding"))
	r.Close()
	return r, &buf
}

// In a CI log: one line per phase with its count and duration.
func TestLog(t *testing.T) {
	_, out := run(Log)
	want := "kubegate: load: 40 inputs in 0.25 s\nkubegate: evaluate: 10,000 resources, 1 finding in 0.25 s\n"
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out.String(), want)
	}
}

// Under GitHub Actions, in one collapsed group.
func TestGitHub(t *testing.T) {
	_, out := run(GitHub)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || lines[0] != "::group::kubegate: progress" || lines[3] != "::endgroup::" || !strings.HasPrefix(lines[1], "kubegate: load: 40 inputs") {
		t.Errorf("got %q", lines)
	}
}

// Under GitLab, each phase a collapsible section.
func TestGitLab(t *testing.T) {
	_, out := run(GitLab)
	s := out.String()
	for _, want := range []string{
		"\x1b[0Ksection_start:", ":kubegate_load[collapsed=true]\r\x1b[0Kkubegate: loading\n",
		"kubegate: load: 40 inputs in 0.25 s\n", ":kubegate_load\r\x1b[0K\n", ":kubegate_evaluate[collapsed=true]",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in %q", want, s)
		}
	}
	if strings.Count(s, "section_start:") != 2 || strings.Count(s, "section_end:") != 2 {
		t.Errorf("sections do not pair: %q", s)
	}
}

// Off (--quiet, or a pipe outside CI): nothing at all; the timings are
// still known.
func TestOffAndTimings(t *testing.T) {
	r, out := run(Off)
	if out.Len() != 0 {
		t.Errorf("quiet wrote %q", out.String())
	}
	var tab bytes.Buffer
	r.Timings(&tab)
	want := "phase          time  \nload         0.25 s  40 inputs\nevaluate     0.25 s  10,000 resources, 1 finding\ntotal        0.50 s  (wall time "
	if !strings.HasPrefix(tab.String(), want) {
		t.Errorf("timings:\n%s\nwant a start of\n%s", tab.String(), want)
	}
}

// On a terminal: the status line names the phase and its count, and is
// cleared at the end.
func TestTerminal(t *testing.T) {
	var buf bytes.Buffer
	r := &Reporter{w: &buf, mode: Terminal, now: time.Now, stop: make(chan struct{}), done: make(chan struct{})}
	close(r.done) // no drawing goroutine: redraw is called here
	p := r.Start("evaluate", "evaluating", "resources", 200)
	p.Add(50)
	r.mu.Lock()
	r.redraw()
	r.mu.Unlock()
	if s := buf.String(); !strings.Contains(s, "kubegate: evaluating") || !strings.Contains(s, "50/200") {
		t.Errorf("status line %q", s)
	}
	buf.Reset()
	r.Close()
	if s := buf.String(); !strings.Contains(s, "\r") || strings.Contains(s, "evaluating") {
		t.Errorf("not cleared: %q", s)
	}
}

func TestDetect(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	var buf bytes.Buffer
	for i, c := range []struct {
		env  func(string) string
		want Mode
	}{
		{env(), Off},
		{env("CI", "true"), Log},
		{env("CI", "false"), Off},
		{env("CI", "true", "GITHUB_ACTIONS", "true"), GitHub},
		{env("CI", "true", "GITLAB_CI", "true"), GitLab},
	} {
		if got := Detect(&buf, c.env); got != c.want {
			t.Errorf("case %d: %v, want %v", i, got, c.want)
		}
	}
	if Count(1234567) != "1,234,567" || Count(999) != "999" || Plural(1, "input") != "1 input" || Plural(0, "image") != "0 images" {
		t.Error("Count or Plural")
	}
}
