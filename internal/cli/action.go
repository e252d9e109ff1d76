package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/kubegate/kubegate/internal/gitref"
)

// The GitHub Action (action.yml at the repository root) runs the image with
// the single argument "action": this file is the one place where the
// action's inputs become check's flags. GitHub hands a Docker action its
// inputs as INPUT_<NAME> environment variables, NAME upper-cased with its
// dashes kept (INPUT_FAIL-ON), every declared input present, empty when
// not set.

// actionInput is one input of action.yml and the check flag it sets.
type actionInput struct {
	name string // as action.yml declares it
	flag string // check's long flag; "" for the PATH arguments
	kind inputKind
}

type inputKind int

const (
	single    inputKind = iota // one value: --flag=VALUE
	multi                      // one value per line: --flag=VALUE each
	boolean                    // true: --flag; false or empty: nothing
	token                      // no flag: read as the GitHub API token (publishGitHub)
	selfcheck                  // no flag: true runs kubegate verify-self first
)

// actionInputs are action.yml's inputs, in the order their flags are
// passed. An empty input passes no flag, so check's own default applies
// and action.yml declares no defaults of its own. Inputs whose flag check
// does not accept yet are passed all the same: check's error says so.
var actionInputs = []actionInput{
	{"output", "output", multi},
	{"fail-on", "fail-on", single},
	{"pss-enforce", "pss-enforce", single},
	{"pss-warn", "pss-warn", single},
	{"pss-audit", "pss-audit", single},
	{"config", "config", single},
	{"policy", "policy", multi},
	{"data", "data", multi},
	{"trusted-policies", "trusted-policies", single},
	{"baseline", "baseline", single},
	{"fail-on-existing", "fail-on-existing", boolean},
	{"offline", "offline", boolean},
	{"sbom-dir", "sbom-dir", single},
	{"verify-key", "verify-key", multi},
	{"verify-identity", "verify-identity", single},
	{"verify-issuer", "verify-issuer", single},
	{"insecure-ignore-tlog", "insecure-ignore-tlog", boolean},
	{"image-layout", "image-layout", single},
	{"cache-dir", "cache-dir", single},
	{"vuln-db", "vuln-db", single},
	{"vuln-fail-severity", "vuln-fail-severity", single},
	{"vex", "vex", multi},
	{"allowed-registry", "allowed-registry", multi},
	{"shard", "shard", single},
	{"evaluator", "evaluator", single},
	{"check-name", "github-check-name", single},
	{"comment", "github-comment", single},
	{"github-token", "", token},
	{"verify-self", "", selfcheck},
	{"paths", "", multi},
}

const actionUsage = `Usage: kubegate action

Runs 'kubegate check' with flags built from the GitHub Action's inputs, the
INPUT_* environment variables a Docker action receives (action.yml). An empty
input passes no flag; a multi-line input passes one flag per line; a boolean
input is true or false. The github format always goes to standard output.

Inputs:
%s`

// runAction runs check with the arguments the action's inputs ask for.
func runAction(ctx context.Context, args []string, env Env) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		var b strings.Builder
		for _, in := range actionInputs {
			to := "PATH arguments"
			switch {
			case in.kind == token:
				to = "the token for GitHub's API"
			case in.kind == selfcheck:
				to = "kubegate verify-self first"
			case in.flag != "":
				to = "--" + in.flag
			}
			fmt.Fprintf(&b, "  %-22s %-28s %s\n", in.name, inputEnv(in.name), to)
		}
		fmt.Fprintf(env.Stdout, actionUsage, b.String())
		return ExitOK
	}
	if len(args) > 0 {
		return errorf(env, "action: takes no arguments (it reads the INPUT_* variables of a GitHub Action), got %q", args)
	}
	checkArgs, err := actionArgs(env)
	if err != nil {
		return errorf(env, "action: %v", err)
	}
	if self, err := parseInputBool(actionInputValue(env, "verify-self")); err != nil {
		return errorf(env, "action: input verify-self: %v", err)
	} else if self {
		// This image, as the released action.yml names it by digest
		// (KUBEGATE_IMAGE), against the release identity: a step that
		// cannot show it runs a signed kubegate fails before checking.
		fmt.Fprintln(env.Stderr, "kubegate verify-self")
		if code := runVerifySelf(ctx, nil, env); code != ExitOK {
			return ExitError
		}
	}
	fmt.Fprintf(env.Stderr, "kubegate check %s\n", shellJoin(checkArgs))
	return runCheck(ctx, checkArgs, env)
}

