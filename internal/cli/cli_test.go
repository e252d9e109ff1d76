package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kubegate/kubegate/finding"
)

// run executes kubegate in dir (the repository's fixtures by default) and
// returns stdout, stderr and the exit code.
func run(t *testing.T, dir string, env map[string]string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if dir == "" {
		dir = "../.."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	code := Main(context.Background(), offline(args), Env{
		Stdin:   strings.NewReader(stdin),
		Stdout:  &stdout,
		Stderr:  &stderr,
		Getenv:  func(k string) string { return env[k] },
		WorkDir: abs,
	})
	return stdout.String(), stderr.String(), code
}

// offline adds --offline to a check: the tests reach no registry. The image
// path is tested with --image-layout (the fixtures' images) and, against a
// registry on loopback, in package images.
func offline(args []string) []string {
	if len(args) == 0 || args[0] != "check" || slices.Contains(args, "--offline") || slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--image-layout") }) {
		return args
	}
	return append([]string{"check", "--offline"}, args[1:]...)
}

func decodeReport(t *testing.T, s string) finding.Report {
	t.Helper()
	var r finding.Report
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, s)
	}
	return r
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"errors fail the gate", []string{"check", "fixtures"}, ExitFindings},
		{"fail-on never", []string{"check", "--fail-on", "never", "fixtures"}, ExitOK},
		{"clean input", []string{"check", "internal/cli/testdata/clean"}, ExitOK},
		{"warnings fail with fail-on warning", []string{"check", "--fail-on", "warning", "internal/cli/testdata/clean-with-warning"}, ExitFindings},
		{"warnings pass with fail-on error", []string{"check", "internal/cli/testdata/clean-with-warning"}, ExitOK},
		{"missing path", []string{"check", "no/such/dir"}, ExitError},
		{"unknown format", []string{"check", "-o", "yaml", "fixtures"}, ExitError},
		{"sarif", []string{"check", "-o", "sarif", "fixtures"}, ExitFindings},
		{"junit and gitlab", []string{"check", "-o", "junit", "-o", "gitlab", "fixtures"}, ExitFindings},
		{"unknown level", []string{"check", "--pss-enforce", "strict", "fixtures"}, ExitError},
		{"unknown version", []string{"check", "--pss-warn", "restricted:v2.0", "fixtures"}, ExitError},
		{"version beyond the newest", []string{"check", "--pss-warn", "restricted:v1.99", "fixtures"}, ExitError},
		{"unknown severity", []string{"check", "--fail-on", "critical", "fixtures"}, ExitError},
		{"missing key file", []string{"check", "--verify-key", "no-such.pub", "fixtures"}, ExitError},
		{"unknown command", []string{"lint"}, ExitError},
		{"version", []string{"version"}, ExitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, "", nil, "", tc.args...)
			if code != tc.want {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.want, stderr)
			}
			if tc.want == ExitError && len(tc.args) > 1 && !strings.Contains(tc.args[1], "fixtures") && stderr == "" && !strings.HasPrefix(tc.args[1], "no/") {
				t.Errorf("a configuration error must say why on stderr")
			}
		})
	}
}

func TestConfigurationErrorsSayWhy(t *testing.T) {
	for flag, want := range map[string]string{
		"--pss-enforce=strict":        `unknown Pod Security level "strict"`,
		"--pss-warn=restricted:v1.99": `unknown Pod Security version "v1.99"`,
		"-o=yaml":                     `unknown output format "yaml" (want one of github, gitlab, json, junit, sarif, text)`,
		"--verify-identity=.*":        "keyless verification needs both --verify-identity and --verify-issuer",
		"--verify-key=k8s://ns/key":   "export the public key once with `cosign public-key --key k8s://ns/key > cosign.pub`",
		"--insecure-ignore-tlog":      "--insecure-ignore-tlog, --verify-root and --rekor-public-key only apply with --verify-key",
		"--sbom-format=xml":           `--sbom-format "xml": use cyclonedx-json or spdx-json`,
		"--fail-on=critical":          `unknown severity "critical"`,
		"--no-such-flag":              "unknown flag: --no-such-flag",
	} {
		_, stderr, code := run(t, "", nil, "", "check", flag, "fixtures")
		if code != ExitError || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and %q", flag, code, stderr, want)
		}
	}
}

func TestZeroResourcesIsLoud(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "values.yaml"), []byte("replicaCount: 2\n"), 0o644)
	stdout, _, code := run(t, dir, nil, "", "check", "-o", "json", ".")
	r := decodeReport(t, stdout)
	if code != ExitError || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "no Kubernetes resources found") {
		t.Errorf("exit %d, errors %+v", code, r.Errors)
	}
}

