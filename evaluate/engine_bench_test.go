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
