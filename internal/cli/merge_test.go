package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestShardAndMerge: the fixtures checked as three shards and merged give
// the same report as one run, and every shard alone is a valid run. The
// images are checked (from the fixtures' layouts): offline, an image that
// two shards name gets an images.not-checked notice in each, where one run
// makes one.
func TestShardAndMerge(t *testing.T) {
	dir := t.TempDir()
	images := []string{"--image-layout", "fixtures/images", "--verify-key", "fixtures/images/cosign.pub", "--insecure-ignore-tlog"}
	whole, _, wantCode := run(t, "", nil, "", append(append([]string{"check"}, images...), "-o", "json", "fixtures")...)
	var reports []string
	total := 0
	for i := 1; i <= 3; i++ {
		file := filepath.Join(dir, fmt.Sprintf("shard-%d.json", i))
		_, stderr, code := run(t, "", nil, "", append(append([]string{"check"}, images...), "--shard", fmt.Sprintf("%d/3", i), "-o", "json="+file, "fixtures")...)
		if code == ExitError {
			t.Fatalf("shard %d/3: exit 2: %s", i, stderr)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		r := decodeReport(t, string(data))
		if r.Summary.Resources == 14 {
			t.Errorf("shard %d/3 checked every resource: the inputs were not split", i)
		}
		total += r.Summary.Resources
		reports = append(reports, file)
	}
	if total != 14 {
		t.Errorf("the shards checked %d resources in all, want the 14 of one run", total)
	}
	merged, stderr, code := run(t, "", nil, "", append([]string{"merge", "-o", "json"}, reports...)...)
	if code != wantCode {
		t.Errorf("merge: exit %d, want %d as one run; stderr: %s", code, wantCode, stderr)
	}
	got, want := decodeReport(t, merged), decodeReport(t, whole)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged report differs from one run:\n got %+v\nwant %+v", got.Summary, want.Summary)
	}

	// A bad report is an input error of the merge, naming the file.
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{\"tool\": {\"name\": \"conftest\"}}"), 0o644)
	stdout, _, code := run(t, "", nil, "", "merge", "-o", "text", reports[0], bad)
	if code != ExitError || !strings.Contains(stdout, "bad.json: input error: cannot merge: not a kubegate JSON report") {
		t.Errorf("exit %d, output:\n%s", code, stdout)
	}
}

func TestShardFlag(t *testing.T) {
	for _, bad := range []string{"0/3", "4/3", "1", "a/b", "1/0"} {
		_, stderr, code := run(t, "", nil, "", "check", "--shard", bad, "fixtures")
		if code != ExitError || !strings.Contains(stderr, "--shard") {
			t.Errorf("--shard %s: exit %d, stderr %q", bad, code, stderr)
		}
	}
	// More shards than inputs: the empty shards pass.
	empty := 0
	for i := 1; i <= 12; i++ {
		stdout, stderr, code := run(t, "", nil, "", "check", "-o", "json", "--shard", fmt.Sprintf("%d/12", i), "fixtures/plain")
		if r := decodeReport(t, stdout); r.Summary.Resources == 0 {
			empty++
			if code != ExitOK {
				t.Errorf("empty shard %d/12: exit %d: %s", i, code, stderr)
			}
		}
	}
	if empty == 0 {
		t.Error("no shard of twelve was empty")
	}
}
