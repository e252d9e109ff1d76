package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubegate/kubegate/finding"
)

// fakeGitHub is GitHub's REST API for checks and issue comments, in memory,
// recording every request.
type fakeGitHub struct {
	mu       sync.Mutex
	requests []string         // "METHOD path"
	bodies   []map[string]any // decoded request bodies
	auth     []string
	comments map[int64]string // id -> body, of pull request 5
	nextID   int64
	// failWrites answers every POST and PATCH with 403, as for a fork's
	// read-only token; flaky answers the first n requests with 502.
	failWrites bool
	flaky      int
}

func newFake(t *testing.T) (*fakeGitHub, *httptest.Server) {
	f := &fakeGitHub{comments: map[int64]string{}, nextID: 100}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var body map[string]any
	if data, _ := io.ReadAll(r.Body); len(data) > 0 {
		json.Unmarshal(data, &body)
	}
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	f.bodies = append(f.bodies, body)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	if f.flaky > 0 {
		f.flaky--
		http.Error(w, `{"message": "Bad Gateway"}`, http.StatusBadGateway)
		return
	}
	if f.failWrites && r.Method != http.MethodGet {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message": "Resource not accessible by integration"}`)
		return
	}
	reply := func(v any) { json.NewEncoder(w).Encode(v) }
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/repos/acme/shop/check-runs":
		reply(map[string]any{"id": 7, "html_url": "https://github.example/acme/shop/runs/7"})
	case r.Method == http.MethodPatch && r.URL.Path == "/repos/acme/shop/check-runs/7":
		reply(map[string]any{"id": 7})
	case r.Method == http.MethodGet && r.URL.Path == "/repos/acme/shop/issues/5/comments":
		var list []map[string]any
		list = append(list, map[string]any{"id": 1, "body": "LGTM"})
		for id, b := range f.comments {
			list = append(list, map[string]any{"id": id, "body": b})
		}
		reply(list)
	case r.Method == http.MethodPost && r.URL.Path == "/repos/acme/shop/issues/5/comments":
		f.nextID++
		f.comments[f.nextID] = body["body"].(string)
		reply(map[string]any{"id": f.nextID, "html_url": fmt.Sprintf("https://github.example/acme/shop/pull/5#issuecomment-%d", f.nextID)})
	case r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/repos/acme/shop/issues/comments/"):
		var id int64
		fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/repos/acme/shop/issues/comments/"), &id)
		if _, ok := f.comments[id]; !ok {
			http.Error(w, `{"message": "Not Found"}`, http.StatusNotFound)
			return
		}
		f.comments[id] = body["body"].(string)
		reply(map[string]any{"id": id})
	default:
		http.Error(w, `{"message": "Not Found"}`, http.StatusNotFound)
	}
}

// findings is a report of n error findings, each on its own line.
func findings(n int) *finding.Report {
	r := &finding.Report{Rules: map[string]finding.RuleInfo{"pss.privileged": {ID: "pss.privileged", Fix: "Set privileged: false."}}}
	for i := range n {
		r.Findings = append(r.Findings, finding.Finding{
			Rule: "pss.privileged", Severity: finding.Error, Message: "container sets privileged: true",
			Resource: finding.Resource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "prod", Name: fmt.Sprintf("web%d", i)},
			Field:    "spec.template.spec.containers[0].securityContext.privileged",
			Location: finding.Location{File: "overlays/prod/patch.yaml", Line: i + 1, Column: 5},
		})
	}
	r.Normalize()
	return r
}

func publisher(t *testing.T, srv *httptest.Server, slept *[]time.Duration) GitHub {
	event := filepath.Join(t.TempDir(), "event.json")
	os.WriteFile(event, []byte(`{"pull_request": {"number": 5, "head": {"sha": "headsha"}}}`), 0o644)
	return GitHub{
		Token: "ghs_SECRET", APIURL: srv.URL, ServerURL: "https://github.example", Repository: "acme/shop",
		EventPath: event, SHA: "mergesha", Name: "kubegate", Comment: true, HTTP: srv.Client(),
		Sleep: func(_ context.Context, d time.Duration) error { *slept = append(*slept, d); return nil },
	}
}

