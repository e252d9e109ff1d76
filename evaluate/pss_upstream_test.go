package evaluate_test

// The Pod Security checks are kubegate's Rego; these tests hold them to the
// upstream evaluator, k8s.io/pod-security-admission (a test-only
// dependency), verdict for verdict: for every upstream fixture and for
// random pods, at every level and version, across workload kinds, the set
// of pss.* rules that kubegate reports as errors (enforce = that
// level:version) equals the set of checks upstream fails.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"

	"github.com/kubegate/kubegate/evaluate"
	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/load"
)

var (
	pssRandom = flag.Int("pss.random", 3000, "random pods in the differential test")
	pssSeed   = flag.Uint64("pss.seed", 20261203, "seed of the differential test (0: a fresh one, printed; exploration is the fuzzers' job)")
)

// upstream computes the failing checks as the admission controller's
// registry does: per check the newest versioned check at or below the
// version, the restricted level also running the baseline checks that no
// restricted check overrides.
type upstream struct {
	checks    []policy.Check
	evaluator policy.Evaluator
}

func newUpstream(t testing.TB) *upstream {
	checks := policy.DefaultChecks()
	ev, err := policy.NewEvaluator(checks, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &upstream{checks: checks, evaluator: ev}
}

func (u *upstream) failing(t testing.TB, level api.Level, minor int, meta *metav1.ObjectMeta, spec *corev1.PodSpec) []string {
	if level == api.LevelPrivileged {
		return nil
	}
	version := api.MajorMinorVersion(1, minor)
	selected := map[policy.CheckID]policy.VersionedCheck{}
	overridden := map[policy.CheckID]bool{}
	for _, c := range u.checks {
		if c.Level == api.LevelRestricted && level != api.LevelRestricted {
			continue
		}
		var pick *policy.VersionedCheck
		for i := range c.Versions {
			if !version.Older(c.Versions[i].MinimumVersion) {
				pick = &c.Versions[i]
			}
		}
		if pick == nil {
			continue
		}
		selected[c.ID] = *pick
		for _, o := range pick.OverrideCheckIDs {
			overridden[o] = true
		}
	}
	var out []string
	for id, vc := range selected {
		if overridden[id] {
			continue
		}
		if r := vc.CheckPod(meta, spec); !r.Allowed {
			out = append(out, "pss."+string(id))
		}
	}
	slices.Sort(out)
	// Cross-check against the upstream evaluator's aggregate verdict.
	agg := policy.AggregateCheckResults(u.evaluator.EvaluatePod(api.LevelVersion{Level: level, Version: version}, meta, spec))
	if agg.Allowed != (len(out) == 0) {
		t.Fatalf("per-check verdict %v disagrees with EvaluatePod (allowed=%v) at %s:v1.%d", out, agg.Allowed, level, minor)
	}
	return out
}

// podCase is one pod to compare: its object, wrapped into a workload kind
// for kubegate, and the level and version to compare at.
type podCase struct {
	name  string
	pod   map[string]any
	kind  string
	level api.Level
	minor int
}

var kinds = []string{"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "PodTemplate"}

// wrap puts a pod's metadata and spec where a workload kind keeps them.
func wrap(kind string, pod map[string]any, name string) map[string]any {
	meta, _ := pod["metadata"].(map[string]any)
	tmplMeta := map[string]any{}
	for k, v := range meta {
		if k != "name" && k != "namespace" {
			tmplMeta[k] = v
		}
	}
	template := map[string]any{"metadata": tmplMeta, "spec": pod["spec"]}
	obj := map[string]any{"kind": kind, "metadata": map[string]any{"name": name, "namespace": "test"}}
	switch kind {
	case "Pod":
		obj["apiVersion"] = "v1"
		m := map[string]any{"name": name, "namespace": "test"}
		for k, v := range tmplMeta {
			m[k] = v
		}
		obj["metadata"], obj["spec"] = m, pod["spec"]
	case "PodTemplate":
		obj["apiVersion"], obj["template"] = "v1", template
	case "ReplicationController":
		obj["apiVersion"], obj["spec"] = "v1", map[string]any{"template": template}
	case "Job":
		obj["apiVersion"], obj["spec"] = "batch/v1", map[string]any{"template": template}
	case "CronJob":
		obj["apiVersion"], obj["spec"] = "batch/v1", map[string]any{"schedule": "@daily", "jobTemplate": map[string]any{"spec": map[string]any{"template": template}}}
	default:
		obj["apiVersion"], obj["spec"] = "apps/v1", map[string]any{"template": template}
	}
	return obj
}

// compare evaluates every case with kubegate (grouped by level and version,
// one engine each) and with upstream, and reports every disagreement.
func compare(t *testing.T, u *upstream, cases []podCase, hint string) map[string]int {
	t.Helper()
	seen := map[string]int{} // upstream failures per check
	groups := map[string][]int{}
	for i, c := range cases {
		key := fmt.Sprintf("%s:%d", c.level, c.minor)
		groups[key] = append(groups[key], i)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	mismatches := 0
	for _, key := range keys {
		idx := groups[key]
		c0 := cases[idx[0]]
		lv, err := evaluate.ParseLevelVersion(fmt.Sprintf("%s:v1.%d", c0.level, c0.minor))
		if err != nil {
			t.Fatal(err)
		}
		priv := evaluate.LevelVersion{Level: evaluate.Privileged, Minor: -1}
		e, err := evaluate.New(evaluate.Options{PSS: evaluate.PSSModes{Enforce: lv, Warn: priv, Audit: priv}})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		var docs []string
		for _, i := range idx {
			b, err := json.Marshal(wrap(cases[i].kind, cases[i].pod, "r"+strconv.Itoa(i)))
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, string(b))
		}
		if err := os.WriteFile(filepath.Join(dir, "pods.yaml"), []byte(strings.Join(docs, "\n---\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		loaded := load.Load([]string{"pods.yaml"}, load.Options{WorkDir: dir})
		if len(loaded.Errors) > 0 || len(loaded.Resources) != len(idx) {
			t.Fatalf("%s: loading %d pods: %v", key, len(idx), loaded.Errors)
		}
		res, err := e.Evaluate(context.Background(), loaded.Resources, nil)
		if err != nil || len(res.Errors) > 0 {
			t.Fatalf("%s: %v %v", key, err, res.Errors)
		}
		got := map[string][]string{}
		for _, f := range res.Findings {
			if strings.HasPrefix(f.Rule, "pss.") && f.Severity == finding.Error {
				got[f.Resource.Name] = append(got[f.Resource.Name], f.Rule)
			}
		}
		for _, i := range idx {
			c := cases[i]
			var pod corev1.Pod
			b, _ := json.Marshal(c.pod)
			if err := json.Unmarshal(b, &pod); err != nil {
				t.Fatalf("%s: not a pod: %v", c.name, err)
			}
			want := u.failing(t, c.level, c.minor, &pod.ObjectMeta, &pod.Spec)
			for _, id := range want {
				seen[id]++
			}
			have := got["r"+strconv.Itoa(i)]
			slices.Sort(have)
			if !slices.Equal(have, want) {
				mismatches++
				if mismatches <= 20 {
					t.Errorf("%s as %s at %s: kubegate fails %v, upstream fails %v\npod: %s", c.name, c.kind, key, have, want, b)
				}
			}
		}
	}
	if mismatches > 0 {
		t.Errorf("%d of %d cases disagree with upstream%s", mismatches, len(cases), hint)
	}
	return seen
}

var moduleDir = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/pod-security-admission").Output()
	return strings.TrimSpace(string(out)), err
})

// TestPSSUpstreamFixtures runs every fixture of upstream's test/testdata
// (every level, every version, pass and fail), each as a rotating workload
// kind.
func TestPSSUpstreamFixtures(t *testing.T) {
	dir, err := moduleDir()
	if err != nil || dir == "" {
		t.Fatalf("locating k8s.io/pod-security-admission: %v", err)
	}
	root := filepath.Join(dir, "test", "testdata")
	var cases []podCase
	for _, level := range []api.Level{api.LevelBaseline, api.LevelRestricted} {
		versions, err := os.ReadDir(filepath.Join(root, string(level)))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range versions {
			minor, err := strconv.Atoi(strings.TrimPrefix(v.Name(), "v1."))
			if err != nil {
				continue
			}
			for _, outcome := range []string{"pass", "fail"} {
				files, _ := filepath.Glob(filepath.Join(root, string(level), v.Name(), outcome, "*.yaml"))
				for _, f := range files {
					data, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					var pod map[string]any
					if err := yaml.Unmarshal(data, &pod); err != nil {
						t.Fatalf("%s: %v", f, err)
					}
					rel, _ := filepath.Rel(root, f)
					cases = append(cases, podCase{name: rel, pod: pod, kind: kinds[len(cases)%len(kinds)], level: level, minor: minor})
				}
			}
		}
	}
	if len(cases) < 4000 {
		t.Fatalf("only %d fixtures found under %s", len(cases), root)
	}
	t.Logf("%d upstream fixtures", len(cases))
	_ = compare(t, newUpstream(t), cases, "")
}

// TestPSSDifferential compares random pods (seeded; -pss.seed reproduces a
// run, -pss.random sets how many) at random levels, versions and kinds.
func TestPSSDifferential(t *testing.T) {
	seed := *pssSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	r := rand.New(rand.NewPCG(seed, seed))
	var cases []podCase
	for i := range *pssRandom {
		level := api.LevelBaseline
		if r.IntN(2) == 0 {
			level = api.LevelRestricted
		}
		cases = append(cases, podCase{name: fmt.Sprintf("random pod %d", i), pod: randomPod(r), kind: kinds[r.IntN(len(kinds))], level: level, minor: r.IntN(evaluate.NewestPolicyMinor + 1)})
	}
	seen := compare(t, newUpstream(t), cases, fmt.Sprintf(" (reproduce with -pss.seed=%d)", seed))
	// The generator must reach every check, or agreement proves little.
	if *pssRandom >= 1000 {
		for _, c := range policy.DefaultChecks() {
			if seen["pss."+string(c.ID)] == 0 {
				t.Errorf("no random pod failed upstream's %s check: the generator does not exercise it", c.ID)
			}
		}
	}
	t.Logf("seed %d: upstream failures per check: %v", seed, seen)
}

// FuzzPSSDifferential lets `go test -fuzz` drive the comparison: the input
// seeds the random pod, level, version and kind.
func FuzzPSSDifferential(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Add(uint64(42), uint64(7))
	u := newUpstream(f)
	f.Fuzz(func(t *testing.T, a, b uint64) {
		r := rand.New(rand.NewPCG(a, b))
		level := api.LevelBaseline
		if r.IntN(2) == 0 {
			level = api.LevelRestricted
		}
		c := podCase{name: "fuzz pod", pod: randomPod(r), kind: kinds[r.IntN(len(kinds))], level: level, minor: r.IntN(evaluate.NewestPolicyMinor + 1)}
		_ = compare(t, u, []podCase{c}, fmt.Sprintf(" (inputs %d, %d)", a, b))
	})
}

// randomPod draws a pod from the values each check cares about, valid for
// the API's types, often enough absent to exercise defaults.
func randomPod(r *rand.Rand) map[string]any {
	pick := func(xs ...any) any { return xs[r.IntN(len(xs))] }
	maybe := func(m map[string]any, k string, vs ...any) {
		if v := pick(append([]any{nil, nil}, vs...)...); v != nil {
			m[k] = v
		}
	}
	seLinux := func() any {
		o := map[string]any{}
		maybe(o, "type", "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t", "spc_t", "unconfined_t")
		maybe(o, "user", "", "system_u", "root")
		maybe(o, "role", "", "system_r", "object_r")
		maybe(o, "level", "", "s0:c1,c2")
		return o
	}
	seccomp := func() any {
		o := map[string]any{}
		maybe(o, "type", "RuntimeDefault", "Localhost", "Unconfined")
		if o["type"] == "Localhost" && r.IntN(2) == 0 {
			o["localhostProfile"] = "profiles/p.json"
		}
		return o
	}
	appArmor := func() any {
		o := map[string]any{}
		maybe(o, "type", "RuntimeDefault", "Localhost", "Unconfined")
		if o["type"] == "Localhost" {
			o["localhostProfile"] = "k8s-profile"
		}
		return o
	}
	caps := []any{"ALL", "NET_BIND_SERVICE", "CHOWN", "SYS_ADMIN", "NET_RAW", "KILL", "SYS_TIME", "all", "CAP_CHOWN", "AUDIT_WRITE", "SETUID"}
	capList := func() []any {
		var out []any
		for range r.IntN(3) {
			out = append(out, pick(caps...))
		}
		return out
	}
	windows := func() any {
		o := map[string]any{}
		maybe(o, "hostProcess", true, false)
		return o
	}
	handler := func() any {
		switch r.IntN(4) {
		case 0:
			return map[string]any{"httpGet": map[string]any{"port": 8080, "host": pick("", "127.0.0.1", "example.com")}}
		case 1:
			return map[string]any{"tcpSocket": map[string]any{"port": 8080, "host": pick("", "localhost", "10.0.0.1")}}
		case 2:
			return map[string]any{"exec": map[string]any{"command": []any{"true"}}}
		}
		return map[string]any{"httpGet": map[string]any{"port": 8080}}
	}
	names := []string{"a", "b", "c", "d", "e", "f"}
	n := 0
	annotations := map[string]any{}
	container := func() map[string]any {
		name := names[n%len(names)]
		n++
		c := map[string]any{"name": name, "image": "registry.example.com/x:1"}
		sc := map[string]any{}
		maybe(sc, "privileged", true, false)
		maybe(sc, "allowPrivilegeEscalation", true, false)
		maybe(sc, "runAsNonRoot", true, false)
		maybe(sc, "runAsUser", int64(0), int64(1000))
		maybe(sc, "procMount", "Default", "Unmasked")
		maybe(sc, "seccompProfile", seccomp())
		maybe(sc, "seLinuxOptions", seLinux())
		maybe(sc, "appArmorProfile", appArmor())
		maybe(sc, "windowsOptions", windows())
		if r.IntN(3) > 0 {
			cp := map[string]any{}
			if l := capList(); l != nil {
				cp["add"] = l
			}
			if r.IntN(2) == 0 {
				cp["drop"] = pick([]any{"ALL"}, []any{"all"}, []any{"NET_RAW"}, []any{"NET_RAW", "ALL"}, []any{})
			}
			sc["capabilities"] = cp
		}
		if len(sc) > 0 || r.IntN(3) == 0 {
			c["securityContext"] = sc
		}
		if r.IntN(3) == 0 {
			c["ports"] = []any{map[string]any{"containerPort": 80, "hostPort": pick(0, 80, 8080)}}
		}
		for _, p := range []string{"livenessProbe", "readinessProbe", "startupProbe"} {
			if r.IntN(5) == 0 {
				c[p] = handler()
			}
		}
		if r.IntN(5) == 0 {
			c["lifecycle"] = map[string]any{pick("postStart", "preStop").(string): handler()}
		}
		if r.IntN(5) == 0 {
			annotations["container.apparmor.security.beta.kubernetes.io/"+name] = pick("runtime/default", "localhost/p", "unconfined", "")
		}
		if r.IntN(6) == 0 {
			annotations["container.seccomp.security.alpha.kubernetes.io/"+name] = pick("runtime/default", "docker/default", "localhost/p", "unconfined")
		}
		return c
	}
	spec := map[string]any{}
	for _, k := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		maybe(spec, k, true, false)
	}
	maybe(spec, "hostUsers", true, false)
	maybe(spec, "os", map[string]any{"name": "windows"}, map[string]any{"name": "linux"})
	psc := map[string]any{}
	maybe(psc, "runAsNonRoot", true, false)
	maybe(psc, "runAsUser", int64(0), int64(1000))
	maybe(psc, "seccompProfile", seccomp())
	maybe(psc, "seLinuxOptions", seLinux())
	maybe(psc, "appArmorProfile", appArmor())
	maybe(psc, "windowsOptions", windows())
	if r.IntN(4) == 0 {
		var sysctls []any
		for range 1 + r.IntN(2) {
			sysctls = append(sysctls, map[string]any{"name": pick("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem", "kernel.msgmax", "net.core.somaxconn"), "value": "1"})
		}
		psc["sysctls"] = sysctls
	}
	if len(psc) > 0 {
		spec["securityContext"] = psc
	}
	var containers []any
	for range 1 + r.IntN(2) {
		containers = append(containers, container())
	}
	spec["containers"] = containers
	if r.IntN(3) == 0 {
		spec["initContainers"] = []any{container()}
	}
	if r.IntN(6) == 0 {
		spec["ephemeralContainers"] = []any{container()}
	}
	if r.IntN(2) == 0 {
		var vols []any
		for i := range 1 + r.IntN(2) {
			src := pick(
				map[string]any{"emptyDir": map[string]any{}},
				map[string]any{"configMap": map[string]any{"name": "c"}},
				map[string]any{"secret": map[string]any{"secretName": "s"}},
				map[string]any{"projected": map[string]any{"sources": []any{}}},
				map[string]any{"downwardAPI": map[string]any{}},
				map[string]any{"persistentVolumeClaim": map[string]any{"claimName": "p"}},
				map[string]any{"csi": map[string]any{"driver": "d"}},
				map[string]any{"ephemeral": map[string]any{}},
				map[string]any{"hostPath": map[string]any{"path": "/tmp"}},
				map[string]any{"nfs": map[string]any{"server": "s", "path": "/"}},
				map[string]any{"gitRepo": map[string]any{"repository": "r"}},
				map[string]any{"iscsi": map[string]any{"targetPortal": "t", "iqn": "i", "lun": 0}},
				map[string]any{"gcePersistentDisk": map[string]any{"pdName": "p"}},
				map[string]any{"image": map[string]any{"reference": "x"}},
			).(map[string]any)
			v := map[string]any{"name": "v" + strconv.Itoa(i)}
			for k, x := range src {
				v[k] = x
			}
			vols = append(vols, v)
		}
		spec["volumes"] = vols
	}
	if r.IntN(6) == 0 {
		annotations["seccomp.security.alpha.kubernetes.io/pod"] = pick("runtime/default", "unconfined", "localhost/p")
	}
	meta := map[string]any{"name": "p"}
	if len(annotations) > 0 {
		meta["annotations"] = annotations
	}
	return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
}
