package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Under GitHub Actions with a token, check publishes a check run (and no
// workflow-command annotations, which would show every finding twice);
// with a token that may not write, it falls back to workflow commands,
// says why in the log and the job summary, and exits as it would have.
// The token appears in no output but the mask command.
func TestPublishToGitHub(t *testing.T) {
	const token = "ghs_kubegateTestToken123"
	for _, readOnly := range []bool{false, true} {
		var mu sync.Mutex
		var requests []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			requests = append(requests, r.Method+" "+r.URL.Path)
			if r.Header.Get("Authorization") != "Bearer "+token {
				http.Error(w, `{"message": "Bad credentials"}`, http.StatusUnauthorized)
				return
			}
			if readOnly && r.Method != http.MethodGet {
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, `{"message": "Resource not accessible by integration"}`)
				return
			}
			switch {
			case strings.HasSuffix(r.URL.Path, "/check-runs"), strings.Contains(r.URL.Path, "/check-runs/"):
				json.NewEncoder(w).Encode(map[string]any{"id": 9, "html_url": "https://github.example/acme/shop/runs/9"})
			case r.Method == http.MethodGet:
				fmt.Fprint(w, "[]")
			default:
				json.NewEncoder(w).Encode(map[string]any{"id": 3, "html_url": "https://github.example/acme/shop/pull/5#c3"})
			}
		}))
		dir := writeTree(t, map[string]string{"app.yaml": hostNetworkApp})
		event := filepath.Join(dir, "event.json")
		os.WriteFile(event, []byte(`{"pull_request": {"number": 5, "head": {"sha": "abc123"}}}`), 0o644)
		summary, outputs := filepath.Join(dir, "summary.md"), filepath.Join(dir, "outputs")
		env := map[string]string{
			"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": token, "GITHUB_API_URL": srv.URL, "GITHUB_REPOSITORY": "acme/shop",
			"GITHUB_EVENT_PATH": event, "GITHUB_SHA": "merge456", "GITHUB_STEP_SUMMARY": summary, "GITHUB_OUTPUT": outputs,
		}
		var stdout, stderr strings.Builder
		code := Main(context.Background(), offline([]string{"check", "-o", "github", "app.yaml"}), Env{
			Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }, WorkDir: dir, HTTP: srv.Client(),
		})
		srv.Close()
		if code != ExitFindings {
			t.Errorf("read-only %v: exit %d, want 1 as without publishing: %s", readOnly, code, stderr.String())
		}
		sum, _ := os.ReadFile(summary)
		outs, _ := os.ReadFile(outputs)
		annotations := strings.Count(stdout.String(), "::error ")
		if !strings.Contains(stdout.String(), "::add-mask::"+token) {
			t.Errorf("read-only %v: the token is not masked", readOnly)
		}
		if strings.Count(stdout.String(), token) != 1 || strings.Contains(stderr.String(), token) || strings.Contains(string(sum), token) || strings.Contains(string(outs), token) {
			t.Errorf("read-only %v: the token appears in an output", readOnly)
		}
		if !strings.Contains(strings.Join(requests, "\n"), "POST /repos/acme/shop/check-runs") {
			t.Errorf("read-only %v: requests %v", readOnly, requests)
		}
		if readOnly {
			if annotations == 0 || !strings.Contains(stderr.String(), "could not publish the check run: 403 Resource not accessible by integration") ||
				!strings.Contains(string(sum), "kubegate could not publish the check run") {
				t.Errorf("read-only: %d workflow annotations; stderr %s\nsummary:\n%s", annotations, stderr.String(), sum)
			}
		} else {
			if annotations != 0 || !strings.Contains(stdout.String(), "annotated on the check run https://github.example/acme/shop/runs/9") || stderr.Len() > 0 && strings.Contains(stderr.String(), "could not publish") {
				t.Errorf("published: %d workflow annotations (want none: the check run has them); stderr %s\nstdout:\n%s", annotations, stderr.String(), stdout.String())
			}
			if !strings.Contains(strings.Join(requests, "\n"), "POST /repos/acme/shop/issues/5/comments") {
				t.Errorf("no comment written: %v", requests)
			}
		}
	}
}
