package evaluate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/kubegate/kubegate/evaluate/internal/vm"
	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/load"
)

// TestBuiltinPoliciesPlan: every query over the built-in policies runs on
// the plan evaluator; a fallback to topdown would be a silent slowdown.
func TestBuiltinPoliciesPlan(t *testing.T) {
	e, err := New(Options{PSS: DefaultPSSModes})
	if err != nil {
		t.Fatal(err)
	}
	for g, pkg := range e.groups {
		if _, err := vm.Compile(e.compiler, "data."+pkg+".planned"); err != nil || e.plans[g] == nil || e.unplanned[g] {
			t.Errorf("group %s: not planned: %v", pkg, err)
		}
	}
	if !e.hasCache() {
		t.Fatal("no lookup tables")
	}
	if _, err := vm.Compile(e.compiler, "data."+cachePackage); err != nil || e.cachePlan == nil {
		t.Errorf("lookup tables: not planned: %v", err)
	}
}

// TestPlanEvaluatorMatchesTopdown evaluates real inputs with both
// evaluators: the repository's fixtures, the CLI's golden inputs (overlays,
// patches, autoscaling), a set of edge cases for every rule family, and
// the real-world corpus of ../shared/corpus when it is there. Findings and
// errors must be identical.
func TestPlanEvaluatorMatchesTopdown(t *testing.T) {
	type run struct{ dir, path string }
	var runs []run
	add := func(root string) {
		entries, err := os.ReadDir(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() {
				runs = append(runs, run{root, e.Name()})
			}
		}
	}
	add("../fixtures")
	add("../internal/cli/testdata/golden")
	// A slice of the real-world corpus always; the whole of it when
	// ../shared/corpus is there.
	add("testdata/corpus")
	runs = append(runs, run{"testdata", "corpus/ingress-nginx-cloud-deploy.yaml"})
	if _, err := os.Stat("../../shared/corpus"); err == nil {
		add("../../shared/corpus")
	}
	edge := t.TempDir()
	if err := os.WriteFile(filepath.Join(edge, "edge.yaml"), []byte(edgeCases), 0o644); err != nil {
		t.Fatal(err)
	}
	runs = append(runs, run{edge, "edge.yaml"})
	plan := newEngine(t, Options{PSS: DefaultPSSModes})
	topdown := newEngine(t, Options{PSS: DefaultPSSModes, Evaluator: EvaluatorTopdown})
	if slices.Contains(plan.plans, nil) || !slices.ContainsFunc(topdown.plans, func(p *vm.Program) bool { return p == nil }) {
		t.Fatal("the engines do not use the evaluators they were asked for")
	}
	total := 0
	for _, r := range runs {
		dir := filepath.Join(r.dir, r.path)
		loaded := load.Load([]string{r.path}, load.Options{WorkDir: r.dir})
		if len(loaded.Resources) == 0 {
			continue
		}
		want, err := topdown.Evaluate(context.Background(), loaded.Resources, nil)
		if err != nil {
			t.Fatalf("%s: topdown: %v", dir, err)
		}
		got, err := plan.Evaluate(context.Background(), loaded.Resources, nil)
		if err != nil {
			t.Fatalf("%s: plan: %v", dir, err)
		}
		sameResults(t, dir, want, got)
		total += len(want.Findings)
		t.Logf("%s: %d resources, %d findings, %d errors", dir, len(loaded.Resources), len(want.Findings), len(want.Errors))
	}
	if total < 100 {
		t.Errorf("only %d findings compared: the inputs prove little", total)
	}
}