func TestJSONReportIsDeterministic(t *testing.T) {
	first, _, _ := run(t, "", nil, "", "check", "-o", "json", "fixtures")
	for range 3 {
		again, _, _ := run(t, "", nil, "", "check", "-o", "json", "fixtures")
		if again != first {
			t.Fatal("two runs over the same input gave different bytes")
		}
	}
	r := decodeReport(t, first)
	if r.Tool.Name != "kubegate" || r.Tool.Version != Version {
		t.Errorf("tool = %+v", r.Tool)
	}
	if r.Summary.Resources != 14 || r.Summary.Images != 6 {
		t.Errorf("summary = %+v, want 14 resources and 6 images", r.Summary)
	}
	var e, w, n int
	for i, f := range r.Findings {
		switch f.Severity {
		case finding.Error:
			e++
		case finding.Warning:
			w++
		case finding.Notice:
			n++
		}
		if f.Location.File == "" || f.Location.Line == 0 || f.Location.Column == 0 || f.Field == "" || f.Rule == "" || f.Resource.Kind == "" {
			t.Errorf("finding %d is incomplete: %+v", i, f)
		}
		if strings.Contains(f.Location.File, "\\") || filepath.IsAbs(f.Location.File) {
			t.Errorf("location %q must be relative with / separators", f.Location.File)
		}
	}
	if e != r.Summary.Error || w != r.Summary.Warning || n != r.Summary.Notice {
		t.Errorf("summary counts %+v do not match the findings (%d/%d/%d)", r.Summary, e, w, n)
	}
	// The contract's example finding, through a strategic-merge patch.
	want := finding.Finding{
		Rule: "pss.privileged", Severity: finding.Error,
		Message:  `container "web" sets securityContext.privileged: true; remove it or set privileged: false`,
		Resource: finding.Resource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop-prod", Name: "web"},
		Field:    "spec.template.spec.containers[0].securityContext.privileged",
		Location: finding.Location{File: "fixtures/shop/overlays/prod/node-agent.yaml", Line: 12, Column: 13},
	}
	found := false
	for _, f := range r.Findings {
		found = found || reflect.DeepEqual(f, want)
	}
	if !found {
		t.Errorf("missing finding %+v", want)
	}
}

func TestPSSModesSetSeverity(t *testing.T) {
	count := func(args ...string) map[string]finding.Severity {
		stdout, _, _ := run(t, "", nil, "", append([]string{"check", "-o", "json", "--fail-on", "never"}, args...)...)
		out := map[string]finding.Severity{}
		for _, f := range decodeReport(t, stdout).Findings {
			out[f.Rule] = max(out[f.Rule], f.Severity)
		}
		return out
	}
	def := count("fixtures")
	if def["pss.privileged"] != finding.Error || def["pss.runAsNonRoot"] != finding.Warning {
		t.Errorf("defaults: privileged %v, runAsNonRoot %v", def["pss.privileged"], def["pss.runAsNonRoot"])
	}
	strict := count("--pss-enforce", "restricted", "fixtures")
	if strict["pss.runAsNonRoot"] != finding.Error {
		t.Errorf("enforce restricted: runAsNonRoot %v, want error", strict["pss.runAsNonRoot"])
	}
	lax := count("--pss-enforce", "privileged", "--pss-warn", "privileged", "--pss-audit", "baseline", "fixtures")
	if lax["pss.privileged"] != finding.Notice {
		t.Errorf("audit baseline: privileged %v, want notice", lax["pss.privileged"])
	}
	if _, ok := lax["pss.runAsNonRoot"]; ok {
		t.Errorf("no mode includes restricted, yet runAsNonRoot was reported")
	}
	if lax["resources.memory-limit-missing"] != finding.Error {
		t.Errorf("non-PSS rules keep their severity")
	}
}

