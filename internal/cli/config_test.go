package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeTree writes files (path -> content) under a new repository root.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, ".git"), 0o755)
	for name, src := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const hostNetworkApp = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: exporter
spec:
  selector: {matchLabels: {app: exporter}}
  template:
    spec:
      hostNetwork: true
      containers:
        - name: exporter
          image: prom/node-exporter:v1.8.0
          resources:
            requests: {cpu: 10m, memory: 32Mi}
            limits: {cpu: 20m, memory: 32Mi}
`

// runAt runs kubegate in dir on a fixed day.
func runAt(t *testing.T, dir, day string, args ...string) (string, string, int) {
	t.Helper()
	now, err := time.Parse(time.DateOnly, day)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	code := Main(context.Background(), offline(args), Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }, WorkDir: dir, Now: func() time.Time { return now }})
	return stdout.String(), stderr.String(), code
}

func TestConfigErrorsNameFileAndLine(t *testing.T) {
	for name, tc := range map[string]struct{ cfg, want string }{
		"unknown top-level key": {"pss:\n  enforce: baseline\nfailon: warning\n", ".kubegate.yaml:3: unknown key \"failon\" at the top level (want one of pss, failOn,"},
		"unknown nested key":    {"pss:\n  enforse: baseline\n", ".kubegate.yaml:2: unknown key \"enforse\" in pss"},
		"unknown rule key":      {"rules:\n  pss.privileged:\n    sevrity: warning\n", ".kubegate.yaml:3: unknown key \"sevrity\" in rules.*"},
		"bad severity":          {"rules:\n  pss.privileged:\n    severity: fatal\n", ".kubegate.yaml:2: rules.pss.privileged.severity: \"fatal\" is not error, warning or notice"},
		"unknown rule":          {"rules:\n  pss.priviledged: {disabled: true}\n", ".kubegate.yaml:2: rules: \"pss.priviledged\" is not a rule"},
		"no reason":             {"exceptions:\n  - rule: pss.privileged\n    name: web\n", ".kubegate.yaml:2: exception for pss.privileged has no reason"},
		"bad date":              {"exceptions:\n  - rule: pss.privileged\n    reason: r\n    expires: 31/01/2027\n", ".kubegate.yaml:2: exception for pss.privileged: expires \"31/01/2027\" is not a date YYYY-MM-DD"},
		"exception rule":        {"exceptions:\n  - rule: psss.*\n    reason: r\n", ".kubegate.yaml:2: exception: \"psss.*\" matches no rule"},
		"wrong type":            {"failOn:\n  - error\n", ".kubegate.yaml:2: cannot unmarshal"},
		"images":                {"images:\n  allow: [ghcr.io/acme/*]\n", ".kubegate.yaml:2: unknown key \"allow\" in images"},
		"syntax":                {"pss: [\n", ".kubegate.yaml: yaml: line 1"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{".kubegate.yaml": tc.cfg, "app.yaml": hostNetworkApp})
			_, stderr, code := runAt(t, dir, "2026-11-27", "check", "app.yaml")
			if code != ExitError || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tc.want)
			}
		})
	}
}

func TestConfigSettingsAndFlagsOverride(t *testing.T) {
	dir := writeTree(t, map[string]string{
		".kubegate.yaml": "pss:\n  enforce: restricted\nfailOn: warning\nrules:\n  pss.hostNamespaces: {severity: notice}\n  pss.runAsNonRoot: {disabled: true}\noutputs: [json]\n",
		"app.yaml":       hostNetworkApp,
	})
	stdout, stderr, code := runAt(t, dir, "2026-11-27", "check", "app.yaml")
	if code != ExitFindings {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	r := decodeReport(t, stdout) // outputs: [json]
	sev := map[string]string{}
	for _, f := range r.Findings {
		sev[f.Rule] = f.Severity.String()
	}
	if sev["pss.hostNamespaces"] != "notice" || sev["pss.seccompProfile_restricted"] != "error" || sev["pss.runAsNonRoot"] != "" {
		t.Errorf("severities %v: want hostNamespaces overridden to notice, restricted checks as errors (enforce: restricted), runAsNonRoot disabled", sev)
	}
	// Flags win: --pss-enforce baseline, --fail-on never, -o text.
	stdout, _, code = runAt(t, dir, "2026-11-27", "check", "--pss-enforce", "baseline", "--fail-on", "never", "-o", "text", "app.yaml")
	if code != ExitOK || !strings.Contains(stdout, "warning: Deployment exporter: container \"exporter\" has no securityContext.seccompProfile") {
		t.Errorf("exit %d; flags did not override the file:\n%s", code, stdout)
	}
	// --config names another file.
	os.WriteFile(filepath.Join(dir, "strict.yaml"), []byte("failOn: notice\nrules:\n  images.not-checked: {disabled: true}\n  images.not-pinned: {disabled: true}\n"), 0o644)
	_, _, code = runAt(t, dir, "2026-11-27", "check", "--config", "strict.yaml", "--pss-warn", "privileged", "--pss-enforce", "privileged", "app.yaml")
	if code != ExitOK {
		t.Errorf("--config strict.yaml: exit %d, want 0 (no findings left)", code)
	}
	if _, stderr, code := runAt(t, dir, "2026-11-27", "check", "--config", "missing.yaml", "app.yaml"); code != ExitError || !strings.Contains(stderr, "--config missing.yaml") {
		t.Errorf("missing --config: exit %d, %q", code, stderr)
	}
}

// TestDisabledRulesAreNotEvaluated: rules: disabled skips the rule's
// evaluation, not only its findings: a policy that fails when evaluated
// (a conflict) is no input error once disabled.
func TestDisabledRulesAreNotEvaluated(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"policy/main.rego": "package main\n\nx := 1 if true\n\nx := 2 if true\n\ndeny contains \"never\" if x\n",
		"cm.yaml":          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n",
		"off.yaml":         "rules:\n  main.deny: {disabled: true}\n",
	})
	if stdout, _, code := runAt(t, dir, "2026-11-27", "check", "--policy", "policy", "cm.yaml"); code != ExitError || !strings.Contains(stdout, "eval_conflict_error") {
		t.Fatalf("enabled: exit %d, output %q; want exit 2 and the conflict", code, stdout)
	}
	if _, stderr, code := runAt(t, dir, "2026-11-27", "check", "--config", "off.yaml", "--policy", "policy", "cm.yaml"); code != ExitOK {
		t.Errorf("disabled: exit %d, stderr %q; want 0", code, stderr)
	}
}

func TestExceptions(t *testing.T) {
	files := map[string]string{
		".kubegate.yaml": `exceptions:
  - rule: pss.hostNamespaces
    kind: Deployment
    name: export*
    reason: the exporter reads the node's network statistics
    expires: 2027-03-31
  - rule: pss.privileged
    reason: migration in progress
    expires: 2026-10-01
  - rule: hpa.*
    namespace: nowhere
    reason: left over
