package load

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// writeMonorepo writes bases shared bases (a Deployment, a Service, a
// ConfigMap and an HPA each, with a component) and perBase overlays of
// each (a namespace, a name prefix, an image tag, a strategic-merge and a
// JSON 6902 patch): the layout of a platform team's monorepo.
func writeMonorepo(tb testing.TB, dir string, bases, perBase int) []string {
	tb.Helper()
	put := func(p, s string) { writeFile(tb, dir, p, s) }
	var overlays []string
	for b := range bases {
		app := fmt.Sprintf("app%d", b)
		put(app+"/base/kustomization.yaml", "resources: [deployment.yaml, service.yaml, hpa.yaml]\nconfigMapGenerator:\n  - name: "+app+"\n    literals: [LEVEL=info]\ncomponents: [../monitoring]\n")
		put(app+"/base/deployment.yaml", fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  labels: {app: %[1]s}
spec:
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      containers:
        - name: %[1]s
          image: registry.example.com/%[1]s:1.0.0
          ports: [{containerPort: 8080, name: http}]
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 128Mi}
          envFrom: [{configMapRef: {name: %[1]s}}]
`, app))
		put(app+"/base/service.yaml", fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %[1]s\nspec:\n  selector: {app: %[1]s}\n  ports: [{port: 80, targetPort: http}]\n", app))
		put(app+"/base/hpa.yaml", fmt.Sprintf("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: %[1]s\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: %[1]s}\n  minReplicas: 2\n  maxReplicas: 6\n  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]\n", app))
		put(app+"/monitoring/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonAnnotations:\n  prometheus.io/scrape: \"true\"\n")
		for o := range perBase {
			name := fmt.Sprintf("%s/overlays/env%d", app, o)
			put(name+"/kustomization.yaml", fmt.Sprintf(`namespace: env%[1]d
namePrefix: env%[1]d-
resources: [../../base]
images:
  - name: registry.example.com/%[2]s
    newTag: 1.0.%[1]d
patches:
  - path: replicas.yaml
  - target: {kind: Deployment}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/env
        value: [{name: ENV, value: env%[1]d}]
`, o, app))
			put(name+"/replicas.yaml", fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\nspec:\n  template:\n    spec:\n      containers:\n        - name: %s\n          resources: {limits: {cpu: 500m}}\n", app, app))
			overlays = append(overlays, name)
		}
	}
	return overlays
}

// BenchmarkMonorepo renders 300 overlays over 10 shared bases: with
// kubegate's loader (kustomize, provenance, decoding), and with krusty
// alone from scratch for each overlay, the floor a cache of parsed bases
// would have to beat (issue 18).
func BenchmarkMonorepo(b *testing.B) {
	dir := b.TempDir()
	overlays := writeMonorepo(b, dir, 10, 30)
	b.Run("kubegate", func(b *testing.B) {
		for b.Loop() {
			res := Load(overlays, Options{WorkDir: dir})
			if len(res.Errors) > 0 || len(res.Resources) != 300*4 {
				b.Fatalf("%d resources, errors %v", len(res.Resources), res.Errors)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(len(overlays)), "µs/overlay")
	})
	b.Run("krusty", func(b *testing.B) {
		fsys := filesys.MakeFsOnDisk()
		for b.Loop() {
			for _, o := range overlays {
				m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, filepath.Join(dir, o))
				if err != nil || m.Size() != 4 {
					b.Fatalf("%s: %v", o, err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(len(overlays)), "µs/overlay")
	})
	// krusty asked for origin annotations, as kubegate asks: kustomize then
	// also records every transformer on every resource (as an annotation
	// it parses and writes again each time), the cost of tracing findings
	// through kustomize.
	b.Run("krusty-origins", func(b *testing.B) {
		for b.Loop() {
			for _, o := range overlays {
				fsys := originFS{FileSystem: filesys.MakeFsOnDisk(), top: filepath.Join(dir, o, "kustomization.yaml")}
				m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, filepath.Join(dir, o))
				if err != nil || m.Size() != 4 {
					b.Fatalf("%s: %v", o, err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(len(overlays)), "µs/overlay")
	})
}

// writeFile writes text to name ("/"-separated) under dir, making its
// directories.
func writeFile(tb testing.TB, dir, name, text string) {
	tb.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// originFS asks for origin annotations in the kustomization top.
type originFS struct {
	filesys.FileSystem
	top string
}

func (f originFS) ReadFile(p string) ([]byte, error) {
	data, err := f.FileSystem.ReadFile(p)
	if err != nil || filepath.Clean(p) != f.top {
		return data, err
	}
	return withOriginAnnotations(data)
}
