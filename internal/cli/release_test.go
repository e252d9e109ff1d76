package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// actionRuns reads action.yml's runs: section.
func actionRuns(t *testing.T, b []byte) (image string, env map[string]string) {
	t.Helper()
	var meta struct {
		Runs struct {
			Image string            `yaml:"image"`
			Env   map[string]string `yaml:"env"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	return meta.Runs.Image, meta.Runs.Env
}

// The released form of action.yml, as .github/release/pin-action writes it
// on a release tag, runs the image by digest and tells kubegate
// verify-self which image that is; nothing else in the file changes.
func TestReleasedActionIsPinnedByDigest(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	image, env := actionRuns(t, orig)
	if image != "docker://"+env["KUBEGATE_IMAGE"] {
		t.Fatalf("action.yml runs %q but says KUBEGATE_IMAGE=%q", image, env["KUBEGATE_IMAGE"])
	}
	script, err := filepath.Abs(filepath.Join("..", "..", ".github", "release", "pin-action"))
	if err != nil {
		t.Fatal(err)
	}
	pin := func(ref string) (string, []byte, error) {
		p := filepath.Join(t.TempDir(), "action.yml")
		if err := os.WriteFile(p, orig, 0o644); err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd := exec.Command("bash", script, ref, p)
		cmd.Stderr = &stderr
		err := cmd.Run()
		out, rerr := os.ReadFile(p)
		if rerr != nil {
			t.Fatal(rerr)
		}
		return stderr.String(), out, err
	}
	digest := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	ref := "ghcr.io/kubegate/kubegate@" + digest
	_, pinned, err := pin(ref)
	if err != nil {
		t.Fatal(err)
	}
	image, env = actionRuns(t, pinned)
	if image != "docker://"+ref || env["KUBEGATE_IMAGE"] != ref {
		t.Errorf("released action.yml runs %q with KUBEGATE_IMAGE=%q, want %s by digest", image, env["KUBEGATE_IMAGE"], ref)
	}
	// Only those two lines differ.
	a, b := strings.Split(string(orig), "\n"), strings.Split(string(pinned), "\n")
	if len(a) != len(b) {
		t.Fatalf("pinning changed the number of lines: %d to %d", len(a), len(b))
	}
	changed := 0
	for i := range a {
		if a[i] != b[i] {
			changed++
		}
	}
	if changed != 2 {
		t.Errorf("pinning changed %d lines, want 2", changed)
	}
	// A tag, a short digest or a second reference is refused, and the
	// file is left alone.
	for _, bad := range []string{"ghcr.io/kubegate/kubegate:v1.2.3-shell", "ghcr.io/kubegate/kubegate@sha256:0123", "ghcr.io/kubegate/kubegate@" + digest + " x"} {
		stderr, out, err := pin(bad)
		if err == nil || !strings.Contains(stderr, "is not IMAGE@sha256:") || !bytes.Equal(out, orig) {
			t.Errorf("pin-action %q: %v, %s", bad, err, stderr)
		}
	}
}

// kubegate's own supply chain is pinned: every action its workflows use by
// commit SHA (with the version as a comment, which Dependabot updates
// together), every base image of the Dockerfile by digest.
func TestOwnSupplyChainIsPinned(t *testing.T) {
	root := filepath.Join("..", "..")
	workflows, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.yml"))
	if err != nil || len(workflows) < 3 {
		t.Fatalf("workflows: %v %v", workflows, err)
	}
	uses := regexp.MustCompile(`^\s*(?:-\s+)?uses:\s*(\S+)(.*)$`)
	pinned := regexp.MustCompile(`^[\w.-]+/[\w./-]+@[0-9a-f]{40}$`)
	for _, p := range append(workflows, filepath.Join(root, "internal", "cli", "init.go")) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			m := uses.FindStringSubmatch(line)
			if m == nil || strings.HasPrefix(m[1], "./") || strings.HasPrefix(m[1], "kubegate/kubegate@") {
				continue
			}
			if !pinned.MatchString(m[1]) || !regexp.MustCompile(`^\s+# v\d+\.\d+\.\d+$`).MatchString(m[2]) {
				t.Errorf("%s:%d: %s is not pinned by commit SHA with its version as a comment (# vX.Y.Z)", p, i+1, strings.TrimSpace(line))
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	from := regexp.MustCompile(`(?m)^FROM\s+(?:--platform=\S+\s+)?(\S+)`)
	for _, m := range from.FindAllStringSubmatch(string(b), -1) {
		if m[1] != "scratch" && !regexp.MustCompile(`^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$`).MatchString(m[1]) {
			t.Errorf("Dockerfile: FROM %s is not pinned by digest (IMAGE:TAG@sha256:...)", m[1])
		}
	}
}
