package cli

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubegate/kubegate/internal/gitref/gitreftest"
)

// writeYardstick writes the speed yardstick's manifest set (a Go port of
// shared/bench/gen.py): apps x {Deployment, Service, ConfigMap, HPA, PDB},
// 50 apps to a file, with the same mix of good and bad settings.
func writeYardstick(tb testing.TB, dir string, apps int) {
	tb.Helper()
	r := rand.New(rand.NewPCG(42, 42))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	var docs []string
	flush := func(i int) {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("apps-%04d.yaml", i)), []byte(strings.Join(docs, "\n---\n")), 0o644); err != nil {
			tb.Fatal(err)
		}
		docs = docs[:0]
	}
	for a := range apps {
		name, ns := fmt.Sprintf("app%d", a), fmt.Sprintf("team%d", a%20)
		sc := pick(
			"securityContext:\n            allowPrivilegeEscalation: false\n            runAsNonRoot: true\n            capabilities: {drop: [ALL]}\n            seccompProfile: {type: RuntimeDefault}",
			"securityContext:\n            privileged: true",
			"securityContext:\n            capabilities: {add: [NET_ADMIN]}",
			"securityContext: {}")
		res := pick(
			"resources:\n            requests: {cpu: 100m, memory: 128Mi}\n            limits: {cpu: 500m, memory: 128Mi}",
			"resources:\n            requests: {memory: 64Mi}",
			"resources: {}")
		docs = append(docs, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  namespace: %[2]s
  labels: {app: %[1]s, tier: backend}
spec:
  replicas: %[3]s
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s, tier: backend}
    spec:
      %[4]s
      containers:
        - name: main
          image: registry.example.com/%[1]s:%[5]s
          ports: [{containerPort: 8080}]
          env:
            - {name: JAVA_TOOL_OPTIONS, value: "-Xmx%[6]sm"}
          %[7]s
          %[8]s
        - name: sidecar
          image: registry.example.com/proxy:1.31
          %[8]s
      volumes:
        - name: cfg
          configMap: {name: %[1]s}
        - name: tmp
          %[9]s`, name, ns, pick("1", "2", "3"), pick("hostNetwork: false", "hostNetwork: true", "automountServiceAccountToken: false"),
			pick("1.0.0", "latest", "2.3.1@sha256:"+strings.Repeat("ab", 32)), pick("64", "256", "512"), sc, res, pick("emptyDir: {}", "hostPath: {path: /tmp}")))
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  selector: {app: %s}\n  ports: [{port: 80, targetPort: 8080}]", name, ns, name))
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  LOG_LEVEL: info\n  FEATURE_X: \"true\"", name, ns))
		docs = append(docs, fmt.Sprintf("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: %s}\n  minReplicas: %s\n  maxReplicas: %s\n  metrics:\n    - type: Resource\n      resource:\n        name: cpu\n        target: {type: Utilization, averageUtilization: 70}", name, ns, name, pick("1", "2", "3"), pick("2", "5", "10")))
		docs = append(docs, fmt.Sprintf("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  minAvailable: %s\n  selector:\n    matchLabels: {app: %s}", name, ns, pick("1", "2"), name))
		if a%50 == 49 {
			flush(a / 50)
		}
	}
	if len(docs) > 0 {
		flush(apps/50 + 1)
	}
}

// BenchmarkCheck runs the whole `kubegate check --offline --fail-on never
// -o json` over the yardstick at 1x (10,000 resources), 4x and 16x, to show
// how time per resource grows with the input: no rule scans a namespace,
// so the growth (about 1.4x per resource at 4x, GOGC 400) is the
// collector's and the page faults' of a larger heap.
func BenchmarkCheck(b *testing.B) {
	for _, scale := range []int{1, 4, 16} {
		apps := 2000 * scale
		b.Run(fmt.Sprintf("resources=%d", apps*5), func(b *testing.B) {
			if testing.Short() && scale > 1 {
				b.Skip("short")
			}
			dir := b.TempDir()
			writeYardstick(b, dir, apps)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				code := Main(context.Background(), []string{"check", "--offline", "--fail-on", "never", "-o", "json", dir}, Env{Stdout: io.Discard, Stderr: io.Discard, WorkDir: dir})
				if code != ExitOK {
					b.Fatalf("exit %d", code)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(apps*5)/1000, "µs/resource")
		})
	}
}

// TestYardstickMatchesGenerator keeps the Go port honest: same file count
// and resource count as shared/bench/gen.py for the same N.
func TestYardstickMatchesGenerator(t *testing.T) {
	dir := t.TempDir()
	writeYardstick(t, dir, 120)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("%d files, want 3 (50 apps a file)", len(entries))
	}
	stdout, _, _ := run(t, dir, nil, "", "check", "-o", "json", "--fail-on", "never", ".")
	if r := decodeReport(t, stdout); r.Summary.Resources != 600 || len(r.Errors) != 0 {
		t.Errorf("summary %+v errors %v", r.Summary, r.Errors)
	}
}

// TestEvaluatorsAgreeOnYardstick runs the yardstick's mix (600 resources)
// with the plan evaluator (the default) and with OPA's topdown: the
// reports must be byte for byte the same.
func TestEvaluatorsAgreeOnYardstick(t *testing.T) {
	dir := t.TempDir()
	writeYardstick(t, dir, 120)
	plan, _, code := run(t, dir, nil, "", "check", "-o", "json", "--fail-on", "never", ".")
	if code != ExitOK {
		t.Fatalf("plan: exit %d", code)
	}
	topdown, _, code := run(t, dir, nil, "", "check", "-o", "json", "--fail-on", "never", "--evaluator", "topdown", ".")
	if code != ExitOK {
		t.Fatalf("topdown: exit %d", code)
	}
	if plan != topdown {
		t.Errorf("the evaluators' reports differ")
	}
	if r := decodeReport(t, plan); len(r.Findings) < 1000 {
		t.Errorf("%d findings: the yardstick's mix should give thousands", len(r.Findings))
	}
	_, stderr, code := run(t, dir, nil, "", "check", "--evaluator", "wasm", ".")
	if code != ExitError || !strings.Contains(stderr, `--evaluator: unknown evaluator "wasm" (plan or topdown)`) {
		t.Errorf("--evaluator wasm: exit %d, %s", code, stderr)
	}
}

// BenchmarkCheckBaseline is the yardstick (10,000 resources) in a git
// repository whose head commit changes five of its files: a plain check
// against one with --baseline HEAD~1 (the base's tree written out and
// checked too). The target is at most 2.2 times a plain check.
func BenchmarkCheckBaseline(b *testing.B) {
	dir := b.TempDir()
	writeYardstick(b, dir, 2000)
	files := map[string]string{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		files[e.Name()] = string(data)
	}
	head := map[string]string{}
	for _, e := range entries[:5] {
		head[e.Name()] = strings.ReplaceAll(files[e.Name()], "replicas: 2", "replicas: 4")
	}
	repo := gitreftest.Repo(b, files, head)
	for _, mode := range []string{"plain", "baseline"} {
		b.Run(mode, func(b *testing.B) {
			args := []string{"check", "--offline", "--fail-on", "never", "-o", "json", "."}
			if mode == "baseline" {
				args = append(args, "--baseline", "HEAD~1")
			}
			b.ReportAllocs()
			for b.Loop() {
				if code := Main(context.Background(), args, Env{Stdout: io.Discard, Stderr: io.Discard, WorkDir: repo}); code != ExitOK {
					b.Fatalf("exit %d", code)
				}
			}
		})
	}
}
