package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1": 1, "33554432": 32 << 20, "32Mi": 32 << 20, "1Gi": 1 << 30, "1k": 1000, "1.5Ki": 1536, "0.5k": 500,
	} {
		if got, err := parseByteSize(in); err != nil || got != want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "-1", "1Ti", "1073741825", "2Gi", "0.5", "1m", "ten", "", "9223372036854775807", "1e3", "1e2222222299"} {
		if got, err := parseByteSize(in); err == nil {
			t.Errorf("parseByteSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestLimitFlags(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pod.yaml"), []byte(goodPod), 0o644)
	os.WriteFile(filepath.Join(dir, "small.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string // in stdout (a JSON report) or stderr
	}{
		{[]string{"--max-file-size", "100"}, ExitError, `"file":"pod.yaml","line":0,"message":"file is 130 bytes, over the 100 bytes limit (--max-file-size)"`},
		{[]string{"--max-file-size=1Ki"}, ExitFindings, `"pss.hostNamespaces"`},
		{[]string{"--max-nodes", "10"}, ExitError, `"file":"pod.yaml","line":1,"message":"document too large: more than the allowed number of YAML nodes (aliases expanded) (the limit is 10, --max-nodes)"`},
		{[]string{"--max-nodes", "1000"}, ExitFindings, `"pss.hostNamespaces"`},
		{[]string{"--max-file-size", "2Gi"}, ExitError, "--max-file-size: 2Gi is not between 1 byte and 1 GiB"},
		{[]string{"--max-file-size", "lots"}, ExitError, `--max-file-size: "lots" is not a number of bytes`},
		{[]string{"--max-nodes", "0"}, ExitError, "--max-nodes: 0 is not between 1 and 100000000"},
	} {
		stdout, stderr, code := run(t, dir, nil, "", append(append([]string{"check", "-o", "json"}, tc.args...), ".")...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("%v: exit %d, want %d with %q in\n%s%s", tc.args, code, tc.code, tc.want, stdout, stderr)
		}
	}
	// The small file is read under a limit that refuses the pod: the run
	// goes on past a refused file.
	stdout, _, _ := run(t, dir, nil, "", "check", "-o", "json", "--max-file-size", "100", ".")
	if r := decodeReport(t, stdout); r.Summary.Resources != 1 {
		t.Errorf("summary %+v, want the small file's one resource", r.Summary)
	}
	stdout, _, _ = run(t, dir, nil, "", "check", "--help")
	for _, flag := range []string{"--max-file-size BYTES", `(default "32Mi")`, "--max-nodes N", "(default 1000000)"} {
		if !strings.Contains(stdout, flag) {
			t.Errorf("help lacks %q:\n%s", flag, stdout)
		}
	}
}
