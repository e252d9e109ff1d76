package cli

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"
	"github.com/spf13/pflag"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/internal/publish"
	"github.com/kubegate/kubegate/report"
)

// githubStep writes what a GitHub Actions step shows besides annotations:
// the job summary (GITHUB_STEP_SUMMARY) and the step outputs
// (GITHUB_OUTPUT): counts per severity and the report files written. Each
// is skipped when its file is not set.
func githubStep(rep *finding.Report, files []string, pub publish.Outcome, env Env) (err error) {
	defer func() {
		// go-githubactions panics when it cannot write a file command.
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	a := githubactions.New(githubactions.WithWriter(io.Discard), githubactions.WithGetenv(env.getenv))
	if env.getenv("GITHUB_STEP_SUMMARY") != "" {
		s, err := githubSummary(rep, env)
		if err != nil {
			return err
		}
		for _, p := range pub.Problems {
			s += "\n> [!WARNING]\n> kubegate could not publish " + p + ". The findings are annotated with workflow commands instead (GitHub shows ten per severity); this summary and the log list them all.\n"
		}
		a.AddStepSummary(s)
	}
	if env.getenv("GITHUB_OUTPUT") != "" {
		for _, kv := range [][2]string{
			{"errors", strconv.Itoa(rep.Summary.Error)},
			{"warnings", strconv.Itoa(rep.Summary.Warning)},
			{"notices", strconv.Itoa(rep.Summary.Notice)},
			{"resources", strconv.Itoa(rep.Summary.Resources)},
			{"input-errors", strconv.Itoa(len(rep.Errors))},
			{"reports", strings.Join(files, "\n")},
		} {
			a.SetOutput(kv[0], kv[1])
		}
		if b := rep.Summary.BaselineCounts; b != nil {
			a.SetOutput("new", strconv.Itoa(b.New))
			a.SetOutput("existing", strconv.Itoa(b.Existing))
			a.SetOutput("fixed", strconv.Itoa(b.Fixed))
			a.SetOutput("changes", strconv.Itoa(len(rep.Changes)))
		}
	}
	return nil
}

// githubSummary is the job summary's Markdown.
func githubSummary(rep *finding.Report, env Env) (string, error) {
	var b bytes.Buffer
	ctx := report.GitHubContext{
		ServerURL:  env.getenv("GITHUB_SERVER_URL"),
		Repository: env.getenv("GITHUB_REPOSITORY"),
		SHA:        env.getenv("GITHUB_SHA"),
		RepoPath:   repoPath(env),
	}
	err := report.WriteGitHubSummary(&b, rep, ctx)
	return b.String(), err
}

// githubOptions say what is published through GitHub's API.
type githubOptions struct {
	comment   bool
	checkName string
}

func addGitHubFlags(fs *pflag.FlagSet) (comment *bool, checkName *string) {
	comment = fs.Bool("github-comment", true, "under GitHub Actions with a token, keep one pull-request comment with the counts and the top findings (edited in place on each run)")
	checkName = fs.String("github-check-name", "kubegate", "under GitHub Actions with a token, the `NAME` of the check run that carries every finding (one per shard, or one from merge)")
	return comment, checkName
}

// githubToken is the token the API is called with: the action's
// github-token input, else GITHUB_TOKEN.
func githubToken(env Env) string {
	return cmp.Or(strings.TrimSpace(env.getenv("INPUT_GITHUB-TOKEN")), env.getenv("GITHUB_TOKEN"))
}

// publishGitHub publishes the check run and the sticky comment under
// GitHub Actions when a token is there. It never changes the exit code;
// what it could not publish, it says on standard error.
func publishGitHub(ctx context.Context, gh githubOptions, rep *finding.Report, code int, env Env) publish.Outcome {
	token := githubToken(env)
	if env.getenv("GITHUB_ACTIONS") != "true" || token == "" {
		return publish.Outcome{}
	}
	// The token never reaches a log, even if something echoes it.
	githubactions.New(githubactions.WithWriter(env.Stdout)).AddMask(token)
	summary, err := githubSummary(rep, env)
	if err != nil {
		summary = "kubegate: " + err.Error()
	}
	verdict := publish.Passed
	switch {
	case code != ExitOK:
		verdict = publish.Failed
	case len(rep.Findings) > 0:
		verdict = publish.Findings
	}
	out := publish.GitHub{
		Token: token, APIURL: cmp.Or(env.getenv("GITHUB_API_URL"), "https://api.github.com"), ServerURL: env.getenv("GITHUB_SERVER_URL"),
		Repository: env.getenv("GITHUB_REPOSITORY"), EventPath: env.getenv("GITHUB_EVENT_PATH"), SHA: env.getenv("GITHUB_SHA"),
		Name: cmp.Or(gh.checkName, "kubegate"), Comment: gh.comment, HTTP: env.HTTP,
	}.Publish(ctx, rep, verdict, summary)
	for _, p := range out.Problems {
		fmt.Fprintf(env.Stderr, "kubegate: could not publish %s; the findings are annotated with workflow commands instead\n", strings.ReplaceAll(p, token, "***"))
	}
	return out
}

// repoPath maps a report path (relative to the working directory) to a
// path from the repository root (GITHUB_WORKSPACE), for links.
func repoPath(env Env) func(string) string {
	ws := env.getenv("GITHUB_WORKSPACE")
	wd := env.workDir()
	if ws == "" || wd == "" {
		return nil
	}
	return func(p string) string {
		rel, err := filepath.Rel(ws, filepath.Join(wd, filepath.FromSlash(p)))
		if err != nil {
			return ""
		}
		return filepath.ToSlash(rel)
	}
}
