package baseline

import (
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/load"
)

func f(rule, apiVersion, name, field, file string, line int) finding.Finding {
	return finding.Finding{
		Rule: rule, Severity: finding.Error, Field: field,
		Resource: finding.Resource{APIVersion: apiVersion, Kind: "Deployment", Namespace: "prod", Name: name},
		Location: finding.Location{File: file, Line: line},
	}
}

// Identity is rule, resource and field: not the line, not the file, not
// the API version within a group; equal findings match by count.
func TestClassify(t *testing.T) {
	base := &finding.Report{Findings: []finding.Finding{
		f("pss.privileged", "apps/v1", "web", "spec.template.spec.containers[0].securityContext.privileged", "a.yaml", 10),
		f("resources.cpu-limit-missing", "apps/v1", "web", "spec.template.spec.containers[0]", "a.yaml", 12),
		f("resources.cpu-limit-missing", "apps/v1", "web", "spec.template.spec.containers[0]", "a.yaml", 12),
		f("pss.hostNamespaces", "apps/v1", "api", "spec.template.spec.hostNetwork", "b.yaml", 5),
	}}
	head := &finding.Report{Findings: []finding.Finding{
		// Moved to another line and file: existing.
		f("pss.privileged", "apps/v1", "web", "spec.template.spec.containers[0].securityContext.privileged", "renamed.yaml", 40),
		// Three where there were two: one new.
		f("resources.cpu-limit-missing", "apps/v1", "web", "spec.template.spec.containers[0]", "a.yaml", 12),
		f("resources.cpu-limit-missing", "apps/v1", "web", "spec.template.spec.containers[0]", "a.yaml", 13),
		f("resources.cpu-limit-missing", "apps/v1", "web", "spec.template.spec.containers[0]", "a.yaml", 14),
		// Another field of the same rule and resource: new.
		f("pss.privileged", "apps/v1", "web", "spec.template.spec.initContainers[0].securityContext.privileged", "a.yaml", 20),
		// Another group is another resource: new.
		f("pss.privileged", "example.com/v1", "web", "spec.template.spec.containers[0].securityContext.privileged", "a.yaml", 10),
	}}
	head.Findings[0].Resource.APIVersion = "apps/v1beta2" // same group: same resource
	Classify(head, base)
	var got []string
	for _, x := range head.Findings {
		got = append(got, x.Baseline)
	}
	want := []string{"existing", "existing", "existing", "new", "new", "new"}
	if !slices.Equal(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
	if len(head.Fixed) != 1 || head.Fixed[0].Rule != "pss.hostNamespaces" || head.Fixed[0].Baseline != "" {
		t.Errorf("fixed %+v, want the api Deployment's hostNetwork", head.Fixed)
	}
	head.Normalize()
	if c := head.Summary.BaselineCounts; c == nil || c.New != 3 || c.Existing != 3 || c.Fixed != 1 {
		t.Errorf("counts %+v", c)
	}
	if Gate(head, false) != finding.Error {
		t.Error("new errors must gate")
	}

	// Against itself: nothing new, nothing fixed.
	same := &finding.Report{Findings: slices.Clone(base.Findings)}
	Classify(same, base)
	for _, x := range same.Findings {
		if x.Baseline != finding.BaselineExisting {
			t.Errorf("against itself: %s is %s", x.Rule, x.Baseline)
		}
	}
	if len(same.Fixed) != 0 || Gate(same, false) != finding.SeverityNone || Gate(same, true) != finding.Error {
		t.Errorf("against itself: fixed %v, gate %v, gate on all %v", same.Fixed, Gate(same, false), Gate(same, true))
	}
}

func resources(t *testing.T, docs ...string) []*load.Resource {
	t.Helper()
	var out []*load.Resource
	for _, d := range docs {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(d), &obj); err != nil {
			t.Fatal(err)
		}
		out = append(out, &load.Resource{Object: obj, Unit: "app"})
	}
	return out
}

// containers are the Deployment's containers, which TestChanges reorders.
const containers = `        - name: web
          image: web:1
          env:
            - {name: A, value: "1"}
            - {name: B, value: "2"}
          ports:
            - {containerPort: 8080}
        - name: sidecar
          image: proxy:1
`

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
  annotations:
    config.kubernetes.io/origin: "path: base/deployment.yaml"
    team: shop
spec:
  replicas: 2
  template:
    spec:
      containers:
` + containers + `      volumes:
        - {name: data, emptyDir: {}}
