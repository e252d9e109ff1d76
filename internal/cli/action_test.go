package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestActionArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
		err  string
	}{
		{
			name: "nothing set: check's defaults, annotations on stdout",
			env:  map[string]string{"INPUT_PATHS": "", "INPUT_FAIL-ON": "", "INPUT_OFFLINE": ""},
			want: []string{"--output=github"},
		},
		{
			name: "every input",
			env: map[string]string{
				"INPUT_PATHS":                "overlays/prod\n\n  overlays/staging  \n",
				"INPUT_FAIL-ON":              "warning",
				"INPUT_PSS-ENFORCE":          "restricted:v1.30",
				"INPUT_PSS-WARN":             "restricted",
				"INPUT_PSS-AUDIT":            "baseline",
				"INPUT_CONFIG":               ".kubegate.yaml",
				"INPUT_POLICY":               "policies/\nextra.rego",
				"INPUT_SBOM-DIR":             "sboms",
				"INPUT_VERIFY-KEY":           "keys/a.pub\nkeys/b.pub\n",
				"INPUT_VERIFY-IDENTITY":      "^https://github.com/acme/",
				"INPUT_VERIFY-ISSUER":        "^https://token.actions.githubusercontent.com$",
				"INPUT_INSECURE-IGNORE-TLOG": "true",
				"INPUT_OFFLINE":              "True",
				"INPUT_OUTPUT":               "sarif=kubegate.sarif\njunit=out/junit.xml",
				"INPUT_SHARD":                "2/4",
			},
			want: []string{
				"--output=github", "--output=sarif=kubegate.sarif", "--output=junit=out/junit.xml",
				"--fail-on=warning", "--pss-enforce=restricted:v1.30", "--pss-warn=restricted", "--pss-audit=baseline",
				"--config=.kubegate.yaml", "--policy=policies/", "--policy=extra.rego", "--offline",
				"--sbom-dir=sboms", "--verify-key=keys/a.pub", "--verify-key=keys/b.pub",
				"--verify-identity=^https://github.com/acme/", "--verify-issuer=^https://token.actions.githubusercontent.com$",
				"--insecure-ignore-tlog", "--shard=2/4",
				"--", "overlays/prod", "overlays/staging",
			},
		},
		{
			name: "false booleans pass nothing",
			env:  map[string]string{"INPUT_OFFLINE": "false", "INPUT_INSECURE-IGNORE-TLOG": "FALSE"},
			want: []string{"--output=github"},
		},
		{
			name: "github asked for explicitly is not doubled",
			env:  map[string]string{"INPUT_OUTPUT": "github\njson=r.json"},
			want: []string{"--output=github", "--output=json=r.json"},
		},
		{
			name: "a path that starts with a dash stays a path",
			env:  map[string]string{"INPUT_PATHS": "-\n--odd"},
			want: []string{"--output=github", "--", "-", "--odd"},
		},
		{
			name: "underscored names are not GitHub's",
			env:  map[string]string{"INPUT_FAIL_ON": "never"},
			want: []string{"--output=github"},
		},
		{
			name: "a boolean that is not one",
			env:  map[string]string{"INPUT_OFFLINE": "yes"},
			err:  `input offline: "yes" is not a boolean`,
		},
		{
			name: "several lines for a one-value input",
			env:  map[string]string{"INPUT_FAIL-ON": "error\nwarning"},
			err:  "input fail-on: one value expected",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := actionArgs(Env{Getenv: func(k string) string { return tc.env[k] }})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("args\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// action.yml and actionInputs are the two halves of one mapping: every
// input has a flag, every flag an input, and no input has a default of its
// own (check's defaults apply).
func TestActionYAMLMatchesTheMapping(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Inputs map[string]struct {
			Description string  `yaml:"description"`
			Default     *string `yaml:"default"`
			Required    bool    `yaml:"required"`
		} `yaml:"inputs"`
		Outputs map[string]struct {
			Description string `yaml:"description"`
		} `yaml:"outputs"`
		Runs struct {
			Using string   `yaml:"using"`
			Image string   `yaml:"image"`
			Args  []string `yaml:"args"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	var declared, mapped []string
	for name, in := range meta.Inputs {
		declared = append(declared, name)
		if in.Default != nil && !(name == "github-token" && *in.Default == "${{ github.token }}") {
			t.Errorf("input %s has a default (%q): leave it empty so that check's default applies", name, *in.Default)
		}
		if in.Required {
			t.Errorf("input %s is required: every check flag is optional", name)
		}
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
	}
	for _, in := range actionInputs {
		mapped = append(mapped, in.name)
	}
	slices.Sort(declared)
	slices.Sort(mapped)
	if !slices.Equal(declared, mapped) {
		t.Errorf("action.yml inputs %q, but kubegate action maps %q", declared, mapped)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "docs", "reports.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range declared {
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("docs/reports.md does not name the action input %s", name)
		}
	}
	for _, out := range []string{"errors", "warnings", "notices", "reports"} {
		if _, ok := meta.Outputs[out]; !ok {
			t.Errorf("action.yml does not declare the output %s", out)
		}
	}
	if meta.Runs.Using != "docker" || !strings.HasPrefix(meta.Runs.Image, "docker://") {
		t.Errorf("runs: using %q image %q, want a docker action on a prebuilt docker:// image", meta.Runs.Using, meta.Runs.Image)
	}
	if len(meta.Runs.Args) == 0 || meta.Runs.Args[len(meta.Runs.Args)-1] != "action" {
		t.Errorf("runs.args %q, want the kubegate action command", meta.Runs.Args)
	}
}

func TestActionRunsCheck(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "r.json")
	stdout, stderr, code := run(t, "", map[string]string{
		"INPUT_PATHS":   "fixtures/plain",
		"INPUT_OFFLINE": "true",
		"INPUT_FAIL-ON": "never",
		"INPUT_OUTPUT":  "json=" + report,
	}, "", "action")
	if code != ExitOK {
		t.Fatalf("exit %d, want 0 (fail-on never)\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "::error ") || !strings.Contains(stdout, "file=fixtures/plain/") {
		t.Errorf("no error annotation on a fixture file in stdout:\n%s", stdout)
	}
	if !strings.Contains(stderr, "kubegate check --output=github --output=json=") {
		t.Errorf("the check command line is not logged:\n%s", stderr)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if r := decodeReport(t, string(b)); len(r.Findings) == 0 {
		t.Error("the JSON report has no findings")
	}

	// The default fail-on applies when the input is empty.
	if _, _, code := run(t, "", map[string]string{"INPUT_PATHS": "fixtures/plain", "INPUT_OFFLINE": "true", "INPUT_FAIL-ON": ""}, "", "action"); code != ExitFindings {
		t.Errorf("exit %d with an empty fail-on, want %d", code, ExitFindings)
	}
}

// Every input reaches check, including those whose flag check does not take
// (yet): the action behaves exactly as check with the mapped flags, so that
// check's own error names what it does not accept.
func TestActionPassesInputsThrough(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		input, value string
		check        []string // the same run as check arguments
	}{
		{"INPUT_CONFIG", missing + ".yaml", []string{"--config=" + missing + ".yaml", "--offline"}},
		{"INPUT_POLICY", missing + "\n", []string{"--policy=" + missing, "--offline"}},
		{"INPUT_SBOM-DIR", missing, []string{"--offline", "--sbom-dir=" + missing}},
		{"INPUT_VERIFY-KEY", missing + ".pub", []string{"--offline", "--verify-key=" + missing + ".pub"}},
		{"INPUT_SHARD", "1/2", []string{"--offline", "--shard=1/2"}},
		{"INPUT_SHARD", "3/2", []string{"--offline", "--shard=3/2"}},
	} {
		env := map[string]string{"INPUT_PATHS": "fixtures/plain", "INPUT_OFFLINE": "true", tc.input: tc.value}
		aOut, aErr, aCode := run(t, "", env, "", "action")
		args := append(append([]string{"check", "--output=github"}, tc.check...), "--", "fixtures/plain")
		cOut, cErr, cCode := run(t, "", nil, "", args...)
		logged, aErr, _ := strings.Cut(aErr, "\n")
		if want := "kubegate " + strings.Join(args, " "); logged != want {
			t.Errorf("%s=%q: logged %q, want %q", tc.input, tc.value, logged, want)
		}
		if aCode != cCode || aOut != cOut || aErr != cErr {
			t.Errorf("%s=%q: action exit %d, stderr %q; check %q exit %d, stderr %q", tc.input, tc.value, aCode, aErr, args[1:], cCode, cErr)
		}
	}
}

func TestActionUsage(t *testing.T) {
	stdout, _, code := run(t, "", nil, "", "action", "--help")
	if code != ExitOK || !strings.Contains(stdout, "INPUT_FAIL-ON") || !strings.Contains(stdout, "--fail-on") {
		t.Errorf("exit %d, help:\n%s", code, stdout)
	}
	if _, stderr, code := run(t, "", nil, "", "action", "fixtures"); code != ExitError || !strings.Contains(stderr, "takes no arguments") {
		t.Errorf("arguments: exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(usage, "kubegate action") {
		t.Error("the action command is for the GitHub Action only: keep it out of the usage")
	}
}

// verify-self: true runs kubegate verify-self before the check, and a step
// whose image cannot be verified fails without checking.
func TestActionVerifySelf(t *testing.T) {
	env := map[string]string{"INPUT_PATHS": "fixtures/plain", "INPUT_OFFLINE": "true", "INPUT_VERIFY-SELF": "true"}
	stdout, stderr, code := run(t, "", env, "", "action")
	if code != ExitError || !strings.Contains(stderr, "kubegate verify-self\nkubegate: verify-self: name the image this kubegate came from") || strings.Contains(stderr, "kubegate check ") || stdout != "" {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	env["INPUT_VERIFY-SELF"] = "maybe"
	if _, stderr, code := run(t, "", env, "", "action"); code != ExitError || !strings.Contains(stderr, "input verify-self") {
		t.Errorf("verify-self: maybe: exit %d, %s", code, stderr)
	}
}