`,
		"base/kustomization.yaml": "resources: [app.yaml]\n",
		"base/app.yaml":           hostNetworkApp,
		"overlay/kustomization.yaml": `namespace: monitoring
resources: [../base]
patches:
  - path: waive.yaml
`,
		"overlay/waive.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: exporter
  annotations:
    kubegate.dev/ignore: "pss.seccompProfile_restricted, pss.runAsNonRoot: the distroless image runs as nonroot and the runtime default applies"
`,
	}
	dir := writeTree(t, files)
	stdout, stderr, code := runAt(t, dir, "2026-11-27", "check", "-o", "json", "overlay")
	if code != ExitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
	r := decodeReport(t, stdout)
	by := map[string]string{}
	for _, s := range r.Suppressed {
		by[s.Rule] = s.By.String() + " " + s.Reason
	}
	want := map[string]string{
		"pss.hostNamespaces":            ".kubegate.yaml:2:5 the exporter reads the node's network statistics",
		"pss.seccompProfile_restricted": "overlay/waive.yaml:6:5 the distroless image runs as nonroot and the runtime default applies",
		"pss.runAsNonRoot":              "overlay/waive.yaml:6:5 the distroless image runs as nonroot and the runtime default applies",
	}
	for k, v := range want {
		if by[k] != v {
			t.Errorf("suppressed %s by %q, want %q", k, by[k], v)
		}
	}
	if r.Summary.Suppressed != len(r.Suppressed) || len(r.Suppressed) < 3 {
		t.Errorf("summary.suppressed %d, %d suppressed", r.Summary.Suppressed, len(r.Suppressed))
	}
	got := map[string]string{}
	for _, f := range r.Findings {
		if strings.HasPrefix(f.Rule, "kubegate.") {
			got[f.Rule] = f.Location.String()
		}
	}
	if got["kubegate.exception-expired"] != ".kubegate.yaml:7:5" || got["kubegate.exception-unused"] != ".kubegate.yaml:10:5" {
		t.Errorf("config findings %v: want the expired exception (line 7) and the unused one (line 10)", got)
	}

	// After its expiry the first exception no longer applies.
	_, _, code = runAt(t, dir, "2027-04-01", "check", "-o", "json", "overlay")
	if code != ExitFindings {
		t.Errorf("after 2027-03-31: exit %d, want 1 (hostNetwork is an error again)", code)
	}
	// On the expiry day it still does.
	if _, _, code = runAt(t, dir, "2027-03-31", "check", "-o", "json", "overlay"); code != ExitOK {
		t.Errorf("on 2027-03-31: exit %d, want 0", code)
	}
}