// Every finding reaches the check run, 50 to a request, on the pull
// request's head commit, and the conclusion follows the verdict.
func TestCheckRun(t *testing.T) {
	f, srv := newFake(t)
	var slept []time.Duration
	out := publisher(t, srv, &slept).Publish(context.Background(), findings(120), Failed, "## kubegate: 120 findings")
	if len(out.Problems) > 0 || !out.Annotated || out.CheckRun != "https://github.example/acme/shop/runs/7" {
		t.Fatalf("%+v", out)
	}
	var runs []map[string]any
	for i, r := range f.requests {
		if strings.Contains(r, "check-runs") {
			runs = append(runs, f.bodies[i])
		}
		if f.auth[i] != "Bearer ghs_SECRET" {
			t.Errorf("%s: Authorization %q", r, f.auth[i])
		}
	}
	if len(runs) != 4 {
		t.Fatalf("%d check-run requests, want 4 (create with 50, two updates with 50 and 20, complete): %v", len(runs), f.requests)
	}
	if runs[0]["head_sha"] != "headsha" || runs[0]["name"] != "kubegate" {
		t.Errorf("created on %v as %v: want the pull request's head commit, not the merge commit", runs[0]["head_sha"], runs[0]["name"])
	}
	total := 0
	lines := map[float64]bool{}
	for i, b := range runs {
		out, _ := b["output"].(map[string]any)
		anns, _ := out["annotations"].([]any)
		if want := []int{50, 50, 20, 0}[i]; len(anns) != want {
			t.Errorf("request %d: %d annotations, want %d", i, len(anns), want)
		}
		for _, a := range anns {
			a := a.(map[string]any)
			lines[a["start_line"].(float64)] = true
			if a["annotation_level"] != "failure" || a["title"] != "pss.privileged" || a["path"] != "overlays/prod/patch.yaml" || !strings.Contains(a["raw_details"].(string), "Fix: Set privileged: false.") {
				t.Errorf("annotation %v", a)
			}
		}
		total += len(anns)
	}
	if total != 120 || len(lines) != 120 {
		t.Errorf("%d annotations on %d lines, want 120", total, len(lines))
	}
	last := runs[3]
	if last["status"] != "completed" || last["conclusion"] != "failure" {
		t.Errorf("completed as %v/%v, want completed/failure", last["status"], last["conclusion"])
	}
	for v, want := range map[Verdict]string{Findings: "neutral", Passed: "success"} {
		f, srv := newFake(t)
		publisher(t, srv, &slept).Publish(context.Background(), findings(1), v, "s")
		if got := f.bodies[len(f.bodies)-1-commentRequests(f)]["conclusion"]; got != want {
			t.Errorf("verdict %d: conclusion %v, want %s", v, got, want)
		}
	}
}

// commentRequests counts the requests after the check run's (the comment's).
func commentRequests(f *fakeGitHub) int {
	n := 0
	for _, r := range f.requests {
		if strings.Contains(r, "/issues/") {
			n++
		}
	}
	return n
}

