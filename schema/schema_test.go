package schema_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubegate/kubegate/load"
	"github.com/kubegate/kubegate/schema"
)

// objects loads YAML as kubegate's loader does (int64 and float64
// numbers), from a string.
func objects(t *testing.T, yaml string) []map[string]any {
	t.Helper()
	res := load.Load([]string{"-"}, load.Options{Stdin: strings.NewReader(yaml)})
	if len(res.Errors) > 0 {
		t.Fatalf("loading: %v", res.Errors)
	}
	var out []map[string]any
	for _, r := range res.Resources {
		out = append(out, r.Object)
	}
	return out
}

func catalog(t *testing.T, minor int) *schema.Catalog {
	t.Helper()
	c, err := schema.New(minor)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// problem is a Problem as a line: "unknown|invalid path: message".
func problems(c *schema.Catalog, obj map[string]any) []string {
	ps, _, err := c.Validate(obj)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	var out []string
	for _, p := range ps {
		kind := "invalid"
		if p.Unknown {
			kind = "unknown"
		}
		out = append(out, fmt.Sprintf("%s %s: %s", kind, load.Path(p.Path), p.Message))
	}
	return out
}

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
`

// Each mistake is reported where it is, as the API server would reject it.
func TestBuiltinKinds(t *testing.T) {
	c := catalog(t, 37)
	for _, tc := range []struct {
		name  string
		patch string // appended to the container
		spec  string // appended to the Deployment's spec
		want  string // the one problem, a prefix
	}{
		{name: "typo with suggestion", patch: "resources: {limit: {memory: 64Mi}}",
			want: `unknown spec.template.spec.containers[0].resources.limit: unknown field "limit": did you mean "limits"? Kubernetes v1.37 has no field "limit" here`},
		{name: "case", patch: "ImagePullPolicy: Always", want: `unknown spec.template.spec.containers[0].ImagePullPolicy: unknown field "ImagePullPolicy": did you mean "imagePullPolicy"?`},
		{name: "unknown without suggestion", patch: "flavour: vanilla", want: `unknown spec.template.spec.containers[0].flavour: unknown field "flavour": Kubernetes v1.37 has no such field here`},
		{name: "string for integer", spec: `replicas: "two"`, want: `invalid spec.replicas: spec.replicas must be an integer, not "two"`},
		{name: "float for integer", spec: `replicas: 1.5`, want: `invalid spec.replicas: spec.replicas must be an integer, not the number 1.5`},
		{name: "enum", patch: "imagePullPolicy: Sometimes", want: `invalid spec.template.spec.containers[0].imagePullPolicy: spec.template.spec.containers[0].imagePullPolicy "Sometimes" is not one of "Always", "IfNotPresent", "Never"`},
		{name: "port name for number", patch: "ports: [{containerPort: http}]", want: `invalid spec.template.spec.containers[0].ports[0].containerPort: spec.template.spec.containers[0].ports[0].containerPort must be an integer, not "http"`},
		{name: "number for string", patch: "env: [{name: PORT, value: 8080}]", want: `invalid spec.template.spec.containers[0].env[0].value: spec.template.spec.containers[0].env[0].value must be a string, not the number 8080`},
		{name: "bool for string label", spec: "template: {metadata: {labels: {app: web, canary: true}}, spec: {containers: [{name: web, image: nginx}]}}",
			want: `invalid spec.template.metadata.labels.canary: spec.template.metadata.labels.canary must be a string, not true (true or false)`},
		{name: "quantity", patch: "resources: {requests: {memory: 64mb}}", want: `invalid spec.template.spec.containers[0].resources.requests.memory: spec.template.spec.containers[0].resources.requests.memory must be a quantity`},
		{name: "int-or-string", spec: "strategy: {rollingUpdate: {maxSurge: true}}", want: `invalid spec.strategy.rollingUpdate.maxSurge: spec.strategy.rollingUpdate.maxSurge must be an integer or a string`},
		{name: "required", patch: "env: [{value: x}]", want: `invalid spec.template.spec.containers[0].env[0].name: spec.template.spec.containers[0].env[0].name is required and missing`},
		{name: "metadata", spec: "template: {metadata: {lables: {app: web}}, spec: {containers: [{name: web, image: nginx}]}}", want: `unknown spec.template.metadata.lables: unknown field "lables": did you mean "labels"?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := deployment
			if tc.patch != "" {
				doc += "        " + tc.patch + "\n"
			}
			if tc.spec != "" {
				doc = strings.Replace(doc, "spec:\n  selector", "spec:\n  "+tc.spec+"\n  selector", 1)
				if strings.HasPrefix(tc.spec, "template:") {
					doc = doc[:strings.Index(doc, "  template:\n    metadata: {labels")]
				}
			}
			got := problems(c, objects(t, doc)[0])
			if len(got) != 1 || !strings.HasPrefix(got[0], tc.want) {
				t.Errorf("got %q\nwant one problem starting %q", got, tc.want)
			}
		})
	}
}