func TestIgnoreAnnotationWithoutReason(t *testing.T) {
	app := strings.Replace(hostNetworkApp, "  name: exporter\n", "  name: exporter\n  annotations:\n    kubegate.dev/ignore: pss.hostNamespaces\n", 1)
	dir := writeTree(t, map[string]string{"app.yaml": app})
	stdout, _, code := runAt(t, dir, "2026-11-27", "check", "-o", "text", "app.yaml")
	if code != ExitError || !strings.Contains(stdout, "app.yaml:6: input error: Deployment exporter: annotation kubegate.dev/ignore: \"pss.hostNamespaces\" has no reason") {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
	if !strings.Contains(stdout, "[pss.hostNamespaces]") {
		t.Error("a malformed waiver must waive nothing")
	}
}

func TestConftestPoliciesAndData(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"app.yaml": hostNetworkApp,
		"policy/v0.rego": `package main

deny[msg] {
	input.kind == "Deployment"
	not input.metadata.labels[data.org.team_label]
	msg := sprintf("%s: set the %s label", [input.metadata.name, data.org.team_label])
}
`,
		"policy/v1.rego": "package main\n\nimport rego.v1\n\nwarn contains {\"msg\": \"image from Docker Hub\", \"path\": [\"spec\", \"template\", \"spec\", \"containers\", 0, \"image\"]} if {\n\tnot startswith(input.spec.template.spec.containers[0].image, \"ghcr.io/\")\n}\n",
		"org.yaml":       "org:\n  team_label: team\n",
	})
	stdout, stderr, code := runAt(t, dir, "2026-11-27", "check", "--policy", "policy", "--data", "org.yaml", "--pss-enforce", "privileged", "--pss-warn", "privileged", "-o", "text", "app.yaml")
	if code != ExitFindings {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
	for _, want := range []string{
		"app.yaml:1:1: error: Deployment exporter: exporter: set the team label [main.deny]",
		"app.yaml:12:11: warning: Deployment exporter: image from Docker Hub [main.warn]",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("missing %q in\n%s", want, stdout)
		}
	}
	stdout, _, _ = runAt(t, dir, "2026-11-27", "rules", "--policy", "policy")
	if !strings.Contains(stdout, "main.deny") {
		t.Errorf("kubegate rules does not list the user's rules:\n%s", stdout)
	}
}