func TestStdinAndOutputFiles(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  containers: [{name: c, image: x}]\n"
	dir := t.TempDir()
	stdout, stderr, code := run(t, dir, nil, pod, "check", "-o", "json=reports/kubegate.json", "-o", "text", "-")
	if code != ExitFindings {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "<stdin>:5:3: error: Pod p: pod sets hostPID: true") {
		t.Errorf("text output on stdout:\n%s", stdout)
	}
	data, err := os.ReadFile(filepath.Join(dir, "reports/kubegate.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r := decodeReport(t, string(data)); r.Summary.Resources != 1 || r.Summary.Error == 0 {
		t.Errorf("json file summary %+v", r.Summary)
	}
}

func TestGitHubActionsDefaultsToAnnotations(t *testing.T) {
	stdout, _, _ := run(t, "", map[string]string{"GITHUB_ACTIONS": "true"}, "", "check", "fixtures/shop/overlays/prod")
	want := "::error col=13,endLine=12,file=fixtures/shop/overlays/prod/node-agent.yaml,line=12,title=pss.privileged%3A Privileged containers::Deployment shop-prod/web: container \"web\" sets securityContext.privileged: true; remove it or set privileged: false\n"
	if !strings.Contains(stdout, want) {
		t.Errorf("want %q in\n%s", want, stdout)
	}
}

func TestRemoteBasesAndEscapesAreRefused(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "remote"), 0o755)
	os.WriteFile(filepath.Join(dir, "remote", "kustomization.yaml"), []byte("resources:\n  - deploy.yaml\n  - https://github.com/example/app//base?ref=v1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "remote", "deploy.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"), 0o644)
	os.Mkdir(filepath.Join(dir, ".git"), 0o755) // the repository's boundary
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.yaml"), []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"), 0o644)
	if err := os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "link.yaml")); err != nil {
		t.Skip("no symlinks here")
	}
	os.MkdirAll(filepath.Join(dir, "escape"), 0o755)
	os.WriteFile(filepath.Join(dir, "escape", "kustomization.yaml"), []byte("resources:\n  - ../link.yaml\n"), 0o644)

	stdout, _, code := run(t, dir, nil, "", "check", "-o", "json", ".")
	r := decodeReport(t, stdout)
	if code != ExitError {
		t.Errorf("exit %d, want 2", code)
	}
	msgs := ""
	for _, e := range r.Errors {
		msgs += e.Error() + "\n"
	}
	for _, want := range []string{
		`remote/kustomization.yaml:3: remote resource "https://github.com/example/app//base?ref=v1" refused`,
		"link.yaml: refusing to read link.yaml: it resolves outside the repository",
		"escape/kustomization.yaml",
	} {
		if !strings.Contains(msgs, want) {
			t.Errorf("errors lack %q:\n%s", want, msgs)
		}
	}
	if strings.Contains(stdout, `"Secret"`) {
		t.Error("a file outside the repository was read")
	}
}

// A directory walk renders kustomizations that nothing else uses, but not
// bases (rendered through their overlays) nor components nothing uses
// (which cannot be built alone).
func TestWalkRendersOnlyTopKustomizations(t *testing.T) {
	stdout, stderr, code := run(t, "", nil, "", "check", "-o", "json", "--fail-on", "never", "fixtures/shop")
	r := decodeReport(t, stdout)
	if code != ExitOK || len(r.Errors) != 0 {
		t.Fatalf("exit %d, errors %+v, stderr %s", code, r.Errors, stderr)
	}
	names := map[string]bool{}
	for _, f := range r.Findings {
		names[f.Resource.Namespace+"/"+f.Resource.Name] = true
	}
	// dev-web (dev overlay) and web in shop-prod (prod overlay); never the
	// bare base "web" without a namespace.
	if !names["shop-dev/dev-web"] || !names["shop-prod/web"] || names["/web"] {
		t.Errorf("resources with findings: %v", names)
	}
	if r.Summary.Resources != 6 {
		t.Errorf("%d resources, want 6 (3 per overlay)", r.Summary.Resources)
	}
}

func TestUnusedComponentIsNotBuiltAlone(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "components", "extra"), 0o755)
	os.WriteFile(filepath.Join(dir, "components", "extra", "kustomization.yaml"), []byte("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - patch: |-\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {name: missing}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"), 0o644)
	stdout, _, code := run(t, dir, nil, "", "check", "-o", "json", ".")
	if r := decodeReport(t, stdout); code != ExitOK || len(r.Errors) != 0 || r.Summary.Resources != 1 {
		t.Errorf("exit %d, errors %+v, summary %+v", code, r.Errors, r.Summary)
	}
}

func TestSignRefusesWithoutKeyOrTarget(t *testing.T) {
	for _, args := range [][]string{{"sign", "fixtures"}, {"sign", "--key", "cosign.key"}, {"sign"}} {
		_, stderr, code := run(t, "", nil, "", args...)
		if code != ExitError || !strings.Contains(stderr, "name the key (--key FILE) and the manifests (PATH...) explicitly") {
			t.Errorf("%v: exit %d, %s", args, code, stderr)
		}
	}
	_, stderr, code := run(t, "", nil, "", "sign", "--key", "no-such.key", "fixtures")
	if code != ExitError || !strings.Contains(stderr, "no-such.key") {
		t.Errorf("missing key: exit %d, %s", code, stderr)
	}
}