// One comment: created, edited in place on the next run, turned into an
// all-clear when nothing remains; none created for a clean first run.
func TestStickyComment(t *testing.T) {
	f, srv := newFake(t)
	var slept []time.Duration
	g := publisher(t, srv, &slept)
	out := g.Publish(context.Background(), findings(20), Failed, "s")
	if len(f.comments) != 1 || out.Comment == "" {
		t.Fatalf("after the first run: %d comments, %+v", len(f.comments), out)
	}
	var body string
	for _, b := range f.comments {
		body = b
	}
	for _, want := range []string{"<!-- kubegate:comment:kubegate -->", "### kubegate: 20 findings", "[overlays/prod/patch.yaml:1:5](https://github.example/acme/shop/blob/headsha/overlays/prod/patch.yaml#L1)", "… and 5 more.", "[check run](https://github.example/acme/shop/runs/7)"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	g.Publish(context.Background(), findings(3), Failed, "s")
	if len(f.comments) != 1 {
		t.Fatalf("after the second run: %d comments, want the first edited", len(f.comments))
	}
	for _, b := range f.comments {
		if !strings.Contains(b, "### kubegate: 3 findings") {
			t.Errorf("not edited:\n%s", b)
		}
	}
	g.Publish(context.Background(), findings(0), Passed, "s")
	for _, b := range f.comments {
		if !strings.Contains(b, "nothing to report") || len(f.comments) != 1 {
			t.Errorf("all clear: %d comments:\n%s", len(f.comments), b)
		}
	}

	f2, srv2 := newFake(t)
	publisher(t, srv2, &slept).Publish(context.Background(), findings(0), Passed, "s")
	if len(f2.comments) != 0 {
		t.Errorf("a clean first run wrote a comment")
	}
	g = publisher(t, srv2, &slept)
	g.Comment = false
	g.Publish(context.Background(), findings(4), Failed, "s")
	if len(f2.comments) != 0 {
		t.Errorf("--github-comment=false wrote a comment")
	}
}

// A read-only token (a fork's pull request) publishes nothing and says
// why; server errors are retried, waiting what GitHub says.
func TestDegradationAndRetries(t *testing.T) {
	f, srv := newFake(t)
	f.failWrites = true
	var slept []time.Duration
	out := publisher(t, srv, &slept).Publish(context.Background(), findings(3), Failed, "s")
	if out.Annotated || len(out.Problems) != 2 {
		t.Fatalf("%+v", out)
	}
	for _, p := range out.Problems {
		if !strings.Contains(p, "403 Resource not accessible by integration") || !strings.Contains(p, "a pull request from a fork gets a read-only token") || strings.Contains(p, "SECRET") {
			t.Errorf("problem %q", p)
		}
	}

	f, srv = newFake(t)
	f.flaky = 2
	slept = nil
	out = publisher(t, srv, &slept).Publish(context.Background(), findings(3), Failed, "s")
	if len(out.Problems) > 0 || !out.Annotated {
		t.Fatalf("after two 502s: %+v", out)
	}
	if len(slept) != 2 || f.requests[0] != f.requests[2] {
		t.Errorf("slept %v; requests %v: want the create retried twice", slept, f.requests[:3])
	}
}

func TestRetryAfter(t *testing.T) {
	for _, c := range []struct {
		status int
		header map[string]string
		wait   time.Duration
		again  bool
	}{
		{502, nil, 2 * time.Second, true},
		{429, map[string]string{"Retry-After": "7"}, 7 * time.Second, true},
		{403, map[string]string{"Retry-After": "30"}, 30 * time.Second, true}, // a secondary rate limit
		{403, nil, 0, false}, // not allowed: no retry
		{404, nil, 0, false},
		{200, nil, 0, false},
	} {
		resp := &http.Response{StatusCode: c.status, Header: http.Header{}}
		for k, v := range c.header {
			resp.Header.Set(k, v)
		}
		if wait, again := retryAfter(resp, 1); wait != c.wait || again != c.again {
			t.Errorf("%d %v: %v %v, want %v %v", c.status, c.header, wait, again, c.wait, c.again)
		}
	}
}

// The check run's summary is cut at the Checks API's limit, on a rune.
func TestSummaryLimit(t *testing.T) {
	f, srv := newFake(t)
	var slept []time.Duration
	long := strings.Repeat("é", maxSummary)
	publisher(t, srv, &slept).Publish(context.Background(), findings(1), Failed, long)
	s := f.bodies[0]["output"].(map[string]any)["summary"].(string)
	if len(s) > maxSummary || !strings.HasSuffix(s, "the job summary has the rest)") || !strings.HasPrefix(s, "éé") {
		t.Errorf("summary of %d bytes, ends %q", len(s), s[len(s)-40:])
	}
}