// sameResults fails the test unless topdown's and the plan evaluator's
// results are the same, in any order.
func sameResults(t *testing.T, what string, want, got *Result) {
	t.Helper()
	for _, r := range []*Result{want, got} {
		slices.SortFunc(r.Findings, func(a, b finding.Finding) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		slices.SortFunc(r.Errors, func(a, b finding.InputError) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("%s: the evaluators differ:\ntopdown %d findings %v\nplan    %d findings %v", what, len(want.Findings), want, len(got.Findings), got)
	}
}

// edgeCases exercises what the fixtures do not: LimitRange defaults,
// ResourceQuotas, VPAs, every HPA API version and metric type, PDBs,
// Windows and host-namespace pods, Pod Security labels.
const edgeCases = `apiVersion: v1
kind: Namespace
metadata:
  name: strict
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: v1.24
    pod-security.kubernetes.io/warn: baseline
---
apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: strict}
spec:
  limits:
    - type: Container
      default: {memory: 512Mi}
      defaultRequest: {cpu: 100m}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: quota, namespace: strict}
spec:
  hard: {limits.cpu: "4", requests.memory: 4Gi}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: strict}
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      initContainers:
        - name: proxy
          image: envoy:1.30
          restartPolicy: Always
          resources: {requests: {cpu: 50m}}
      containers:
        - name: api
          image: example.com/api@sha256:0123456789012345678901234567890123456789012345678901234567890123
          env:
            - {name: JAVA_TOOL_OPTIONS, value: "-Xmx1g -XX:MaxRAMPercentage=100"}
            - {name: NODE_OPTIONS, value: "--max-old-space-size=600"}
            - {name: GOMEMLIMIT, value: 600MiB}
          resources:
            requests: {cpu: "1.5", memory: 0.5Gi}
            limits: {cpu: 500m, memory: 512Mi}
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL], add: [NET_BIND_SERVICE, SYS_ADMIN]}
            seLinuxOptions: {type: spc_t}
            procMount: Unmasked
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: strict}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 1
  maxReplicas: 5
  metrics:
    - type: ContainerResource
      containerResource: {name: memory, container: api, target: {type: Utilization, averageUtilization: 70}}
    - type: ContainerResource
      containerResource: {name: cpu, container: missing, target: {type: Utilization, averageUtilization: 70}}
    - type: Resource
      resource: {name: cpu, target: {type: AverageValue, averageValue: 200m}}
---
apiVersion: autoscaling/v2beta2
kind: HorizontalPodAutoscaler
metadata: {name: api-again, namespace: strict}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 4
  maxReplicas: 2
---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: logs}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: DaemonSet, name: logs}
  maxReplicas: 3
---
apiVersion: autoscaling.k8s.io/v1
kind: VerticalPodAutoscaler
metadata: {name: api, namespace: strict}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  updatePolicy: {updateMode: Auto}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api, namespace: strict}
spec:
  maxUnavailable: 0
  selector: {matchLabels: {app: api}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: logs}
spec:
  selector: {matchLabels: {app: logs}}
  template:
    metadata:
      labels: {app: logs}
      annotations: {container.apparmor.security.beta.kubernetes.io/agent: unconfined}
    spec:
      hostNetwork: true
      hostPID: true
      securityContext:
        sysctls: [{name: kernel.shm_rmid_forced, value: "1"}, {name: net.core.somaxconn, value: "1024"}]
        windowsOptions: {hostProcess: true}
      volumes:
        - {name: root, hostPath: {path: /}}
        - {name: data, persistentVolumeClaim: {claimName: data}}
      containers:
        - name: agent
          image: fluent/fluent-bit:latest
          ports: [{containerPort: 2020, hostPort: 2020}]
          livenessProbe: {httpGet: {host: 10.0.0.1, port: 2020}}
          securityContext: {privileged: true, runAsUser: 0}
          resources: {limits: {memory: 256Mi}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: strict}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: report
              image: busybox
              command: [java, -Xmx2g, -jar, app.jar]
              resources: {limits: {memory: 1Gi}}
`

// A user policy that the plan evaluator cannot run (it reads the clock)
// is evaluated by topdown; the other rules of the kinds it applies to stay
// on the plan evaluator.
func TestUnplannableUserPolicyFallsBackToTopdown(t *testing.T) {
	policy := fstest.MapFS{"clock.rego": {Data: []byte(`package main

import rego.v1

deny contains msg if {
	time.now_ns() > 0
	msg := sprintf("%s %s checked at a time", [input.kind, input.metadata.name])
}
`)}}
	opts := Options{PSS: DefaultPSSModes, UserPolicies: []PolicyDir{{Name: "policy", FS: policy}}}
	e := newEngine(t, opts)
	g := e.group("Deployment")
	if e.plans[g] == nil || !e.unplanned[g] {
		t.Fatalf("Deployment group: plan %v, unplanned %v; want the built-in rules planned and main.deny on topdown", e.plans[g] != nil, e.unplanned[g])
	}
	if on := e.OnTopdown(); len(on) != 1 || !strings.HasPrefix(on[0], "main.deny: ") {
		t.Errorf("OnTopdown %q, want main.deny alone", on)
	}
	resources := loadFiles(t, map[string]string{"d.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
        - {name: web, image: nginx:1.27, securityContext: {privileged: true}}
`})
	res, err := e.Evaluate(context.Background(), resources, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user := byRule(res.Findings, "main.deny"); len(user) != 1 || user[0].Message != "Deployment web checked at a time" {
		t.Errorf("main.deny findings %+v", user)
	}
	if len(byRule(res.Findings, "pss.privileged")) != 1 {
		t.Errorf("no pss.privileged finding among %+v", res.Findings)
	}
	opts.Evaluator = EvaluatorTopdown
	want, err := newEngine(t, opts).Evaluate(context.Background(), resources, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Findings) != len(res.Findings) {
		t.Errorf("%d findings, topdown alone gives %d", len(res.Findings), len(want.Findings))
	}
}

// FuzzEvaluators: for any manifest, the plan evaluator and topdown give
// the same findings and errors. Seeds: the edge cases, document by
// document and whole.
func FuzzEvaluators(f *testing.F) {
	f.Add([]byte(edgeCases))
	for _, doc := range strings.Split(edgeCases, "\n---\n") {
		f.Add([]byte(doc))
	}
	plan, err := New(Options{PSS: DefaultPSSModes})
	if err != nil {
		f.Fatal(err)
	}
	topdown, err := New(Options{PSS: DefaultPSSModes, Evaluator: EvaluatorTopdown})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, manifest []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "m.yaml"), manifest, 0o644); err != nil {
			t.Fatal(err)
		}
		loaded := load.Load([]string{"m.yaml"}, load.Options{WorkDir: dir, Limits: load.Limits{MaxFileBytes: 1 << 20, MaxNodes: 10_000}})
		want, err := topdown.Evaluate(context.Background(), loaded.Resources, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := plan.Evaluate(context.Background(), loaded.Resources, nil)
		if err != nil {
			t.Fatal(err)
		}
		sameResults(t, "the manifest", want, got)
	})
}

// TestPlanFailureFallsBackToTopdown: where the plan evaluator fails (a bug
// of its own, made here by a plan runner that fails or panics), the
// resource is evaluated with topdown instead, with the same findings, and
// the result says which resource was retried.
func TestPlanFailureFallsBackToTopdown(t *testing.T) {
	loaded := load.Load([]string{"fixtures/plain"}, load.Options{WorkDir: "../"})
	topdown := newEngine(t, Options{PSS: DefaultPSSModes, Evaluator: EvaluatorTopdown})
	want, err := topdown.Evaluate(context.Background(), loaded.Resources, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, run := range map[string]func(context.Context, *vm.Program, *ast.Term, *vm.Data) ([]*ast.Term, error){
		"an error": func(context.Context, *vm.Program, *ast.Term, *vm.Data) ([]*ast.Term, error) {
			return nil, errors.New("injected failure")
		},
		"a panic": func(ctx context.Context, _ *vm.Program, input *ast.Term, data *vm.Data) ([]*ast.Term, error) {
			return runPlan(ctx, nil, input, data) // a nil program panics
		},
	} {
		t.Run(name, func(t *testing.T) {
			plan := newEngine(t, Options{PSS: DefaultPSSModes})
			plan.runPlan = run
			got, err := plan.Evaluate(context.Background(), loaded.Resources, nil)
			if err != nil {
				t.Fatal(err)
			}
			evaluated := 0
			for _, r := range loaded.Resources {
				if plan.group(r.ID().Kind) >= 0 {
					evaluated++
				}
			}
			if len(got.Retried) != evaluated || evaluated == 0 {
				t.Errorf("%d resources retried, want all %d that rules apply to: %v", len(got.Retried), evaluated, got.Retried)
			}
			got.Retried, want.Retried = nil, nil
			sameResults(t, name, want, got)
		})
	}
}
