package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/vuln"
	"github.com/kubegate/kubegate/vuln/vulntest"
)

var fixtureAdvisories = vulntest.Fixtures

// checkVulns runs the README's command over fixtures/ with args, at now.
func checkVulns(t *testing.T, now time.Time, args ...string) (*finding.Report, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	abs, _ := filepath.Abs("../..")
	all := append([]string{"check", "--image-layout", "fixtures/images", "--verify-key", "fixtures/images/cosign.pub", "--insecure-ignore-tlog", "-o", "json", "--fail-on", "error"}, args...)
	code := Main(context.Background(), append(all, "fixtures/"), Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }, WorkDir: abs, Now: func() time.Time { return now }})
	var rep finding.Report
	if code != ExitError {
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
	}
	return &rep, stderr.String(), code
}

func byRule(rep *finding.Report, rule string) []finding.Finding {
	var out []finding.Finding
	for _, f := range rep.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

func TestVulnerabilityFindings(t *testing.T) {
	dir := t.TempDir()
	if err := vulntest.Write(dir, fixtureAdvisories); err != nil {
		t.Fatal(err)
	}
	db, err := vuln.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	built := db.Built
	db.Close()
	now := built.Add(time.Hour)

	rep, stderr, code := checkVulns(t, now, "--vuln-db", dir)
	if code != ExitFindings {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	errs, notices := map[string]finding.Finding{}, 0
	for _, f := range byRule(rep, "images.vulnerability") {
		switch f.Severity {
		case finding.Error:
			id := strings.Fields(strings.SplitN(f.Message, "which holds ", 2)[1])[0]
			errs[id+" "+f.Location.String()] = f
		case finding.Notice:
			notices++
			if !strings.Contains(f.Message, "which also holds 1 known vulnerability that does not fail the gate (1 medium without a fix)") {
				t.Errorf("notice: %s", f.Message)
			}
		}
	}
	// The xz backdoor on the line that names netshoot (a component's
	// images: entry), as images.compromised-package places it.
	var compromised []string
	for _, f := range byRule(rep, "images.compromised-package") {
		compromised = append(compromised, "CVE-2024-3094 "+f.Location.String())
	}
	if len(compromised) == 0 {
		t.Fatal("no images.compromised-package finding to compare with")
	}
	for _, k := range compromised {
		f, ok := errs[k]
		if !ok {
			t.Errorf("no images.vulnerability at %s; have %v", k, keys(errs))
			continue
		}
		// (The fixture's liblzma5 names no source package, so only xz-utils
		// matches; package vuln tests the match through the source.)
		if !strings.Contains(f.Message, "(critical) in xz-utils 5.6.1-1: upgrade xz-utils to 5.6.1+really5.4.5-1") {
			t.Errorf("message: %s", f.Message)
		}
	}
	n5535 := 0
	for k, f := range errs {
		if strings.HasPrefix(k, "CVE-2024-5535 ") {
			n5535++
			if !strings.Contains(f.Message, "registry.example.com/shop/web:1.4.2") || !strings.Contains(f.Message, "upgrade libssl3 to 3.0.14-1~deb12u2") {
				t.Errorf("CVE-2024-5535: %s", f.Message)
			}
		}
	}
	if n5535 == 0 || notices == 0 {
		t.Errorf("CVE-2024-5535 errors %d, notices %d", n5535, notices)
	}
	var summarised bool
	for _, im := range rep.Images {
		if im.Vulnerabilities == nil {
			t.Errorf("%s: no vulnerability summary", im.Ref)
		} else if im.Ref == "registry.example.com/tools/netshoot:v0.13" {
			summarised = im.Vulnerabilities.Counts["critical"] == 1 && im.Vulnerabilities.Database == built.Format(time.RFC3339)
		}
	}
	if !summarised {
		t.Errorf("netshoot's summary: %+v", rep.Images)
	}
	if len(byRule(rep, "images.vulnerability-db")) != 0 {
		t.Errorf("a fresh database was reported: %v", byRule(rep, "images.vulnerability-db"))
	}

	// The threshold: at critical, OpenSSL's high is a notice.
	rep, _, _ = checkVulns(t, now, "--vuln-db", dir, "--vuln-fail-severity", "critical")
	for _, f := range byRule(rep, "images.vulnerability") {
		if f.Severity == finding.Error && !strings.Contains(f.Message, "CVE-2024-3094") {
			t.Errorf("above the threshold: %s", f.Message)
		}
	}
	// Only fixed: curl's medium has no fix; at medium it fails only with
	// --vuln-only-fixed=false.
	count := func(rep *finding.Report, id string) int {
		n := 0
		for _, f := range byRule(rep, "images.vulnerability") {
			if f.Severity == finding.Error && strings.Contains(f.Message, id) {
				n++
			}
		}
		return n
	}
	if rep, _, _ := checkVulns(t, now, "--vuln-db", dir, "--vuln-fail-severity", "medium"); count(rep, "CVE-2025-0665") != 0 {
		t.Error("an unfixed vulnerability failed the gate with --vuln-only-fixed")
	}
	if rep, _, _ := checkVulns(t, now, "--vuln-db", dir, "--vuln-fail-severity", "medium", "--vuln-only-fixed=false"); count(rep, "CVE-2025-0665") == 0 {
		t.Error("--vuln-only-fixed=false: the unfixed vulnerability did not fail the gate")
	}

	// A VEX statement sets the backdoor aside for netshoot.
	vex := filepath.Join(t.TempDir(), "netshoot.openvex.json")
	if err := os.WriteFile(vex, []byte(`{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/netshoot", "author": "tools",
 "timestamp": "2024-04-01T00:00:00Z", "version": 1,
 "statements": [{"vulnerability": {"name": "CVE-2024-3094"},
   "products": [{"@id": "pkg:oci/netshoot?repository_url=registry.example.com/tools/netshoot"}],
   "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, _, _ = checkVulns(t, now, "--vuln-db", dir, "--vex", vex)
	if count(rep, "CVE-2024-3094") != 0 {
		t.Error("the VEX statement did not set the backdoor aside")
	}
	for _, im := range rep.Images {
		if im.Ref == "registry.example.com/tools/netshoot:v0.13" && (im.Vulnerabilities == nil || im.Vulnerabilities.Suppressed != 1) {
			t.Errorf("netshoot's VEX count: %+v", im.Vulnerabilities)
		}
	}

	// A stale database is a warning, once; no database a notice, once.
	rep, _, _ = checkVulns(t, built.Add(6*24*time.Hour), "--vuln-db", dir)
	if fs := byRule(rep, "images.vulnerability-db"); len(fs) != 1 || fs[0].Severity != finding.Warning || !strings.Contains(fs[0].Message, "was built on "+built.Format(time.DateOnly)+", more than --vuln-db-max-age (120h0m0s) ago") {
		t.Errorf("stale database: %+v", fs)
	}
	rep, _, _ = checkVulns(t, now)
	if fs := byRule(rep, "images.vulnerability-db"); len(fs) != 1 || fs[0].Severity != finding.Notice || !strings.Contains(fs[0].Message, "the images' packages were not matched against a vulnerability database") {
		t.Errorf("no database: %+v", fs)
	}
	if len(byRule(rep, "images.vulnerability")) != 0 {
		t.Error("vulnerabilities reported without a database")
	}

	// Exceptions per vulnerability id; a user's policy over the same data;
	// SARIF tags.
	extra := t.TempDir()
	cfg := filepath.Join(extra, "kubegate.yaml")
	if err := os.WriteFile(cfg, []byte("exceptions:\n  - rule: images.vulnerability\n    vulnerability: CVE-2024-3094\n    reason: the debug component never reaches production\n    expires: 2099-01-01\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(extra, "policy")
	if err := os.MkdirAll(policy, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(policy, "xz.rego"), []byte(`package main

import rego.v1

deny contains msg if {
	some c in input.spec.template.spec.containers
	some v in data.kubegate.images[c.image].vulnerabilities
	v.id == "CVE-2024-3094"
	msg := sprintf("image %s ships the xz backdoor in %s %s", [c.image, v.package, v.version])
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, stderr, _ = checkVulns(t, now, "--vuln-db", dir, "--config", cfg, "--policy", policy)
	if count(rep, "CVE-2024-3094") != 0 || count(rep, "CVE-2024-5535") == 0 {
		t.Errorf("the exception for CVE-2024-3094: %d of its findings left, %d of CVE-2024-5535; %s", count(rep, "CVE-2024-3094"), count(rep, "CVE-2024-5535"), stderr)
	}
	waived := 0
	for _, s := range rep.Suppressed {
		if s.Rule == "images.vulnerability" && slices.Contains(s.Tags, "CVE-2024-3094") {
			waived++
		}
	}
	if waived == 0 {
		t.Errorf("no suppressed finding for CVE-2024-3094: %+v", rep.Suppressed)
	}
	mine := 0
	for _, f := range rep.Findings {
		if strings.Contains(f.Message, "ships the xz backdoor in xz-utils 5.6.1-1") {
			mine++
		}
	}
	if mine == 0 {
		t.Error("the user's policy over data.kubegate.images[...].vulnerabilities found nothing")
	}
	var sarif bytes.Buffer
	abs, _ := filepath.Abs("../..")
	Main(context.Background(), []string{"check", "--image-layout", "fixtures/images", "--vuln-db", dir, "-o", "sarif", "fixtures/shop"}, Env{Stdout: &sarif, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }, WorkDir: abs, Now: func() time.Time { return now }})
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID     string `json:"ruleId"`
				Properties struct {
					Tags []string `json:"tags"`
				} `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(sarif.Bytes(), &log); err != nil || len(log.Runs) != 1 {
		t.Fatalf("SARIF: %v", err)
	}
	tagged := map[string]bool{}
	for _, r := range log.Runs[0].Results {
		if r.RuleID == "images.vulnerability" {
			for _, tag := range r.Properties.Tags {
				tagged[tag] = true
			}
		}
	}
	if !tagged["CVE-2024-3094"] || !tagged["CVE-2024-5535"] {
		t.Errorf("SARIF results' tags: %v", tagged)
	}

	// A corrupt database is exit 2, naming the file.
	bad := filepath.Join(t.TempDir(), vuln.FileName)
	if err := os.WriteFile(bad, bytes.Repeat([]byte("not sqlite "), 20), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := checkVulns(t, now, "--vuln-db", bad); code != ExitError || !strings.Contains(stderr, bad+" is not a grype vulnerability database") {
		t.Errorf("corrupt database: exit %d, %s", code, stderr)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// kubegate db update reads grype's listing; a listing that is not there is
// exit 2, saying where it looked (the test serves one on loopback).
func TestDBUpdateUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, stderr, code := run(t, "", nil, "", "db", "update", "--cache-dir", t.TempDir(), "--url", srv.URL+"/databases")
	if code != ExitError || !strings.Contains(stderr, "kubegate: db update: updating the vulnerability database from "+srv.URL+"/databases") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if _, stderr, code := run(t, "", nil, "", "db", "download"); code != ExitError || !strings.Contains(stderr, "want kubegate db update") {
		t.Errorf("db download: exit %d: %s", code, stderr)
	}
}
