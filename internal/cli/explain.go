package cli

// kubegate explain RULE: one rule, for the person about to fix it.

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubegate/kubegate/evaluate"
	kgrego "github.com/kubegate/kubegate/rego"
	"github.com/kubegate/kubegate/schema"
)

func runExplain(args []string, env Env) int {
	if len(args) == 1 && (args[0] == "--help" || args[0] == "-h") {
		fmt.Fprint(env.Stdout, "Usage: kubegate explain RULE\n\nPrints a rule's rationale, fix and documentation, and examples that fire and pass from its tests.\n")
		return ExitOK
	}
	if len(args) != 1 {
		return errorf(env, "explain: name one rule (kubegate rules lists them)")
	}
	engine, err := evaluate.New(evaluate.Options{PSS: evaluate.DefaultPSSModes})
	if err != nil {
		return errorf(env, "%v", err)
	}
	var rule *evaluate.Rule
	var ids []string
	for _, r := range engine.Rules() {
		if r.ID == args[0] {
			rule = &r
		}
		ids = append(ids, r.ID)
	}
	if rule == nil {
		msg := fmt.Sprintf("explain: %q is not a rule", args[0])
		if s := nearestRule(args[0], ids); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", s)
		}
		return errorf(env, "%s (kubegate rules lists them)", msg)
	}
	w := env.Stdout
	fmt.Fprintf(w, "%s (%s): %s\n\n", rule.ID, severityLabel(*rule), rule.Title)
	fmt.Fprintf(w, "Why\n%s\n\n", indent(wrap(rule.Rationale, 76)))
	fmt.Fprintf(w, "Fix\n%s\n\n", indent(wrap(rule.Fix, 76)))
	if len(rule.Kinds) > 0 {
		fmt.Fprintf(w, "Applies to\n  %s\n\n", strings.Join(rule.Kinds, ", "))
	}
	if fires, passes := ruleExamples(rule.File); fires != "" || passes != "" {
		// The inputs, evaluated as the tests evaluate them; else the tests
		// as written.
		if in, out, err := evaluate.Examples(context.Background(), *rule); err == nil && in != nil && out != nil {
			fires, passes = asYAML(in), asYAML(out)
		}
		fmt.Fprintf(w, "Examples: the inputs of its first firing and passing tests (%s)\n", testFile(rule.File))
		if fires != "" {
			fmt.Fprintf(w, "  fires on:\n%s\n", indent(indent(fires)))
		}
		if passes != "" {
			fmt.Fprintf(w, "  passes on:\n%s\n", indent(indent(passes)))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Docs\n  %s\n  https://github.com/kubegate/kubegate/blob/main/docs/rules.md\n", rule.Docs)
	return ExitOK
}

func asYAML(v any) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(string(data), "\n")
}

func testFile(file string) string {
	return "rego/" + strings.TrimSuffix(file, ".rego") + "_test.rego"
}

// ruleExamples are the first test_fires_* and test_passes_* tests of a
// built-in rule, as written ("" for a rule with none: kubegate's own
// rules, or the user's).
func ruleExamples(file string) (fires, passes string) {
	if file == "" || path.Ext(file) != ".rego" {
		return "", ""
	}
	data, err := fs.ReadFile(kgrego.FS, strings.TrimSuffix(file, ".rego")+"_test.rego")
	if err != nil {
		return "", ""
	}
	return testBody(string(data), "test_fires_"), testBody(string(data), "test_passes_")
}

// testBody is the first test whose name starts with prefix, from its name
// to its closing brace.
func testBody(src, prefix string) string {
	lines := strings.Split(src, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		for j := i; j < len(lines); j++ {
			if lines[j] == "}" {
				return strings.Join(lines[i:j+1], "\n")
			}
		}
	}
	return ""
}

// nearestRule is the rule a mistyped id most likely meant: one ending in
// it (privileged: pss.privileged), else the nearest by edit distance.
func nearestRule(id string, ids []string) string {
	for _, x := range ids {
		if strings.HasSuffix(x, "."+id) {
			return x
		}
	}
	return schema.Suggest(id, ids)
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// wrap breaks text into lines of at most width characters.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(s) {
		if n > 0 && n+1+len(w) > width {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
