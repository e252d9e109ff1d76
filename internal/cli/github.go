package cli

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/report"
)

// githubStep writes what a GitHub Actions step shows besides annotations:
// the job summary (GITHUB_STEP_SUMMARY) and the step outputs
// (GITHUB_OUTPUT): counts per severity and the report files written. Each
// is skipped when its file is not set.
func githubStep(rep *finding.Report, files []string, env Env) (err error) {
	defer func() {
		// go-githubactions panics when it cannot write a file command.
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	a := githubactions.New(githubactions.WithWriter(io.Discard), githubactions.WithGetenv(env.getenv))
	if env.getenv("GITHUB_STEP_SUMMARY") != "" {
		var b bytes.Buffer
		ctx := report.GitHubContext{
			ServerURL:  env.getenv("GITHUB_SERVER_URL"),
			Repository: env.getenv("GITHUB_REPOSITORY"),
			SHA:        env.getenv("GITHUB_SHA"),
			RepoPath:   repoPath(env),
		}
		if err := report.WriteGitHubSummary(&b, rep, ctx); err != nil {
			return err
		}
		a.AddStepSummary(b.String())
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