func TestKubegateTest(t *testing.T) {
	policy := "package main\n\ndeny[msg] {\n\tinput.kind == \"Pod\"\n\tnot input.metadata.labels.team\n\tmsg := \"no team\"\n}\n"
	passing := "package main\n\nimport rego.v1\n\ntest_denies_unlabelled if {\n\tdeny[\"no team\"] with input as {\"kind\": \"Pod\", \"metadata\": {}}\n}\n\ntest_allows_labelled if {\n\tcount(deny) == 0 with input as {\"kind\": \"Pod\", \"metadata\": {\"labels\": {\"team\": data.org.team}}}\n}\n"
	failing := "package main\n\ntest_wrong {\n\tcount(deny) == 0 with input as {\"kind\": \"Pod\", \"metadata\": {}}\n}\n"
	dir := writeTree(t, map[string]string{
		"policy/team.rego":      policy,
		"policy/team_test.rego": passing,
		"org.json":              `{"org": {"team": "a"}}`,
	})
	stdout, stderr, code := runAt(t, dir, "2026-11-27", "test", "--data", "org.json", "--coverage")
	if code != ExitOK || !strings.Contains(stdout, "2/2 tests passed; coverage 100.0%") {
		t.Errorf("passing suite: exit %d\n%s%s", code, stdout, stderr)
	}
	os.WriteFile(filepath.Join(dir, "policy", "wrong_test.rego"), []byte(failing), 0o644) // v0 syntax
	stdout, _, code = runAt(t, dir, "2026-11-27", "test", "--data", "org.json")
	if code != ExitFindings || !strings.Contains(stdout, "FAIL  policy/wrong_test.rego: main.test_wrong") || !strings.Contains(stdout, "2/3 tests passed") {
		t.Errorf("failing suite: exit %d\n%s", code, stdout)
	}
	os.WriteFile(filepath.Join(dir, "policy", "broken.rego"), []byte("package main\n\ndeny contains if {\n"), 0o644)
	_, stderr, code = runAt(t, dir, "2026-11-27", "test")
	if code != ExitError || !strings.Contains(stderr, "policy/broken.rego:") {
		t.Errorf("broken file: exit %d, %q", code, stderr)
	}
}

