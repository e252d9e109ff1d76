package cli

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A registry that refuses kubegate and echoes the credentials it was sent
// must not get them into any output: every report format, the job
// summary, the step outputs, standard output and standard error are
// searched for the planted secret.
func TestCredentialsNeverInOutput(t *testing.T) {
	// 403 is explained in kubegate's words; 400 quotes the registry's
	// message, which is where an echoed credential would get through.
	for _, status := range []int{http.StatusForbidden, http.StatusBadRequest} {
		t.Run(http.StatusText(status), func(t *testing.T) { credentialsNeverInOutput(t, status) })
	}
}

func credentialsNeverInOutput(t *testing.T, status int) {
	const secret = "pl4nted-s3cret-token"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodHead {
			// A HEAD answer has no body: send kubegate to GET.
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"errors":[{"code":"DENIED","message":"no access for %s, password %s"}]}`, r.Header.Get("Authorization"), secret)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	auth := base64.StdEncoding.EncodeToString([]byte("robot:" + secret))

	dir := t.TempDir()
	cfg := filepath.Join(dir, "docker")
	os.MkdirAll(cfg, 0o700)
	os.WriteFile(filepath.Join(cfg, "config.json"), []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, u.Host, auth)), 0o600)
	t.Setenv("DOCKER_CONFIG", cfg)
	os.WriteFile(filepath.Join(dir, "pod.yaml"), []byte(fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: app\n      image: %s/team/app:1.0\n", u.Host)), 0o644)

	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	env := map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_STEP_SUMMARY": filepath.Join(out, "summary.md"),
		"GITHUB_OUTPUT":       filepath.Join(out, "outputs"),
	}
	args := []string{"check", "--cache-dir", filepath.Join(dir, "cache"), "-o", "github"}
	for _, f := range []string{"json", "sarif", "junit", "gitlab", "text"} {
		args = append(args, "-o", f+"="+filepath.Join(out, "report."+f))
	}
	// Main itself, not run: this check must reach the registry.
	var so, se strings.Builder
	code := Main(context.Background(), append(args, "pod.yaml"), Env{Stdin: strings.NewReader(""), Stdout: &so, Stderr: &se, Getenv: func(k string) string { return env[k] }, WorkDir: dir})
	stdout, stderr := so.String(), se.String()
	if code != ExitError {
		t.Fatalf("exit %d, want 2 (the image could not be checked)\n%s%s", code, stdout, stderr)
	}
	texts := map[string]string{"stdout": stdout, "stderr": stderr}
	files, _ := os.ReadDir(out)
	for _, f := range files {
		b, _ := os.ReadFile(filepath.Join(out, f.Name()))
		texts[f.Name()] = string(b)
	}
	if len(texts) < 9 {
		t.Fatalf("only %d outputs written", len(texts))
	}
	if !strings.Contains(texts["report.json"], fmt.Sprintf(" %s/team/app:1.0", u.Host)) || !strings.Contains(texts["report.json"], fmt.Sprint(status)) {
		t.Errorf("the JSON report does not report the registry's answer:\n%s", texts["report.json"])
	}
	// The credential is masked in the runner's log as well.
	if !strings.Contains(stdout, "::add-mask::"+secret) {
		t.Errorf("the secret is not registered with ::add-mask::")
	}
	for name, s := range texts {
		s = strings.ReplaceAll(s, "::add-mask::"+secret, "")
		s = strings.ReplaceAll(s, "::add-mask::"+auth, "")
		if strings.Contains(s, secret) || strings.Contains(s, auth) {
			t.Errorf("%s leaks the credential:\n%s", name, s)
		}
	}
}
