package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kubegate/kubegate/finding"
)

func TestImagesInJSONAndSummary(t *testing.T) {
	yes, no, n := true, false, 42
	r := &finding.Report{Tool: finding.Tool{Name: "kubegate"}, Images: []finding.Image{
		{Ref: "ghcr.io/acme/web:1"}, // the same image from another shard
		{Ref: "ghcr.io/acme/web:1", Digest: "sha256:" + strings.Repeat("a", 64), Signed: &yes, Signers: []string{"key cosign.pub"}, Packages: &n, SBOM: "sboms/sha256-a.cdx.json",
			Vulnerabilities: &finding.VulnerabilitySummary{Counts: map[string]int{"critical": 1, "medium": 2}, Suppressed: 1, Database: "2026-12-01T00:00:00Z"}},
		{Ref: "busybox", Digest: "sha256:" + strings.Repeat("b", 64), Signed: &no},
		{Ref: "nginx:1", NotChecked: "kubegate ran with --offline"},
	}}
	r.Normalize()
	if r.Summary.Images != 3 || r.Images[0].Ref != "busybox" {
		t.Fatalf("normalized: %d images, first %q", r.Summary.Images, r.Images[0].Ref)
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	var back finding.Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if len(back.Images) != 3 || *back.Images[1].Packages != 42 || !*back.Images[1].Signed || back.Images[1].Vulnerabilities.Counts["critical"] != 1 {
		t.Errorf("JSON images: %+v", back.Images)
	}
	buf.Reset()
	if err := WriteGitHubSummary(&buf, r, GitHubContext{}); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, want := range []string{
		"### Images (3)",
		"| `busybox` | `sha256:bbbbbbbbbbbb…` | ❌ not signed by a trusted signer |  |  |  |",
		"| `ghcr.io/acme/web:1` | `sha256:aaaaaaaaaaaa…` | ✅ key cosign.pub | 42 | 1 critical, 2 medium; 1 set aside by VEX | sboms/sha256-a.cdx.json |",
		"| `nginx:1` | not checked: kubegate ran with --offline |  |  |  |  |",
		"Vulnerabilities: from a grype database built 2026-12-01T00:00:00Z.",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}
