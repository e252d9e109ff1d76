package publish

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v75/github"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/report"
)

// commentTop is how many findings the comment lists.
const commentTop = 15

// marker finds the comment again: one per check name, so that shards with
// their own names keep their own comments.
func (g GitHub) marker() string { return "<!-- kubegate:comment:" + g.Name + " -->" }

// comment writes the sticky comment, or edits the one there is. When
// nothing remains to report, an existing comment becomes a short all-clear
// and none is created.
func (g GitHub) comment(ctx context.Context, c *github.Client, owner, repo string, number int, rep *finding.Report, checkRun string) (string, error) {
	var mine *github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		cs, resp, err := c.Issues.ListComments(ctx, owner, repo, number, opts)
		if err != nil {
			return "", err
		}
		for _, x := range cs {
			if strings.Contains(x.GetBody(), g.marker()) {
				mine = x
				break
			}
		}
		if mine != nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	clear := len(rep.Errors) == 0 && len(judged(rep)) == 0
	if clear && mine == nil {
		return "", nil
	}
	body := g.commentBody(rep, checkRun, clear)
	if mine != nil {
		x, _, err := c.Issues.EditComment(ctx, owner, repo, mine.GetID(), &github.IssueComment{Body: github.Ptr(body)})
		return x.GetHTMLURL(), err
	}
	x, _, err := c.Issues.CreateComment(ctx, owner, repo, number, &github.IssueComment{Body: github.Ptr(body)})
	return x.GetHTMLURL(), err
}

// judged are the findings the comment is about: with a baseline, the new
// ones; else all of them.
func judged(rep *finding.Report) []finding.Finding {
	if rep.Summary.BaselineCounts == nil {
		return rep.Findings
	}
	var out []finding.Finding
	for _, f := range rep.Findings {
		if f.Baseline != finding.BaselineExisting {
			out = append(out, f)
		}
	}
	return out
}

// commentBody is the comment's Markdown: the verdict, the counts, the most
// severe findings linked to their lines, and the check run.
func (g GitHub) commentBody(rep *finding.Report, checkRun string, clear bool) string {
	var b strings.Builder
	b.WriteString(g.marker() + "\n")
	if clear {
		b.WriteString("### ✅ kubegate: nothing to report\n\n")
		if bl := rep.Summary.BaselineCounts; bl != nil {
			fmt.Fprintf(&b, "No new findings (%d existing, %d fixed).", bl.Existing, bl.Fixed)
		} else {
			b.WriteString("No findings.")
		}
		if checkRun != "" {
			fmt.Fprintf(&b, " [Check run](%s).", checkRun)
		}
		b.WriteString("\n")
		return b.String()
	}
	fs := judged(rep)
	head := "finding"
	if rep.Summary.BaselineCounts != nil {
		head = "new finding"
	}
	if len(fs) != 1 {
		head += "s"
	}
	fmt.Fprintf(&b, "### kubegate: %d %s\n\n", len(fs), head)
	s := rep.Summary
	if bl := s.BaselineCounts; bl != nil {
		fmt.Fprintf(&b, "| new | fixed | existing | errors | warnings | notices | inputs not evaluated |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n| %d | %d | %d | %d | %d | %d | %d |\n\n",
			bl.New, bl.Fixed, bl.Existing, s.Error, s.Warning, s.Notice, len(rep.Errors))
	} else {
		fmt.Fprintf(&b, "| errors | warnings | notices | inputs not evaluated |\n| ---: | ---: | ---: | ---: |\n| %d | %d | %d | %d |\n\n", s.Error, s.Warning, s.Notice, len(rep.Errors))
	}
	var top []finding.Finding
	for sev := finding.Error; sev >= finding.Notice && len(top) < commentTop; sev-- {
		for _, f := range fs {
			if f.Severity == sev && len(top) < commentTop {
				top = append(top, f)
			}
		}
	}
	if len(top) > 0 {
		b.WriteString("| | where | resource | rule | message |\n| --- | --- | --- | --- | --- |\n")
		for _, f := range top {
			fmt.Fprintf(&b, "| %s | %s | %s | `%s` | %s |\n", icon(f.Severity), report.GitHubContext{ServerURL: g.ServerURL, Repository: g.Repository, SHA: g.SHA}.Link(f.Location), report.MarkdownCell(f.Resource.String()), f.Rule, report.MarkdownCell(f.Message))
		}
		if more := len(fs) - len(top); more > 0 {
			fmt.Fprintf(&b, "\n… and %d more.", more)
		}
		b.WriteString("\n")
	}
	if checkRun != "" {
		fmt.Fprintf(&b, "\nEvery finding is on its line in the [check run](%s).\n", checkRun)
	}
	return b.String()
}

func icon(s finding.Severity) string {
	switch s {
	case finding.Error:
		return "❌"
	case finding.Warning:
		return "⚠️"
	}
	return "ℹ️"
}