// Valid objects of many kinds raise nothing, at every embedded version.
func TestValidObjects(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, minor := range schema.Versions() {
		c := catalog(t, minor)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, obj := range objects(t, string(data)) {
				if got := problems(c, obj); len(got) > 0 {
					t.Errorf("v1.%d %s %v: %q", minor, f, obj["kind"], got)
				}
				if _, known, _ := c.Validate(obj); !known {
					t.Errorf("v1.%d: %s %v has no schema", minor, obj["apiVersion"], obj["kind"])
				}
			}
		}
	}
}

// A cluster older than the oldest embedded schemas uses the oldest; one
// newer than the newest, the newest.
func TestSchemaVersion(t *testing.T) {
	vs := schema.Versions()
	if len(vs) < 9 || vs[0] != 29 || vs[len(vs)-1] != 37 {
		t.Fatalf("embedded versions %v, want 1.29 to 1.37", vs)
	}
	for target, want := range map[int]string{20: "v1.29", 29: "v1.29", 33: "v1.33", 37: "v1.37", 40: "v1.37"} {
		if got := catalog(t, target).SchemaVersion(); got != want {
			t.Errorf("target 1.%d: schemas of %s, want %s", target, got, want)
		}
	}
	// The version matters: resource.k8s.io/v1 is served from 1.34.
	claim := map[string]any{"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": map[string]any{"name": "x"}, "spec": map[string]any{}}
	if _, known, _ := catalog(t, 33).Validate(claim); known {
		t.Error("1.33 knows resource.k8s.io/v1")
	}
	if _, known, _ := catalog(t, 34).Validate(claim); !known {
		t.Error("1.34 does not know resource.k8s.io/v1")
	}
}

const crd = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            x-kubernetes-validations:
            - rule: "!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas"
              message: minReplicas must not exceed maxReplicas
            properties:
              size: {type: string, enum: [small, large]}
              port: {x-kubernetes-int-or-string: true}
              minReplicas: {type: integer, minimum: 0}
              maxReplicas: {type: integer}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
              labels: {type: object, additionalProperties: {type: string}}
