// Package publish puts a report where reviewers of a pull request look:
// on GitHub, a check run on the pull request's head commit that carries
// every finding with a line as an annotation (the Checks API takes them 50
// to a request, with no cap, where workflow commands stop at ten per
// severity), and one sticky comment on the pull request, edited in place on
// each run. It talks to GitHub's REST API through go-github.
//
// Nothing here changes a run's verdict: when publishing fails (a fork's
// read-only token, no event file, an outage), Publish says what it could
// not do and why, and the caller annotates with workflow commands as
// before.
package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/google/go-github/v75/github"

	"github.com/kubegate/kubegate/finding"
)

// GitHub is where and how to publish.
type GitHub struct {
	// Token may write checks and pull-request comments (GITHUB_TOKEN).
	Token string
	// APIURL is GITHUB_API_URL (GitHub Enterprise Server has its own);
	// ServerURL is GITHUB_SERVER_URL, for links.
	APIURL, ServerURL string
	// Repository is GITHUB_REPOSITORY, owner/name; EventPath is
	// GITHUB_EVENT_PATH; SHA is GITHUB_SHA (the merge commit of a pull
	// request: the head commit is read from the event instead).
	Repository, EventPath, SHA string
	// Name is the check run's name (one per shard of a matrix, say).
	Name string
	// Comment turns the sticky pull-request comment on.
	Comment bool
	// HTTP is the client (nil: a default one); Sleep waits between
	// retries (nil: a timer); Budget bounds the whole of Publish (0: two
	// minutes).
	HTTP   *http.Client
	Sleep  func(context.Context, time.Duration) error
	Budget time.Duration
}

// Outcome is what Publish did.
type Outcome struct {
	// CheckRun is the check run's page; Annotated is set when every
	// finding that should be an annotation is on it.
	CheckRun  string
	Annotated bool
	// Comment is the comment's page, when one was written.
	Comment string
	// Problems say what could not be published and why, for the log and
	// the job summary.
	Problems []string
}

// Verdict is how the run ends, for the check run's conclusion.
type Verdict int

const (
	Passed   Verdict = iota // nothing at or above --fail-on, nothing found
	Findings                // findings below --fail-on only
	Failed                  // the gate failed (findings at --fail-on, or input errors)
)

// maxSummary is the Checks API's limit on output.summary.
const maxSummary = 65535

// annotationsPerRequest is the Checks API's limit per request.
const annotationsPerRequest = 50

// event is what Publish reads of the workflow's event.
type event struct {
	PullRequest *struct {
		Number int `json:"number"`
		Head   struct {
			SHA string `json:"sha"`
		} `json:"head"`
	} `json:"pull_request"`
}

