package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The pre-commit hooks' entries, run as pre-commit runs them (the entry's
// arguments, no file names, in the repository): exit 1 and the finding on
// its line for a privileged pod, and that finding gone once it is fixed.
func TestPreCommitHooks(t *testing.T) {
	data, err := os.ReadFile("../../.pre-commit-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var hooks []struct {
		ID, Entry, Language, Files string
		PassFilenames              bool `json:"pass_filenames"`
	}
	if err := yaml.Unmarshal(data, &hooks); err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 2 || hooks[0].ID != "kubegate" || hooks[1].ID != "kubegate-docker" || hooks[1].Language != "docker_image" {
		t.Fatalf("hooks %+v", hooks)
	}
	dir := t.TempDir()
	bad := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: nginx:1.27, securityContext: {privileged: true}}]\n"
	write(t, filepath.Join(dir, "pod.yaml"), bad)
	for _, h := range hooks {
		args := strings.Fields(h.Entry)
		if h.Language == "docker_image" {
			args = args[1:] // the image's entrypoint is kubegate
		} else if args[0] != "kubegate" {
			t.Fatalf("%s: entry %q does not run kubegate", h.ID, h.Entry)
		} else {
			args = args[1:]
		}
		if h.PassFilenames {
			t.Errorf("%s: pass_filenames: a changed values file changes what others render", h.ID)
		}
		stdout, stderr, code := run(t, dir, nil, "", args...)
		if code != ExitFindings || !strings.Contains(stdout, "pod.yaml:5:") || !strings.Contains(stdout, "[pss.privileged]") {
			t.Errorf("%s on a privileged pod: exit %d, %s%s", h.ID, code, stdout, stderr)
		}
	}
	write(t, filepath.Join(dir, "pod.yaml"), strings.Replace(bad, "privileged: true", "privileged: false", 1))
	if stdout, stderr, code := run(t, dir, nil, "", strings.Fields(hooks[0].Entry)[1:]...); code == ExitError || strings.Contains(stdout, "[pss.privileged]") {
		t.Errorf("fixed: exit %d, %s%s", code, stdout, stderr)
	}
}

// kubegate init writes a configuration the loader accepts and pipelines
// that actionlint (when installed) and the GitLab job's shape accept, and
// refuses to overwrite anything.
func TestInit(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := run(t, dir, nil, "", "init", "--github", "--gitlab")
	if code != ExitOK {
		t.Fatalf("init: exit %d, %s", code, stderr)
	}
	for _, f := range []string{".kubegate.yaml", ".github/workflows/kubegate.yml", ".gitlab/kubegate.gitlab-ci.yml"} {
		if !strings.Contains(stdout, "wrote "+filepath.FromSlash(f)) {
			t.Errorf("init did not say it wrote %s: %s", f, stdout)
		}
	}
	cfg, err := readConfig(workTree{}, filepath.Join(dir, ".kubegate.yaml"), ".kubegate.yaml")
	if err != nil {
		t.Fatalf("the generated configuration does not load: %v", err)
	}
	if cfg.FailOn != "error" || cfg.PSS.Enforce != "baseline:latest" {
		t.Errorf("configuration %+v", cfg)
	}
	// A check with it runs.
	write(t, filepath.Join(dir, "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n")
	if _, stderr, code := run(t, dir, nil, "", "check", "."); code != ExitOK {
		t.Errorf("check with the generated configuration: exit %d, %s", code, stderr)
	}
	if al, err := exec.LookPath("actionlint"); err == nil {
		if out, err := exec.Command(al, filepath.Join(dir, ".github/workflows/kubegate.yml")).CombinedOutput(); err != nil {
			t.Errorf("actionlint: %v\n%s", err, out)
		}
	}
	var job map[string]struct {
		Image  string
		Script []string
	}
	data, _ := os.ReadFile(filepath.Join(dir, ".gitlab/kubegate.gitlab-ci.yml"))
	if err := yaml.Unmarshal(data, &job); err != nil || len(job["kubegate"].Script) != 1 || !strings.HasPrefix(job["kubegate"].Script[0], "kubegate check ") {
		t.Errorf("GitLab job: %v %+v", err, job)
	}
	before, _ := os.ReadFile(filepath.Join(dir, ".kubegate.yaml"))
	if _, stderr, code := run(t, dir, nil, "", "init"); code != ExitError || !strings.Contains(stderr, ".kubegate.yaml exists") {
		t.Errorf("second init: exit %d, %s", code, stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, ".kubegate.yaml")); string(after) != string(before) {
		t.Error("init overwrote .kubegate.yaml")
	}
}

// Completion for each shell names every command and every flag of check;
// the bash script completes as bash runs it.
func TestCompletion(t *testing.T) {
	checkFlags := flagsOf("check")
	if len(checkFlags) < 30 {
		t.Fatalf("read %d flags of check", len(checkFlags))
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		stdout, stderr, code := run(t, "", nil, "", "completion", shell)
		if code != ExitOK {
			t.Fatalf("%s: exit %d, %s", shell, code, stderr)
		}
		for _, c := range commands {
			if !strings.Contains(stdout, c.name) {
				t.Errorf("%s: no command %s", shell, c.name)
			}
		}
		for _, f := range checkFlags {
			if !strings.Contains(stdout, f.long) {
				t.Errorf("%s: no flag --%s", shell, f.long)
			}
		}
		if shell == "bash" {
			script := stdout + `
COMP_WORDS=(kubegate check --kube-v); COMP_CWORD=2; _kubegate; echo "${COMPREPLY[*]}"
COMP_WORDS=(kubegate ex); COMP_CWORD=1; _kubegate; echo "${COMPREPLY[*]}"
`
			out, err := exec.Command("bash", "-c", script).CombinedOutput()
			if err != nil || string(out) != "--kube-version\nexplain\n" {
				t.Errorf("bash completion: %v %q", err, out)
			}
		}
		if path, err := exec.LookPath(shell); err == nil && shell != "bash" {
			f := filepath.Join(t.TempDir(), "c")
			write(t, f, stdout)
			if out, err := exec.Command(path, "-n", f).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v %s", shell, err, out)
			}
		}
	}
	if _, _, code := run(t, "", nil, "", "completion", "tcsh"); code != ExitError {
		t.Error("completion tcsh accepted")
	}
}

// kubegate explain: the rule's why, fix, docs and examples from its tests.
func TestExplain(t *testing.T) {
	stdout, stderr, code := run(t, "", nil, "", "explain", "hpa.min-exceeds-max")
	if code != ExitOK {
		t.Fatalf("exit %d, %s", code, stderr)
	}
	for _, want := range []string{"hpa.min-exceeds-max (error): HPA minReplicas above maxReplicas", "Why\n", "Fix\n", "fires on:\n    apiVersion: autoscaling/v2\n    kind: HorizontalPodAutoscaler", "minReplicas: 5", "passes on:\n    apiVersion: autoscaling/v2", "rego/hpa/min_exceeds_max_test.rego"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("missing %q in\n%s", want, stdout)
		}
	}
	if _, stderr, code := run(t, "", nil, "", "explain", "privileged"); code != ExitError || !strings.Contains(stderr, "did you mean pss.privileged?") {
		t.Errorf("explain privileged: exit %d, %s", code, stderr)
	}
}