`

// Custom resources are validated with their CRD's schema, by the
// apiextensions-apiserver's own code: strict and preserve-unknown fields,
// int-or-string, enums, ranges, required fields and CEL rules.
func TestCustomResources(t *testing.T) {
	c, errs := catalog(t, 37).With(objects(t, crd))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	widget := func(spec string) map[string]any {
		return objects(t, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: "+spec+"\n")[0]
	}
	for _, tc := range []struct {
		spec string
		want []string
	}{
		{`{size: small, port: 80, minReplicas: 1, maxReplicas: 2, extra: {anything: [1, {goes: here}]}, labels: {a: b}}`, nil},
		{`{size: small, port: http}`, nil},
		{`{size: small, colour: red}`, []string{`unknown spec.colour: unknown field "colour": CustomResourceDefinition widgets.example.com has no such field here; the API server rejects it (or, without strict field validation, drops it), so what it holds never takes effect`}},
		{`{size: smal}`, []string{`invalid spec.size: spec.size "smal" is not one of "small", "large"`}},
		{`{port: 80}`, []string{`invalid spec.size: spec.size is required and missing`}},
		{`{size: large, minReplicas: -1}`, []string{`invalid spec.minReplicas: spec.minReplicas should be greater than or equal to 0`}},
		{`{size: large, port: [80]}`, []string{`invalid spec.port: spec.port must be an integer or a string, not a list`}},
		{`{size: large, labels: {a: 1}}`, []string{`invalid spec.labels.a: spec.labels.a must be a string, not the number 1`}},
		{`{size: large, minReplicas: 3, maxReplicas: 2}`, []string{`invalid spec: spec: minReplicas must not exceed maxReplicas (a rule of its CustomResourceDefinition)`}},
	} {
		got := problems(c, widget(tc.spec))
		if !slices.Equal(got, tc.want) {
			t.Errorf("spec %s:\n got %q\nwant %q", tc.spec, got, tc.want)
		}
	}
	// Metadata is checked as the API server checks any object's.
	w := objects(t, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, label: {a: b}}\nspec: {size: small}\n")[0]
	if got := problems(c, w); len(got) != 1 || !strings.Contains(got[0], `unknown field "label": did you mean "labels"?`) {
		t.Errorf("metadata typo: %q", got)
	}
	// Other versions and kinds of the group are unknown.
	if _, known, _ := c.Validate(map[string]any{"apiVersion": "example.com/v2", "kind": "Widget"}); known {
		t.Error("example.com/v2 Widget is known")
	}
}

// --schema DIR: CRD files and <group>/<kind>_<version>.json schemas.
func TestSchemaDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("crds/widgets.yaml", "# the Widget CRD\n---"+crd)
	write("cert-manager.io/certificate_v1.json", `{"type": "object", "properties": {"spec": {"type": "object", "properties": {"secretName": {"type": "string"}, "dnsNames": {"type": "array", "items": {"type": "string"}}}}}}`)
	write("README.md", "not a schema")
	c, errs := catalog(t, 37).WithFS(os.DirFS(dir), "schemas")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	cert := objects(t, "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: c}\nspec: {secretName: tls, dnsName: [a.example.com]}\n")[0]
	if got := problems(c, cert); len(got) != 1 || !strings.Contains(got[0], `unknown field "dnsName": did you mean "dnsNames"? cert-manager.io/certificate_v1.json has no field`) {
		t.Errorf("certificate: %q", got)
	}
	if _, known, _ := c.Validate(map[string]any{"apiVersion": "example.com/v1", "kind": "Widget", "spec": map[string]any{"size": "small"}}); !known {
		t.Error("the CRD file's Widget is unknown")
	}
	write("bad/broken.yaml", "kind: CustomResourceDefinition\napiVersion: apiextensions.k8s.io/v1\nspec: [\n")
	if _, errs := catalog(t, 37).WithFS(os.DirFS(dir), "schemas"); len(errs) != 1 || !strings.Contains(errs[0].Error(), "schemas/bad/broken.yaml") {
		t.Errorf("broken file: %v", errs)
	}
}

// The lifecycle table is the upstream markers'.
func TestLifecycle(t *testing.T) {
	for _, tc := range []struct {
		apiVersion, kind string
		want             schema.APILifecycle
	}{
		{"policy/v1beta1", "PodDisruptionBudget", schema.APILifecycle{Introduced: 5, Deprecated: 21, Removed: 25, Replacement: "policy/v1"}},
		{"extensions/v1beta1", "Ingress", schema.APILifecycle{Introduced: 1, Deprecated: 14, Removed: 22, Replacement: "networking.k8s.io/v1"}},
		{"autoscaling/v2beta2", "HorizontalPodAutoscaler", schema.APILifecycle{Introduced: 12, Deprecated: 23, Removed: 26, Replacement: "autoscaling/v2"}},
		{"apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", schema.APILifecycle{Introduced: 7, Deprecated: 16, Removed: 22, Replacement: "apiextensions.k8s.io/v1"}},
		{"networking.k8s.io/v1beta1", "IngressClass", schema.APILifecycle{Introduced: 18, Deprecated: 19, Removed: 22, Replacement: "networking.k8s.io/v1"}},
	} {
		if got := schema.Lifecycle()[tc.apiVersion][tc.kind]; got != tc.want {
			t.Errorf("%s %s: %+v, want %+v", tc.apiVersion, tc.kind, got, tc.want)
		}
	}
	// What Helm's .Capabilities.APIVersions holds for a cluster.
	for _, tc := range []struct {
		minor int
		has   []string
		not   []string
	}{
		{22, []string{"policy/v1beta1", "policy/v1/PodDisruptionBudget", "autoscaling/v2beta2", "apiregistration.k8s.io/v1"}, []string{"extensions/v1beta1/Ingress", "autoscaling/v2"}},
		{37, []string{"apps/v1/Deployment", "autoscaling/v2", "apiregistration.k8s.io/v1/APIService", "resource.k8s.io/v1"}, []string{"policy/v1beta1", "autoscaling/v2beta2/HorizontalPodAutoscaler", "batch/v1/CronJobList"}},
	} {
		served := schema.ServedAPIVersions(tc.minor)
		for _, v := range tc.has {
			if !slices.Contains(served, v) {
				t.Errorf("1.%d does not serve %s", tc.minor, v)
			}
		}
		for _, v := range tc.not {
			if slices.Contains(served, v) {
				t.Errorf("1.%d serves %s", tc.minor, v)
			}
		}
	}
}