`

func changed(cs []finding.Change) map[string]string {
	m := map[string]string{}
	for _, c := range cs {
		m[c.Change+" "+c.Resource.Kind+"/"+c.Resource.Name] = strings.Join(c.Fields, ",")
	}
	return m
}

func TestChanges(t *testing.T) {
	// Reordered containers and env, a changed image, bookkeeping
	// annotations changed: only the image and the new env entry differ.
	head := strings.NewReplacer(
		containers, `        - name: sidecar
          image: proxy:1
        - name: web
          image: web:2
          env:
            - {name: B, value: "2"}
            - {name: A, value: "1"}
            - {name: C, value: "3"}
          ports:
            - {containerPort: 8080}
`,
		`config.kubernetes.io/origin: "path: base/deployment.yaml"`, `config.kubernetes.io/origin: "path: overlays/prod/deployment.yaml"`,
	).Replace(deployment)
	got := changed(Changes(resources(t, head), resources(t, deployment)))
	want := map[string]string{"modified Deployment/web": "spec.template.spec.containers[1].env[2],spec.template.spec.containers[1].image"}
	if !mapsEqual(got, want) {
		t.Errorf("changes %v, want %v", got, want)
	}

	// Moving to another version of the same API is a modification; a
	// resource renamed is one removed and one added.
	moved := strings.Replace(deployment, "apps/v1", "apps/v1beta2", 1)
	renamed := strings.Replace(deployment, "name: web\n  namespace", "name: web2\n  namespace", 1)
	got = changed(Changes(resources(t, moved, renamed), resources(t, deployment)))
	want = map[string]string{"modified Deployment/web": "apiVersion", "added Deployment/web2": ""}
	if !mapsEqual(got, want) {
		t.Errorf("changes %v, want %v", got, want)
	}
	got = changed(Changes(resources(t), resources(t, deployment)))
	if !mapsEqual(got, map[string]string{"removed Deployment/web": ""}) {
		t.Errorf("removed: %v", got)
	}
	if got := Changes(resources(t, deployment), resources(t, deployment)); len(got) != 0 {
		t.Errorf("no change: %v", got)
	}
}

// A Secret's values are never carried: only which keys changed.
func TestSecretValuesHidden(t *testing.T) {
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ndata: {password: c2VjcmV0MQ==}\nstringData: {token: first}\ntype: Opaque\n"
	head := strings.NewReplacer("c2VjcmV0MQ==", "c2VjcmV0Mg==", "first", "second", "Opaque", "kubernetes.io/basic-auth").Replace(secret)
	cs := Changes(resources(t, head), resources(t, secret))
	if len(cs) != 1 {
		t.Fatalf("changes %v", cs)
	}
	for _, v := range cs[0].Values {
		switch v.Field {
		case "data.password", "stringData.token":
			if !v.Hidden || v.Before != "" || v.After != "" {
				t.Errorf("%s shows a Secret's value: %+v", v.Field, v)
			}
		case "type":
			if v.Hidden || v.Before != "Opaque" {
				t.Errorf("type: %+v", v)
			}
		default:
			t.Errorf("unexpected field %+v", v)
		}
	}
	// A ConfigMap's values are shown.
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {level: info}\n"
	cs = Changes(resources(t, strings.Replace(cm, "info", "debug", 1)), resources(t, cm))
	if len(cs) != 1 || len(cs[0].Values) != 1 || cs[0].Values[0].Before != "info" || cs[0].Values[0].After != "debug" {
		t.Errorf("ConfigMap change: %+v", cs)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// The same name in two units is two resources; a unit renamed keeps its
// resources' identity.
func TestChangesPairByUnit(t *testing.T) {
	inUnit := func(unit, doc string) *load.Resource {
		r := resources(t, doc)[0]
		r.Unit = unit
		return r
	}
	other := strings.Replace(deployment, "image: web:1", "image: web:9", 1)
	base := []*load.Resource{inUnit("release/all.yaml", other), inUnit("kustomize/base", deployment)}
	head := []*load.Resource{inUnit("kustomize/base", deployment), inUnit("release/all.yaml", other)}
	if got := Changes(head, base); len(got) != 0 {
		t.Errorf("unchanged resources of two units compared across them: %v", changed(got))
	}
	// The release file renamed: paired by identity, unchanged.
	head = []*load.Resource{inUnit("kustomize/base", deployment), inUnit("release/v2.yaml", other)}
	if got := Changes(head, base); len(got) != 0 {
		t.Errorf("a renamed file: %v", changed(got))
	}
	// One of them edited: that one only, in its unit.
	head = []*load.Resource{inUnit("kustomize/base", strings.Replace(deployment, "replicas: 2", "replicas: 5", 1)), inUnit("release/all.yaml", other)}
	got := Changes(head, base)
	if len(got) != 1 || got[0].Unit != "kustomize/base" || strings.Join(got[0].Fields, ",") != "spec.replicas" {
		t.Errorf("one edited: %+v", got)
	}
}