// TestTrustedPolicies: with --trusted-policies REF the configuration, the
// policies and the data come from the ref, so a change to them in the
// working tree (a pull request weakening its own gate) has no effect.
func TestTrustedPolicies(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := t.TempDir()
	files := map[string]string{
		".kubegate.yaml":   "policies: [policy]\ndata: [policy/org.yaml]\npss:\n  enforce: privileged\n  warn: privileged\n",
		"policy/team.rego": "package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tnot input.metadata.labels[data.org.label]\n\tmsg := sprintf(\"set the %s label\", [data.org.label])\n}\n",
		"policy/org.yaml":  "org:\n  label: team\n",
		"app.yaml":         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n",
	}
	for name, src := range files {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644)
	}
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.email=ci@example.com", "-c", "user.name=ci", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "base")
	// The pull request weakens the gate: the policy passes everything, the
	// configuration no longer loads it and waives rules, the data names
	// another label.
	os.WriteFile(filepath.Join(dir, "policy/team.rego"), []byte("package main\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "policy/org.yaml"), []byte("org:\n  label: nothing\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".kubegate.yaml"), []byte("pss:\n  enforce: privileged\n  warn: privileged\nexceptions:\n  - rule: pss.*\n    reason: trust me\n"), 0o644)

	stdout, stderr, code := runAt(t, dir, "2026-11-27", "check", "-o", "text", "app.yaml")
	if code != ExitOK {
		t.Fatalf("from the working tree: exit %d, want 0 (the weakened gate passes): %s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runAt(t, dir, "2026-11-27", "check", "--trusted-policies", "main", "-o", "text", "app.yaml")
	if code != ExitFindings || !strings.Contains(stdout, "app.yaml:1:1: error: ConfigMap cfg: set the team label [main.deny]") {
		t.Errorf("from main: exit %d, want the base branch's policy to fail the change:\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code := runAt(t, dir, "2026-11-27", "check", "--trusted-policies", "no-such-branch", "app.yaml"); code != ExitError || !strings.Contains(stderr, "no such commit, branch or tag") {
		t.Errorf("unknown ref: exit %d, %q", code, stderr)
	}
}

// The images: section: an allow-list, the user's compromised packages and
// the verification key, with paths relative to the file.
func TestConfigImages(t *testing.T) {
	dir := writeTree(t, map[string]string{
		".kubegate.yaml": "images:\n  allowedRegistries: [ghcr.io/acme]\n  compromisedPackages:\n    - {name: busybox, versions: [\"1.35.0\"], advisory: \"a test advisory\"}\n  verify:\n    keys: [keys/cosign.pub]\n    ignoreTlog: true\n",
		"app.yaml":       "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: shell\n      image: registry.example.com/tools/toolbox:latest\n",
	})
	root, _ := filepath.Abs("../..")
	os.MkdirAll(filepath.Join(dir, "keys"), 0o755)
	pub, _ := os.ReadFile(filepath.Join(root, "fixtures/images/cosign.pub"))
	os.WriteFile(filepath.Join(dir, "keys/cosign.pub"), pub, 0o644)
	stdout, stderr, code := runAt(t, dir, "2026-11-27", "check", "--image-layout", filepath.Join(root, "fixtures/images"), "--cache-dir", t.TempDir(), "-o", "json", "app.yaml")
	if code != ExitFindings {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	msgs := map[string]string{}
	for _, f := range decodeReport(t, stdout).Findings {
		msgs[f.Rule] = f.Message
	}
	for rule, want := range map[string]string{
		"images.registry-not-allowed": "from registry.example.com, which is not an allowed registry (allowed: ghcr.io/acme)",
		"images.compromised-package":  "holds busybox 1:1.35.0-4+b3: a test advisory",
		"images.unsigned":             "no cosign signature is attached",
	} {
		if !strings.Contains(msgs[rule], want) {
			t.Errorf("%s: %q, want %q", rule, msgs[rule], want)
		}
	}
}

// A third-party chart vendored into the repository is waived by path: its
// findings (on its templates and values) are suppressed, the team's own
// manifests still gated, and the exception rules are listed and tunable.
func TestExceptionByPath(t *testing.T) {
	dir := writeTree(t, map[string]string{
		".kubegate.yaml": `rules:
  kubegate.exception-unused: {severity: warning}
exceptions:
  - rule: pss.*
    path: vendor/charts/**
    reason: upstream exporter chart, reviewed at each upgrade
  - rule: pss.*
    path: vendor/other/**
    reason: nothing is there yet
`,
		"vendor/charts/exporter/Chart.yaml":  "apiVersion: v2\nname: exporter\nversion: 1.0.0\n",
		"vendor/charts/exporter/values.yaml": "hostNetwork: true\n",
		"vendor/charts/exporter/templates/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-exporter
spec:
  selector: {matchLabels: {app: exporter}}
  template:
    spec:
      hostNetwork: {{ .Values.hostNetwork }}
      containers:
        - name: exporter
          image: prom/node-exporter:v1.8.0
          resources:
            requests: {cpu: 10m, memory: 32Mi}
            limits: {cpu: 20m, memory: 32Mi}
`,
		"apps/app.yaml": hostNetworkApp,
	})
	stdout, stderr, code := runAt(t, dir, "2026-12-03", "check", "-o", "json", ".")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1 (apps/app.yaml is not waived): %s\n%s", code, stderr, stdout)
	}
	r := decodeReport(t, stdout)
	waived := map[string]bool{}
	for _, s := range r.Suppressed {
		if s.By.String() != ".kubegate.yaml:4:5" {
			t.Errorf("%s on %s waived by %s", s.Rule, s.Location, s.By)
		}
		waived[s.Location.File] = true
	}
	if !waived["vendor/charts/exporter/values.yaml"] || !waived["vendor/charts/exporter/templates/deployment.yaml"] || len(waived) != 2 {
		t.Errorf("waived findings on %v: want the chart's (hostNetwork on its values line, the restricted level's on its template)", waived)
	}
	var own, app int
	for _, f := range r.Findings {
		switch {
		case strings.HasPrefix(f.Location.File, "vendor/") && strings.HasPrefix(f.Rule, "pss."):
			t.Errorf("finding in the vendored chart not waived: %s %s", f.Rule, f.Location)
		case f.Rule == "kubegate.exception-unused":
			own++
			if f.Severity.String() != "warning" || f.Location.String() != ".kubegate.yaml:7:5" {
				t.Errorf("unused exception: %s at %s, want a warning (rules: setting) at line 7", f.Severity, f.Location)
			}
		case f.Location.File == "apps/app.yaml":
			app++
		}
	}
	if own != 1 || app == 0 {
		t.Errorf("%d unused-exception findings, %d on apps/app.yaml", own, app)
	}

	stdout, _, code = runAt(t, dir, "2026-12-03", "rules")
	if code != ExitOK || !strings.Contains(stdout, "kubegate.exception-expired") || !strings.Contains(stdout, "kubegate.exception-unused") {
		t.Errorf("kubegate rules (exit %d) does not list the exception rules:\n%s", code, stdout)
	}
}
