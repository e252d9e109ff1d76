package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/internal/gitref/gitreftest"
)

const blDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      containers:
        - name: web
          image: registry.example.com/web:1.0@sha256:0000000000000000000000000000000000000000000000000000000000000001
          resources:
            requests: {cpu: 100m, memory: 64Mi}
            limits: {cpu: 200m, memory: 64Mi}
`

const blSecret = `apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: hunter2-base
`

// The base commit: a shared base with a Deployment (hostNetwork: an
// existing error) and a Secret, two overlays, and a plain ConfigMap.
var blBase = map[string]string{
	"base/kustomization.yaml":          "resources: [deployment.yaml, secret.yaml]\n",
	"base/deployment.yaml":             blDeployment,
	"base/secret.yaml":                 blSecret,
	"overlays/dev/kustomization.yaml":  "namespace: dev\nresources: [../../base]\n",
	"overlays/prod/kustomization.yaml": "namespace: prod\nresources: [../../base]\npatches:\n  - path: replicas.yaml\n",
	"overlays/prod/replicas.yaml":      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 4\n",
	"plain/config.yaml":                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: prod\ndata:\n  level: info\n",
	"plain/old.yaml":                   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\n  namespace: prod\n",
}

func blCheck(t *testing.T, dir string, args ...string) (finding.Report, string, string, int) {
	t.Helper()
	stdout, stderr, code := runAt(t, dir, "2026-12-03", append([]string{"check", "-o", "json"}, args...)...)
	if code == ExitError {
		t.Fatalf("exit 2: %s\n%s", stderr, stdout)
	}
	return decodeReport(t, stdout), stdout, stderr, code
}

func TestBaseline(t *testing.T) {
	dir := gitreftest.Repo(t, blBase, map[string]string{
		// Lines shift above the existing hostNetwork error.
		"base/deployment.yaml": "# the web tier\n# owned by the shop team\n" + blDeployment,
		// A new error in the prod overlay's patch: privileged.
		"overlays/prod/replicas.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 4\n  template:\n    spec:\n      containers:\n        - name: web\n          securityContext: {privileged: true}\n",
		// The Secret's value changes; it must never be printed.
		"base/secret.yaml": strings.Replace(blSecret, "hunter2-base", "hunter2-head", 1),
		// A ConfigMap modified, one removed, one added.
		"plain/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: prod\ndata:\n  level: debug\n  format: json\n",
		"plain/old.yaml":    "",
		"plain/new.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fresh\n  namespace: prod\n",
	})
	r, stdout, stderr, code := blCheck(t, dir, "--baseline", "HEAD~1", "overlays/dev", "overlays/prod", "plain")

	if r.Summary.BaselineCounts == nil {
		t.Fatalf("no baseline counts in the summary:\n%s", stdout)
	}
	byState := map[string][]string{}
	for _, f := range r.Findings {
		byState[f.Baseline] = append(byState[f.Baseline], f.Rule+" "+f.Resource.Namespace+" "+f.Location.String())
	}
	// hostNetwork in both overlays existed; its line moved by two.
	for _, ns := range []string{"dev", "prod"} {
		want := "pss.hostNamespaces " + ns + " base/deployment.yaml:13:7"
		if !slices.Contains(byState[finding.BaselineExisting], want) {
			t.Errorf("want existing %q; existing: %v", want, byState[finding.BaselineExisting])
		}
	}
	if !slices.Contains(byState[finding.BaselineNew], "pss.privileged prod overlays/prod/replicas.yaml:11:29") {
		t.Errorf("the privileged container in the prod patch is not new: %v", byState[finding.BaselineNew])
	}
	for _, s := range byState[finding.BaselineNew] {
		if !strings.Contains(s, " prod ") {
			t.Errorf("new finding outside the prod overlay: %s", s)
		}
	}
	if len(byState[""]) > 0 {
		t.Errorf("findings without a baseline state: %v", byState[""])
	}
	c := r.Summary.BaselineCounts
	if c.New != len(byState[finding.BaselineNew]) || c.Existing != len(byState[finding.BaselineExisting]) || c.Fixed != len(r.Fixed) {
		t.Errorf("summary %+v", *c)
	}
	if code != ExitFindings {
		t.Errorf("exit %d, want 1: a new error", code)
	}

	changes := map[string]string{}
	for _, ch := range r.Changes {
		changes[ch.Change+" "+ch.Resource.Kind+" "+ch.Resource.Namespace+"/"+ch.Resource.Name] = strings.Join(ch.Fields, ",") + " @" + ch.Unit
	}
	want := map[string]string{
		"modified Deployment prod/web":     "spec.template.spec.containers[0].securityContext @overlays/prod",
		"modified Secret dev/db":           "stringData.password @overlays/dev",
		"modified Secret prod/db":          "stringData.password @overlays/prod",
		"modified ConfigMap prod/settings": "data.format,data.level @plain/config.yaml",
		"removed ConfigMap prod/old":       " @plain/old.yaml",
		"added ConfigMap prod/fresh":       " @plain/new.yaml",
	}
	if len(changes) != len(want) {
		t.Errorf("changes %v, want %v", changes, want)
	}
	for k, v := range want {
		if changes[k] != v {
			t.Errorf("change %s: %q, want %q (all: %v)", k, changes[k], v, changes)
		}
	}
	for _, out := range []string{stdout, stderr} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("a Secret's value is in the output:\n%s", out)
		}
	}

	// --fail-on-existing judges all; a baseline at HEAD has nothing new.
	if _, _, _, code := blCheck(t, dir, "--baseline", "HEAD~1", "--fail-on-existing", "overlays/dev"); code != ExitFindings {
		t.Errorf("--fail-on-existing on the dev overlay's existing error: exit %d, want 1", code)
	}
	if _, _, _, code := blCheck(t, dir, "--baseline", "HEAD~1", "overlays/dev"); code != ExitOK {
		t.Errorf("the dev overlay has existing errors only: exit %d, want 0", code)
	}
	same, _, _, code := blCheck(t, dir, "--baseline", "HEAD", "overlays/dev", "overlays/prod", "plain")
	if same.Summary.New != 0 || len(same.Fixed) != 0 || len(same.Changes) != 0 || code != ExitOK {
		t.Errorf("baseline at HEAD: %+v, %d fixed, changes %v, exit %d", *same.Summary.BaselineCounts, len(same.Fixed), same.Changes, code)
	}
}

// A fix is listed as fixed, with where it was; a change to the shared base
// shows in every overlay that uses it.
func TestBaselineFixedAndSharedBase(t *testing.T) {
	fixed := strings.Replace(blDeployment, "      hostNetwork: true\n", "", 1)
	fixed = strings.Replace(fixed, "replicas: 2", "replicas: 3", 1)
	dir := gitreftest.Repo(t, blBase, map[string]string{"base/deployment.yaml": fixed})
	r, _, _, code := blCheck(t, dir, "--baseline", "HEAD~1", "overlays/dev", "overlays/prod")
	var gone []string
	for _, f := range r.Fixed {
		if f.Baseline != "" {
			t.Errorf("a fixed finding carries baseline %q", f.Baseline)
		}
		gone = append(gone, f.Rule+" "+f.Resource.Namespace+" "+f.Location.String())
	}
	slices.Sort(gone)
	if want := []string{"pss.hostNamespaces dev base/deployment.yaml:11:7", "pss.hostNamespaces prod base/deployment.yaml:11:7"}; !slices.Equal(gone, want) {
		t.Errorf("fixed %v, want %v", gone, want)
	}
	if r.Summary.New != 0 || code != ExitOK {
		t.Errorf("new %d, exit %d", r.Summary.New, code)
	}
	var modified []string
	for _, ch := range r.Changes {
		modified = append(modified, ch.Change+" "+ch.Resource.Namespace+" "+strings.Join(ch.Fields, ","))
	}
	slices.Sort(modified)
	// prod's replicas come from its patch: only hostNetwork changed there.
	if want := []string{"modified dev spec.replicas,spec.template.spec.hostNetwork", "modified prod spec.template.spec.hostNetwork"}; !slices.Equal(modified, want) {
		t.Errorf("changes %v, want %v", modified, want)
	}
}

// A REF the clone does not have is exit 2 naming it, before any work.
func TestBaselineUnknownRef(t *testing.T) {
	dir := gitreftest.Repo(t, blBase)
	_, stderr, code := runAt(t, dir, "2026-12-03", "check", "--baseline", "origin/main", "plain")
	if code != ExitError || !strings.Contains(stderr, "--baseline origin/main: no such commit, branch or tag in this clone") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	_, stderr, code = runAt(t, dir, "2026-12-03", "check", "--baseline", "HEAD", "-")
	if code != ExitError || !strings.Contains(stderr, "standard input has no baseline") {
		t.Errorf("stdin: exit %d: %s", code, stderr)
	}
}

// Every format says which findings are new; GitHub annotates only those,
// and its job summary leads with them, then what is fixed, the existing
// ones collapsed, and the rendered changes by kustomization. A Secret's
// values appear nowhere.
func TestBaselineReports(t *testing.T) {
	dir := gitreftest.Repo(t, blBase, map[string]string{
		"base/deployment.yaml":        strings.Replace(blDeployment, "replicas: 2", "replicas: 3", 1),
		"overlays/prod/replicas.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 4\n  template:\n    spec:\n      containers:\n        - name: web\n          securityContext: {privileged: true}\n",
		"base/secret.yaml":            strings.Replace(blSecret, "hunter2-base", "hunter2-head", 1),
		"plain/config.yaml":           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: prod\ndata:\n  level: debug\n",
	})
	summary := filepath.Join(t.TempDir(), "summary.md")
	outputs := filepath.Join(t.TempDir(), "outputs")
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary, "GITHUB_OUTPUT": outputs}
	args := []string{"check", "--baseline", "HEAD~1", "-o", "github", "-o", "sarif=out/r.sarif", "-o", "gitlab=out/cq.json", "-o", "junit=out/j.xml", "-o", "text=out/r.txt", "--show-changes", "overlays/dev", "overlays/prod", "plain"}
	stdout, stderr, code := run(t, dir, env, "", args...)
	if code != ExitFindings {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	all := map[string]string{"annotations": stdout, "stderr": stderr, "summary": read(summary), "outputs": read(outputs)}
	for _, f := range []string{"r.sarif", "cq.json", "j.xml", "r.txt"} {
		all[f] = read(filepath.Join(dir, "out", f))
	}
	for name, s := range all {
		if strings.Contains(s, "hunter2") {
			t.Errorf("%s shows a Secret's value:\n%s", name, s)
		}
	}

	var annotated []string
	for _, line := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(line, "::error") || strings.HasPrefix(line, "::warning") || strings.HasPrefix(line, "::notice") {
			annotated = append(annotated, line)
			if strings.Contains(line, "namespace dev") || strings.Contains(line, "Deployment dev/web") {
				t.Errorf("annotation on the dev overlay, which the change leaves as it was: %s", line)
			}
		}
	}
	if len(annotated) == 0 || !strings.Contains(strings.Join(annotated, "\n"), "pss.privileged") {
		t.Errorf("annotations %v: want the new privileged container", annotated)
	}
	if !strings.Contains(stdout, "there before this change (not annotated)") || !strings.Contains(stdout, "pss.hostNamespaces") {
		t.Errorf("the existing findings are not in the log:\n%s", stdout)
	}

	sum := all["summary"]
	order := []string{"## kubegate: ", "### New error (1)", "<details><summary>Existing findings", "### Rendered changes", "#### overlays/dev", "#### overlays/prod", "#### plain/config.yaml"}
	last := -1
	for _, s := range order {
		i := strings.Index(sum, s)
		if i <= last {
			t.Errorf("job summary: %q missing or out of order:\n%s", s, sum)
		}
		last = i
	}
	for _, row := range []string{
		"| Deployment dev/web | modified | `spec.replicas` | `2` | `3` |",
		"| Secret prod/db | modified | `stringData.password` | (a Secret's value: hidden) | (changed) |",
		"| ConfigMap prod/settings | modified | `data.level` | `info` | `debug` |",
	} {
		if !strings.Contains(sum, row) {
			t.Errorf("job summary lacks %q:\n%s", row, sum)
		}
	}
	for _, want := range []string{"new<<%s\n1\n", "existing<<%s\n11\n", "fixed<<%s\n0\n", "changes<<%s\n5\n"} {
		if want = fmt.Sprintf(want, "_GitHubActionsFileCommandDelimeter_"); !strings.Contains(all["outputs"], want) {
			t.Errorf("step outputs lack %s:\n%s", want, all["outputs"])
		}
	}

	if s := all["r.sarif"]; !strings.Contains(s, `"baselineState": "new"`) || !strings.Contains(s, `"baselineState": "unchanged"`) {
		t.Errorf("SARIF without baseline states:\n%.2000s", s)
	}
	if s := all["cq.json"]; !strings.Contains(s, `"baseline":"new"`) || !strings.Contains(s, `"baseline":"existing"`) {
		t.Errorf("Code Quality without baseline states:\n%.2000s", s)
	}
	if s := all["j.xml"]; !strings.Contains(s, "error (new)") || !strings.Contains(s, "(existing)") {
		t.Errorf("JUnit without baseline states:\n%.2000s", s)
	}
	txt := all["r.txt"]
	for _, want := range []string{"(existing) [pss.hostNamespaces]", "overlays/prod: modified Deployment prod/web", "  stringData.password: changed (a Secret's value, not shown)", "  data.level: info -> debug", "against the baseline: "} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q:\n%s", want, txt)
		}
	}
}

// In a pull request the action's baseline defaults to the event's base
// commit when the clone holds it; otherwise every finding is judged and the
// log says why. An explicit input wins.
func TestActionBaselineDefault(t *testing.T) {
	dir := gitreftest.Repo(t, blBase, map[string]string{"plain/new.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fresh\n"})
	r, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := r.Head()
	c, _ := r.CommitObject(head.Hash())
	base := c.ParentHashes[0].String()
	event := func(sha string) string {
		p := filepath.Join(t.TempDir(), "event.json")
		if err := os.WriteFile(p, []byte(`{"pull_request":{"base":{"sha":"`+sha+`"}}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, eventName, sha, input string
		want, note                  string
	}{
		{"pull request", "pull_request", base, "", "--baseline=" + base, ""},
		{"base commit not fetched", "pull_request", "0123456789abcdef0123456789abcdef01234567", "", "", "is not in the clone, so every finding is judged; check out with fetch-depth: 0"},
		{"push", "push", base, "", "", ""},
		{"explicit input", "pull_request", base, "HEAD", "--baseline=HEAD", ""},
	} {
		var stderr strings.Builder
		env := Env{WorkDir: dir, Stderr: &stderr, Getenv: func(k string) string {
			return map[string]string{"GITHUB_EVENT_NAME": tc.eventName, "GITHUB_EVENT_PATH": event(tc.sha), "INPUT_BASELINE": tc.input}[k]
		}}
		args, err := actionArgs(env)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := ""
		for _, a := range args {
			if strings.HasPrefix(a, "--baseline") {
				got = a
			}
		}
		if got != tc.want || (tc.note == "") != (stderr.Len() == 0) || !strings.Contains(stderr.String(), tc.note) {
			t.Errorf("%s: %q, log %q; want %q, log with %q", tc.name, got, stderr.String(), tc.want, tc.note)
		}
	}
}

