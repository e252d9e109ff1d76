package evaluate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubegate/kubegate/load"
)

const benchDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: app%d, namespace: team}
spec:
  replicas: 2
  template:
    spec:
      hostNetwork: true
      containers:
        - name: main
          image: registry.example.com/app:1.0
          securityContext: {privileged: true}
          resources: {requests: {memory: 64Mi}}
        - name: sidecar
          image: registry.example.com/proxy:1.31
          resources: {}
      volumes:
        - name: tmp
          hostPath: {path: /tmp}
`

const benchConfigMap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d, namespace: team}\ndata: {a: b}\n"

// BenchmarkEvaluate measures policy evaluation alone, per kind of resource
// and evaluator (the plan evaluator, the default, and OPA's topdown).
func BenchmarkEvaluate(b *testing.B) {
	for _, kind := range []string{"Deployment", "ConfigMap"} {
		tmpl := map[string]string{"Deployment": benchDeployment, "ConfigMap": benchConfigMap}[kind]
		for _, ev := range []Evaluator{EvaluatorPlan, EvaluatorTopdown} {
			b.Run(kind+"/"+string(ev), func(b *testing.B) {
				dir := b.TempDir()
				var docs []string
				for i := range 1000 {
					docs = append(docs, fmt.Sprintf(tmpl, i))
				}
				os.WriteFile(filepath.Join(dir, "r.yaml"), []byte(strings.Join(docs, "---\n")), 0o644)
				res := load.Load([]string{"r.yaml"}, load.Options{WorkDir: dir})
				e, err := New(Options{PSS: DefaultPSSModes, Evaluator: ev})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := e.Evaluate(context.Background(), res.Resources, nil); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000/1000, "µs/resource")
			})
		}
	}
}

// BenchmarkTables measures what an evaluation does before its resources
// are evaluated, on one goroutine: data.kubegate.resources (planData) and
// the lookup tables (buildCache), for 2,000 apps of five resources each
// (a Deployment, its Service, ConfigMap, HPA and PodDisruptionBudget) in
// 20 namespaces, as in the yardstick. Every core but one waits meanwhile.
func BenchmarkTables(b *testing.B) {
	dir := b.TempDir()
	var docs []string
	for i := range 2000 {
		docs = append(docs, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: app%[1]d, namespace: team%[2]d, labels: {app: app%[1]d}}
spec:
  selector: {matchLabels: {app: app%[1]d}}
  template:
    metadata: {labels: {app: app%[1]d, tier: backend}}
    spec: {containers: [{name: main, image: registry.example.com/app%[1]d:1.0.0, resources: {requests: {cpu: 100m}}}]}
---
apiVersion: v1
kind: Service
metadata: {name: app%[1]d, namespace: team%[2]d}
spec: {selector: {app: app%[1]d}, ports: [{port: 80}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app%[1]d, namespace: team%[2]d}
data: {LOG_LEVEL: info}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: app%[1]d, namespace: team%[2]d}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: app%[1]d}, minReplicas: 2, maxReplicas: 5}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: app%[1]d, namespace: team%[2]d}
spec: {minAvailable: 1, selector: {matchLabels: {app: app%[1]d}}}
`, i, i%20))
	}
	if err := os.WriteFile(filepath.Join(dir, "r.yaml"), []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		b.Fatal(err)
	}
	res := load.Load([]string{"r.yaml"}, load.Options{WorkDir: dir})
	if len(res.Resources) != 10000 {
		b.Fatalf("%d resources, errors %v", len(res.Resources), res.Errors)
	}
	e, err := New(Options{PSS: DefaultPSSModes})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		values := newMadeValues()
		data, err := e.planData(res.Resources, values, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := e.buildCache(context.Background(), nil, data, values); err != nil {
			b.Fatal(err)
		}
	}
}