// The README's first command: the fixtures' images from their OCI layouts,
// verified with the bundled key and scanned, findings on the image lines.
func TestFixtureImagesEndToEnd(t *testing.T) {
	sboms := t.TempDir()
	stdout, stderr, code := run(t, "", nil, "", "check", "--image-layout", "fixtures/images", "--verify-key", "fixtures/images/cosign.pub", "--insecure-ignore-tlog",
		"--cache-dir", t.TempDir(), "--sbom-dir", sboms, "--sbom-format", "spdx-json", "-o", "json", "fixtures")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1\n%s", code, stderr)
	}
	r := decodeReport(t, stdout)
	at := map[string]string{}
	for _, f := range r.Findings {
		if strings.HasPrefix(f.Rule, "images.") {
			at[f.Rule+" "+f.Location.String()] = f.Message
		}
	}
	for _, want := range []string{
		"images.unsigned fixtures/plain/jobs.yaml:34:7",
		"images.latest-tag fixtures/plain/jobs.yaml:34:7",
		"images.compromised-package fixtures/shop/components/debug/kustomization.yaml:17:17",
		// Through kustomize's images transformer: the overlay's newTag line.
		"images.not-pinned fixtures/shop/overlays/prod/kustomization.yaml:24:5",
	} {
		if _, ok := at[want]; !ok {
			t.Errorf("no %s; image findings: %v", want, at)
		}
	}
	if r.Summary.Images != 6 || len(r.Images) != 6 {
		t.Fatalf("images: summary %d, listed %d, want 6", r.Summary.Images, len(r.Images))
	}
	signed := 0
	for _, im := range r.Images {
		if im.Signed != nil && *im.Signed {
			signed++
			if im.Signers[0] != "key fixtures/images/cosign.pub" {
				t.Errorf("signers %v", im.Signers)
			}
		}
		if im.Packages == nil || !strings.HasSuffix(im.SBOM, ".spdx.json") {
			t.Errorf("%s: no SBOM: %+v", im.Ref, im)
		}
	}
	if signed != 5 {
		t.Errorf("%d images signed, want 5 (toolbox is not)", signed)
	}
	if files, _ := os.ReadDir(sboms); len(files) != 6 {
		t.Errorf("%d SBOM files, want 6", len(files))
	}
}

// A user's own SBOM rule reads the packages from data.kubegate.images.
func TestUserSBOMPolicy(t *testing.T) {
	pol := t.TempDir()
	os.WriteFile(filepath.Join(pol, "no_python.rego"), []byte(`package main

import rego.v1

deny contains {"msg": msg, "path": array.concat(["spec", "jobTemplate", "spec", "template", "spec", "containers", i], ["image"])} if {
	input.kind == "CronJob"
	some i, c in input.spec.jobTemplate.spec.template.spec.containers
	some p in data.kubegate.images[c.image].packages
	startswith(p.name, "python")
	msg := sprintf("image %s ships %s %s; batch images must not carry an interpreter", [c.image, p.name, p.version])
}
`), 0o644)
	stdout, stderr, code := run(t, "", nil, "", "check", "--image-layout", "fixtures/images", "--cache-dir", t.TempDir(), "--policy", pol, "-o", "json", "fixtures/plain")
	if code != ExitFindings {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, f := range decodeReport(t, stdout).Findings {
		if f.Rule == "main.deny" {
			if f.Location.String() != "fixtures/plain/jobs.yaml:16:15" || !strings.Contains(f.Message, "ships python3.11 3.11.2-6+deb12u2") {
				t.Errorf("%s: %s", f.Location, f.Message)
			}
			return
		}
	}
	t.Errorf("the user's SBOM rule did not fire:\n%s", stdout)
}

// A cancelled run (a CI job cancelled: main cancels the context on SIGTERM)
// stops with exit 2 and no report: a partial one would read as a verdict.
func TestCancelledCheck(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("terminated"))
	var stdout, stderr bytes.Buffer
	abs, _ := filepath.Abs("../..")
	code := Main(ctx, offline([]string{"check", "-o", "json", "fixtures"}), Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }, WorkDir: abs})
	if code != ExitError || stdout.Len() != 0 || !strings.Contains(stderr.String(), "kubegate: check: interrupted (terminated): stopped without a report") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
