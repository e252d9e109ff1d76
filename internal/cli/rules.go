package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kubegate/kubegate/evaluate"
)

func runRules(args []string, env Env) int {
	fs := pflag.NewFlagSet("kubegate rules", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.StringP("output", "o", "text", "`FORMAT`: text, json or markdown")
	policies := fs.StringArray("policy", nil, "also list the rules of the user's policies in `DIR`; repeatable")
	namespaces := fs.StringArray("namespace", nil, "conftest-style packages, as for check")
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		return errorf(env, "rules: %v (see kubegate rules --help)", err)
	}
	if *help {
		fmt.Fprintf(env.Stdout, "Usage: kubegate rules [flags]\n\nLists every rule with its severity, rationale and fix.\n\nFlags:\n%s", fs.FlagUsages())
		return ExitOK
	}
	wd := env.workDir()
	o := &checkOptions{pss: evaluate.DefaultPSSModes, namespaces: *namespaces}
	for _, d := range *policies {
		o.policies = append(o.policies, resolve(wd, d))
	}
	engine, err := newEngine(o, env)
	if err != nil {
		return errorf(env, "%v", err)
	}
	rules := engine.Rules()
	switch *format {
	case "text":
		for _, r := range rules {
			fmt.Fprintf(env.Stdout, "%s (%s)\n  %s\n  why: %s\n  fix: %s\n", r.ID, severityLabel(r), r.Title, oneLine(r.Rationale), r.Fix)
			if r.Docs != "" {
				fmt.Fprintf(env.Stdout, "  docs: %s\n", r.Docs)
			}
			fmt.Fprintln(env.Stdout)
		}
	case "json":
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rules); err != nil {
			return errorf(env, "%v", err)
		}
	case "markdown":
		fmt.Fprint(env.Stdout, RulesMarkdown(rules))
	default:
		return errorf(env, "rules: unknown format %q (want text, json or markdown)", *format)
	}
	return ExitOK
}

// severityLabel describes a rule's default severity; a Pod Security check's
// follows the level it belongs to and the --pss-* modes.
func severityLabel(r evaluate.Rule) string {
	if r.Level != evaluate.Privileged {
		return fmt.Sprintf("%s level: %s by default", r.Level, r.Severity)
	}
	return r.Severity.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// RulesMarkdown is the rule table of docs/rules.md.
func RulesMarkdown(rules []evaluate.Rule) string {
	var b strings.Builder
	b.WriteString("| rule | severity | what it checks | fix |\n| --- | --- | --- | --- |\n")
	cell := func(s string) string { return strings.ReplaceAll(oneLine(s), "|", `\|`) }
	for _, r := range rules {
		title := cell(r.Title)
		if r.Docs != "" {
			title = fmt.Sprintf("[%s](%s)", title, r.Docs)
		}
		// The anchor is the id, for links from SARIF (helpUri) and reports.
		fmt.Fprintf(&b, "| <a id=\"%s\"></a>`%s` | %s | %s: %s | %s |\n", r.ID, r.ID, severityLabel(r), title, cell(r.Rationale), cell(r.Fix))
	}
	return b.String()
}
