package cli

// kubegate completion bash|zsh|fish: shell completion of the commands and
// their flags. The flag library (spf13/pflag) has no generator (cobra's
// is built on its command tree, which kubegate does not use), so the
// scripts are written here from each command's own --help: a flag added
// to a command is completed without touching this file.

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// commands are the commands completed, with their one-line purpose.
var commands = []struct{ name, purpose string }{
	{"check", "render manifests, evaluate policies, report findings"},
	{"rules", "list every rule with its severity, rationale and fix"},
	{"explain", "explain one rule: why, how to fix it, examples"},
	{"merge", "merge the JSON reports of sharded runs"},
	{"test", "run the Rego tests of your policies"},
	{"sign", "sign the images the manifests name"},
	{"verify-self", "check that this kubegate is a signed release image"},
	{"db", "download the current grype vulnerability database"},
	{"init", "write a commented .kubegate.yaml and a pipeline"},
	{"completion", "print shell completion for bash, zsh or fish"},
	{"version", "print the version"},
}

// flagInfo is one flag as --help prints it.
type flagInfo struct {
	long, short, usage string
	value              bool // takes a value
}

var flagLine = regexp.MustCompile(`^\s+(?:-(\w), )?--([\w-]+)(\[=true\|false\])?(?: (\S+))?\s{2,}(.*)$`)

// flagsOf reads a command's flags from its --help.
func flagsOf(cmd string) []flagInfo {
	var out strings.Builder
	Main(context.Background(), []string{cmd, "--help"}, Env{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }})
	var flags []flagInfo
	for _, line := range strings.Split(out.String(), "\n") {
		m := flagLine.FindStringSubmatch(line)
		if m == nil || m[2] == "help" {
			continue
		}
		usage, _, _ := strings.Cut(m[5], "; ")
		usage, _, _ = strings.Cut(usage, " (default")
		flags = append(flags, flagInfo{long: m[2], short: m[1], usage: usage, value: m[3] == "" && m[4] != ""})
	}
	return flags
}

func runCompletion(args []string, env Env) int {
	if len(args) != 1 || !slices.Contains([]string{"bash", "zsh", "fish"}, args[0]) {
		return errorf(env, "completion: name a shell: kubegate completion bash|zsh|fish")
	}
	var b strings.Builder
	switch args[0] {
	case "bash":
		bashCompletion(&b)
	case "zsh":
		zshCompletion(&b)
	case "fish":
		fishCompletion(&b)
	}
	fmt.Fprint(env.Stdout, b.String())
	return ExitOK
}

func commandNames() []string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return names
}

func bashCompletion(b *strings.Builder) {
	fmt.Fprintf(b, `# bash completion for kubegate: source <(kubegate completion bash)
_kubegate() {
  local cur=${COMP_WORDS[COMP_CWORD]} opts=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W %q -- "$cur"))
    return
  fi
  case "${COMP_WORDS[1]}" in
`, strings.Join(commandNames(), " "))
	for _, c := range commands {
		var opts []string
		for _, f := range flagsOf(c.name) {
			opts = append(opts, "--"+f.long)
			if f.short != "" {
				opts = append(opts, "-"+f.short)
			}
		}
		switch c.name {
		case "completion":
			opts = []string{"bash", "zsh", "fish"}
		}
		if len(opts) > 0 {
			fmt.Fprintf(b, "    %s) opts=%q ;;\n", c.name, strings.Join(opts, " "))
		}
	}
	b.WriteString(`  esac
  if [[ "$cur" == -* || "${COMP_WORDS[1]}" == completion ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o default -F _kubegate kubegate
`)
}

// zshQuote makes text safe inside a single-quoted _arguments spec.
func zshQuote(s string) string {
	return strings.NewReplacer("'", "", "[", "(", "]", ")", ":", " -", "\\", "").Replace(s)
}

func zshCompletion(b *strings.Builder) {
	b.WriteString("#compdef kubegate\n# zsh completion for kubegate: kubegate completion zsh > \"${fpath[1]}/_kubegate\"\n_kubegate() {\n  local -a commands\n  commands=(\n")
	for _, c := range commands {
		fmt.Fprintf(b, "    '%s:%s'\n", c.name, zshQuote(c.purpose))
	}
	b.WriteString("  )\n  if (( CURRENT == 2 )); then\n    _describe 'command' commands\n    return\n  fi\n  case $words[2] in\n")
	for _, c := range commands {
		var specs []string
		for _, f := range flagsOf(c.name) {
			spec := "--" + f.long
			if f.value {
				spec += "="
			}
			spec += "[" + zshQuote(f.usage) + "]"
			if f.value {
				spec += ":value:_files"
			}
			specs = append(specs, "'"+spec+"'")
		}
		if c.name == "completion" {
			specs = append(specs, "'1:shell:(bash zsh fish)'")
		} else {
			specs = append(specs, "'*:path:_files'")
		}
		fmt.Fprintf(b, "    %s)\n      _arguments \\\n        %s ;;\n", c.name, strings.Join(specs, " \\\n        "))
	}
	b.WriteString("  esac\n}\nif [ \"$funcstack[1]\" = \"_kubegate\" ]; then\n  _kubegate \"$@\"\nelse\n  compdef _kubegate kubegate\nfi\n")
}

// fishQuote quotes text for fish.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

func fishCompletion(b *strings.Builder) {
	b.WriteString("# fish completion for kubegate: kubegate completion fish > ~/.config/fish/completions/kubegate.fish\n")
	b.WriteString("complete -c kubegate -f\n")
	for _, c := range commands {
		fmt.Fprintf(b, "complete -c kubegate -n __fish_use_subcommand -a %s -d %s\n", c.name, fishQuote(c.purpose))
	}
	for _, c := range commands {
		cond := fishQuote("__fish_seen_subcommand_from " + c.name)
		for _, f := range flagsOf(c.name) {
			line := fmt.Sprintf("complete -c kubegate -n %s -l %s", cond, f.long)
			if f.short != "" {
				line += " -s " + f.short
			}
			if f.value {
				line += " -r -F"
			}
			fmt.Fprintf(b, "%s -d %s\n", line, fishQuote(f.usage))
		}
		if c.name == "completion" {
			fmt.Fprintf(b, "complete -c kubegate -n %s -a 'bash zsh fish'\n", cond)
		} else if c.name != "version" {
			fmt.Fprintf(b, "complete -c kubegate -n %s -F\n", cond)
		}
	}
}