// actionArgs builds check's arguments from the INPUT_* variables.
func actionArgs(env Env) ([]string, error) {
	var flags, paths []string
	for _, in := range actionInputs {
		raw := actionInputValue(env, in.name)
		switch in.kind {
		case single:
			if v := strings.TrimSpace(raw); v != "" {
				if strings.ContainsAny(v, "\r\n") {
					return nil, fmt.Errorf("input %s: one value expected, got several lines", in.name)
				}
				flags = append(flags, "--"+in.flag+"="+v)
			}
		case boolean:
			on, err := parseInputBool(raw)
			if err != nil {
				return nil, fmt.Errorf("input %s: %v", in.name, err)
			}
			if on {
				flags = append(flags, "--"+in.flag)
			}
		case multi:
			for _, v := range inputLines(raw) {
				if in.flag == "" {
					paths = append(paths, v)
				} else {
					flags = append(flags, "--"+in.flag+"="+v)
				}
			}
		}
	}
	if strings.TrimSpace(actionInputValue(env, "baseline")) == "" {
		if sha, note := pullRequestBase(env); sha != "" {
			flags = append(flags, "--baseline="+sha)
		} else if note != "" {
			fmt.Fprintf(env.Stderr, "kubegate: %s\n", note)
		}
	}
	if !hasStdoutGitHub(flags) {
		// The annotations are what the action is for: other outputs are
		// extra, never instead.
		flags = append([]string{"--output=github"}, flags...)
	}
	// After "--" a path that starts with a dash is still a path.
	if len(paths) > 0 {
		flags = append(append(flags, "--"), paths...)
	}
	return flags, nil
}

// pullRequestBase is the default baseline of a pull request's run: the base
// commit named by the event, when the clone holds it. Otherwise a note
// saying why there is none (for the log), or nothing outside pull requests.
func pullRequestBase(env Env) (sha, note string) {
	switch env.getenv("GITHUB_EVENT_NAME") {
	case "pull_request", "pull_request_target":
	default:
		return "", ""
	}
	data, err := os.ReadFile(env.getenv("GITHUB_EVENT_PATH"))
	if err != nil {
		return "", "no baseline: the pull request's event file cannot be read, so every finding is judged"
	}
	var ev struct {
		PullRequest struct {
			Base struct {
				SHA string `json:"sha"`
			} `json:"base"`
		} `json:"pull_request"`
	}
	if err := json.Unmarshal(data, &ev); err != nil || ev.PullRequest.Base.SHA == "" {
		return "", "no baseline: the event names no pull request base commit, so every finding is judged"
	}
	sha = ev.PullRequest.Base.SHA
	if _, err := gitref.Open(env.workDir(), sha, "--baseline"); err != nil {
		return "", fmt.Sprintf("no baseline: the pull request's base commit %s is not in the clone, so every finding is judged; check out with fetch-depth: 0 (actions/checkout) to gate on what the pull request introduces", sha)
	}
	return sha, ""
}

// inputEnv is the variable GitHub sets for an input.
func inputEnv(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

// actionInputValue is an input's value.
func actionInputValue(env Env, name string) string {
	return env.getenv(inputEnv(name))
}

// inputLines splits a multi-line input: one value per non-blank line,
// surrounding white space removed.
func inputLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// parseInputBool reads a boolean input as the Actions toolkit's
// getBooleanInput does (YAML 1.2 core schema), empty being false.
func parseInputBool(s string) (bool, error) {
	switch strings.TrimSpace(s) {
	case "", "false", "False", "FALSE":
		return false, nil
	case "true", "True", "TRUE":
		return true, nil
	}
	return false, fmt.Errorf("%q is not a boolean (want true or false)", strings.TrimSpace(s))
}

// hasStdoutGitHub reports whether the flags already send the github format
// to standard output.
func hasStdoutGitHub(flags []string) bool {
	for _, f := range flags {
		if f == "--output=github" || f == "--output=github=-" {
			return true
		}
	}
	return false
}

// shellJoin quotes args for a log line a person can paste into a shell.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./:,@+") == "" {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}