// Baselined shards merge into the report of one baselined run: the same
// findings with their states, the same fixed findings and changes.
func TestBaselineShardsMerge(t *testing.T) {
	fixed := strings.Replace(blDeployment, "      hostNetwork: true\n", "", 1)
	dir := gitreftest.Repo(t, blBase, map[string]string{
		"base/deployment.yaml":        fixed,
		"overlays/prod/replicas.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 4\n  template:\n    spec:\n      containers:\n        - name: web\n          securityContext: {privileged: true}\n",
		"plain/config.yaml":           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: prod\ndata:\n  level: debug\n",
	})
	paths := []string{"overlays/dev", "overlays/prod", "plain"}
	whole, _, _, wantCode := blCheck(t, dir, append([]string{"--baseline", "HEAD~1"}, paths...)...)
	var files []string
	for i := 1; i <= 2; i++ {
		f := filepath.Join(dir, fmt.Sprintf("shard-%d.json", i))
		if _, stderr, code := runAt(t, dir, "2026-12-03", append([]string{"check", "--baseline", "HEAD~1", "--shard", fmt.Sprintf("%d/2", i), "-o", "json=" + f}, paths...)...); code == ExitError {
			t.Fatalf("shard %d: %s", i, stderr)
		}
		files = append(files, f)
	}
	stdout, stderr, code := runAt(t, dir, "2026-12-03", append([]string{"merge", "-o", "json"}, files...)...)
	if code != wantCode {
		t.Errorf("merge: exit %d, want %d as the whole run: %s", code, wantCode, stderr)
	}
	merged := decodeReport(t, stdout)
	if merged.Summary.BaselineCounts == nil || *merged.Summary.BaselineCounts != *whole.Summary.BaselineCounts {
		t.Errorf("merged counts %+v, whole %+v", merged.Summary.BaselineCounts, whole.Summary.BaselineCounts)
	}
	if len(merged.Fixed) != len(whole.Fixed) || len(merged.Changes) != len(whole.Changes) || len(merged.Fixed) == 0 || len(merged.Changes) == 0 {
		t.Errorf("merged: %d fixed, %d changes; whole: %d, %d", len(merged.Fixed), len(merged.Changes), len(whole.Fixed), len(whole.Changes))
	}
}