// Publish creates the check run (annotations in batches) and writes the
// sticky comment. summary is the job summary's Markdown.
func (g GitHub) Publish(ctx context.Context, rep *finding.Report, verdict Verdict, summary string) Outcome {
	var out Outcome
	budget := g.Budget
	if budget == 0 {
		budget = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	owner, repo, ok := strings.Cut(g.Repository, "/")
	if !ok || g.Token == "" {
		out.Problems = append(out.Problems, "no GITHUB_TOKEN or GITHUB_REPOSITORY: nothing published through the API")
		return out
	}
	var ev event
	if data, err := os.ReadFile(g.EventPath); err == nil {
		_ = json.Unmarshal(data, &ev)
	}
	head := g.SHA
	if ev.PullRequest != nil && ev.PullRequest.Head.SHA != "" {
		head = ev.PullRequest.Head.SHA
	}
	g.SHA = head // links in the comment point at the commit under review
	client, err := g.client()
	if err != nil {
		out.Problems = append(out.Problems, err.Error())
		return out
	}
	if head == "" {
		out.Problems = append(out.Problems, "no commit to attach the check run to (GITHUB_SHA and the event's pull_request.head.sha are empty)")
	} else if url, err := g.checkRun(ctx, client, owner, repo, head, rep, verdict, summary); err != nil {
		out.Problems = append(out.Problems, "the check run: "+describe(err))
	} else {
		out.CheckRun, out.Annotated = url, true
	}
	if g.Comment && ev.PullRequest != nil && ev.PullRequest.Number > 0 {
		url, err := g.comment(ctx, client, owner, repo, ev.PullRequest.Number, rep, out.CheckRun)
		if err != nil {
			out.Problems = append(out.Problems, "the pull-request comment: "+describe(err))
		}
		out.Comment = url
	}
	return out
}

func (g GitHub) client() (*github.Client, error) {
	hc := g.HTTP
	if hc == nil {
		hc = &http.Client{}
	}
	hc = &http.Client{Transport: &retrying{next: hc.Transport, sleep: g.Sleep}, Timeout: 30 * time.Second}
	c := github.NewClient(hc).WithAuthToken(g.Token)
	if g.APIURL != "" {
		u, err := url.Parse(strings.TrimSuffix(g.APIURL, "/") + "/")
		if err != nil {
			return nil, fmt.Errorf("GITHUB_API_URL %q: %v", g.APIURL, err)
		}
		c.BaseURL = u
	}
	return c, nil
}

// describe says why a request failed, for a person: GitHub's message, and
// what a 403 on a pull request from a fork means. The token never appears.
func describe(err error) string {
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil {
		msg := fmt.Sprintf("%d %s", ge.Response.StatusCode, ge.Message)
		if ge.Response.StatusCode == http.StatusForbidden || ge.Response.StatusCode == http.StatusNotFound {
			msg += " (the token may not write: a pull request from a fork gets a read-only token; the workflow needs permissions checks: write and pull-requests: write)"
		}
		return msg
	}
	return err.Error()
}

// conclusion maps the verdict to the Checks API's.
func (v Verdict) conclusion() string {
	switch v {
	case Failed:
		return "failure"
	case Findings:
		return "neutral"
	}
	return "success"
}

// annotations are the findings that belong on the check run: every one
// with a file and a line; with a baseline, the new ones.
func annotations(rep *finding.Report) []*github.CheckRunAnnotation {
	level := map[finding.Severity]string{finding.Error: "failure", finding.Warning: "warning", finding.Notice: "notice"}
	var out []*github.CheckRunAnnotation
	for _, e := range rep.Errors {
		if e.File != "" && e.Line > 0 {
			out = append(out, &github.CheckRunAnnotation{
				Path: github.Ptr(e.File), StartLine: github.Ptr(e.Line), EndLine: github.Ptr(e.Line),
				AnnotationLevel: github.Ptr("failure"), Title: github.Ptr("kubegate: input error"), Message: github.Ptr(e.Message),
			})
		}
	}
	for _, f := range rep.Findings {
		if f.Location.File == "" || f.Location.Line <= 0 || f.Baseline == finding.BaselineExisting {
			continue
		}
		a := &github.CheckRunAnnotation{
			Path: github.Ptr(f.Location.File), StartLine: github.Ptr(f.Location.Line), EndLine: github.Ptr(f.Location.Line),
			AnnotationLevel: github.Ptr(level[f.Severity]), Title: github.Ptr(f.Rule),
			Message: github.Ptr(f.Resource.String() + ": " + f.Message + f.AlsoAt()),
		}
		if f.Location.Column > 0 {
			a.StartColumn, a.EndColumn = github.Ptr(f.Location.Column), github.Ptr(f.Location.Column)
		}
		if info, ok := rep.Rules[f.Rule]; ok && info.Fix != "" {
			a.RawDetails = github.Ptr("Field: " + f.Field + "\nFix: " + info.Fix)
		}
		out = append(out, a)
	}
	return out
}

// checkRun creates the check run with the first batch of annotations,
// adds the others 50 at a time, and completes it.
func (g GitHub) checkRun(ctx context.Context, c *github.Client, owner, repo, head string, rep *finding.Report, verdict Verdict, summary string) (string, error) {
	if len(summary) > maxSummary {
		const note = "\n\n… (cut at the Checks API's limit; the job summary has the rest)"
		cut := maxSummary - len(note)
		for cut > 0 && (summary[cut]&0xC0) == 0x80 {
			cut-- // not inside a UTF-8 sequence
		}
		summary = summary[:cut] + note
	}
	title := title(rep)
	all := annotations(rep)
	batch := func(i int) []*github.CheckRunAnnotation {
		return all[i:min(i+annotationsPerRequest, len(all))]
	}
	output := func(anns []*github.CheckRunAnnotation) *github.CheckRunOutput {
		return &github.CheckRunOutput{Title: github.Ptr(title), Summary: github.Ptr(summary), Annotations: anns}
	}
	run, _, err := c.Checks.CreateCheckRun(ctx, owner, repo, github.CreateCheckRunOptions{
		Name: g.Name, HeadSHA: head, Status: github.Ptr("in_progress"), Output: output(batch(0)),
	})
	if err != nil {
		return "", err
	}
	for i := annotationsPerRequest; i < len(all); i += annotationsPerRequest {
		if _, _, err := c.Checks.UpdateCheckRun(ctx, owner, repo, run.GetID(), github.UpdateCheckRunOptions{Name: g.Name, Output: output(batch(i))}); err != nil {
			return "", err
		}
	}
	_, _, err = c.Checks.UpdateCheckRun(ctx, owner, repo, run.GetID(), github.UpdateCheckRunOptions{
		Name: g.Name, Status: github.Ptr("completed"), Conclusion: github.Ptr(verdict.conclusion()),
		CompletedAt: &github.Timestamp{Time: time.Now()}, Output: output(nil),
	})
	if err != nil {
		return "", err
	}
	return run.GetHTMLURL(), nil
}

// title is the check run's one-line verdict.
func title(rep *finding.Report) string {
	s := rep.Summary
	if b := s.BaselineCounts; b != nil {
		return fmt.Sprintf("%d new, %d fixed, %d existing", b.New, b.Fixed, b.Existing)
	}
	t := fmt.Sprintf("%d errors, %d warnings, %d notices", s.Error, s.Warning, s.Notice)
	if n := len(rep.Errors); n > 0 {
		t += fmt.Sprintf("; %d inputs not evaluated", n)
	}
	return t
}
