package rego_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"math/big"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kubegate/kubegate/rego"
)

// prepare compiles the embedded policies (tests left out) for query.
func prepare(tb testing.TB, query string) oparego.PreparedEvalQuery {
	tb.Helper()
	opts := []func(*oparego.Rego){oparego.Query(query), oparego.SetRegoVersion(ast.RegoV1)}
	err := fs.WalkDir(rego.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".rego" || strings.HasSuffix(p, "_test.rego") {
			return err
		}
		src, err := fs.ReadFile(rego.FS, p)
		if err != nil {
			return err
		}
		opts = append(opts, oparego.Module(p, string(src)))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	pq, err := oparego.New(opts...).PrepareForEval(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return pq
}

// quantitySeeds are quantities as manifests write them, and near misses.
var quantitySeeds = []string{
	"1", "0", "500m", "1.5Gi", "512Mi", "0.5Gi", "100M", "1e3", "1E-2", "2k", "1Ki", "1K", "1mi", "+1",
	"-1", ".5", "5.", "1n", "1u", "250u", "0.1", "1e999", "1Ei", "1E", "12345678901234567890m",
	"0.0000000001", "1.0000000001", "1e-9", "9223372036854775807", "1 Gi", "", "m", "Gi", "0x10", "1_000",
}

// FuzzQuantity: data.kubegate.lib.resources.amount(q) is defined exactly
// when Kubernetes accepts q as a non-negative quantity, and equals its
// value exactly: Kubernetes' resource.ParseQuantity is the oracle. Two
// divergences are deliberate (see amount in rego/lib/resources.rego):
// what Kubernetes reads leniently outside its documented grammar (no
// digits, as "m" or "."; exponents of three digits or more) is not a
// quantity to kubegate; and a value finer than nano, which Kubernetes
// rounds up to the next nano, keeps 10 decimals (rounded to nearest).
func FuzzQuantity(f *testing.F) {
	for _, s := range quantitySeeds {
		f.Add(s)
	}
	pq := prepare(f, "x := data.kubegate.lib.resources.amount(input.q)")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // not a string a manifest can hold
		}
		rs, err := pq.Eval(context.Background(), oparego.EvalInput(map[string]any{"q": s}))
		if err != nil {
			t.Fatalf("amount(%q): %v", s, err)
		}
		exact, grammatical := exactQuantity(s)
		if !grammatical {
			// Not a quantity to kubegate, whatever Kubernetes says (the
			// first divergence). Kubernetes is not asked: ParseQuantity
			// spins on exponents that overflow an int32 ("1e2222222299").
			if len(rs) != 0 {
				t.Fatalf("amount(%q) = %v, but that is not a quantity as Kubernetes documents them", s, rs[0].Bindings["x"])
			}
			return
		}
		q, kerr := resource.ParseQuantity(s)
		want := kerr == nil
		if got := len(rs) == 1; got != want {
			t.Fatalf("amount(%q) defined: %v; Kubernetes: %v (%v)", s, got, want, kerr)
		}
		if !want {
			return
		}
		n, ok := rs[0].Bindings["x"].(json.Number)
		if !ok {
			t.Fatalf("amount(%q) = %#v, not a number", s, rs[0].Bindings["x"])
		}
		got, ok := new(big.Rat).SetString(string(n))
		if !ok {
			t.Fatalf("amount(%q) = %s, not a decimal", s, n)
		}
		k := quantityRat(q)
		if k.Cmp(exact) == 0 {
			if got.Cmp(k) != 0 {
				t.Fatalf("amount(%q) = %s, Kubernetes: %s", s, got.FloatString(12), k.FloatString(12))
			}
			return
		}
		// The second divergence: Kubernetes rounded up to the next nano.
		if diff := new(big.Rat).Sub(got, exact); diff.Abs(diff).Cmp(big.NewRat(5, 1e11)) > 0 {
			t.Fatalf("amount(%q) = %s, exactly %s (Kubernetes: %s)", s, got.FloatString(12), exact.FloatString(15), k.FloatString(12))
		}
	})
}

var quantityGrammar = regexp.MustCompile(`^\+?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]{1,2})?$`)

// exactQuantity is the exact value of a non-negative quantity written as
// Kubernetes documents (with exponents of at most two digits), and whether
// s is one.
func exactQuantity(s string) (*big.Rat, bool) {
	m := quantityGrammar.FindStringSubmatch(s)
	if m == nil {
		return nil, false
	}
	v, ok := new(big.Rat).SetString(m[1])
	if !ok {
		return nil, false
	}
	exp, bin := 0, 0
	switch suffix := m[2]; suffix {
	case "":
	case "n", "u", "m":
		exp = map[string]int{"n": -9, "u": -6, "m": -3}[suffix]
	case "k", "M", "G", "T", "P", "E":
		exp = 3 * (1 + strings.Index("kMGTPE", suffix))
	case "Ki", "Mi", "Gi", "Ti", "Pi", "Ei":
		bin = 10 * (1 + strings.Index("KMGTPE", suffix[:1]))
	default:
		n, err := strconv.Atoi(suffix[1:])
		if err != nil {
			return nil, false
		}
		exp = n
	}
	ten := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(max(exp, -exp))), nil)
	if exp >= 0 {
		v.Mul(v, new(big.Rat).SetInt(ten))
	} else {
		v.Quo(v, new(big.Rat).SetInt(ten))
	}
	return v.Mul(v, new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), uint(bin)))), true
}

// quantityRat is a quantity's exact value.
func quantityRat(q resource.Quantity) *big.Rat {
	d := q.AsDec()
	r := new(big.Rat).SetInt(d.UnscaledBig())
	scale := big.NewInt(10)
	if s := int64(d.Scale()); s >= 0 {
		return r.Quo(r, new(big.Rat).SetInt(scale.Exp(scale, big.NewInt(s), nil)))
	} else {
		return r.Mul(r, new(big.Rat).SetInt(scale.Exp(scale, big.NewInt(-s), nil)))
	}
}

// FuzzHeapSetting: the heap_exceeds_limit rule evaluates without error on
// any environment, command and arguments, and every violation's path
// leads to a string of the input that holds the setting it reports.
func FuzzHeapSetting(f *testing.F) {
	for _, s := range []struct{ env, value, command, args, limit string }{
		{"JAVA_TOOL_OPTIONS", "-Xmx512m -XX:MaxRAMPercentage=100", "java", "-jar app.jar", "512Mi"},
		{"NODE_OPTIONS", "--max-old-space-size=4096", "node", "--max_old_space_size=600 app.js", "512Mi"},
		{"GOMEMLIMIT", "600MiB", "/app", "", "512Mi"},
		{"_JAVA_OPTIONS", "-XX:MaxRAMFraction=1 -XX:MaxHeapSize=1g", "java -Xmx2G", "-Xmx000", "1Gi"},
		{"JAVA_OPTS", "-Xmx99999999999999999999999t", "", "-XX:MaxRAMPercentage=1e3", "1e3"},
		{"GOMEMLIMIT", "9999999999999999999999TiB", "", "", "0.5"},
	} {
		f.Add(s.env, s.value, s.command, s.args, s.limit)
	}
	pq := prepare(f, "x := data.kubegate.rules.resources.heap_exceeds_limit.violations")
	f.Fuzz(func(t *testing.T, env, value, command, args, limit string) {
		for _, s := range []string{env, value, command, args, limit} {
			if !utf8.ValidString(s) {
				return
			}
		}
		container := map[string]any{
			"name":      "app",
			"image":     "example.com/app:1",
			"env":       []any{map[string]any{"name": env, "value": value}, map[string]any{"name": "JAVA_TOOL_OPTIONS", "value": value}},
			"command":   strings.Split(command, ","),
			"args":      []any{args, value},
			"resources": map[string]any{"limits": map[string]any{"memory": limit}},
		}
		pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p"}, "spec": map[string]any{"containers": []any{container}}}
		rs, err := pq.Eval(context.Background(), oparego.EvalInput(pod))
		if err != nil {
			t.Fatalf("error: %v", err)
		}
		if len(rs) != 1 {
			t.Fatalf("violations undefined")
		}
		for _, v := range rs[0].Bindings["x"].([]any) {
			v := v.(map[string]any)
			p, _ := v["path"].([]any)
			s, ok := resolve(pod, p).(string)
			if !ok {
				t.Fatalf("violation %v: path %v does not lead to a string of the input", v["msg"], p)
			}
			// The message quotes the setting found at the path.
			msg, _ := v["msg"].(string)
			quoted := strings.Contains(msg, "sets GOMEMLIMIT="+s+" ")
			for _, word := range spaces.Split(s, -1) {
				quoted = quoted || (word != "" && strings.Contains(msg, "sets "+word))
			}
			if !quoted {
				t.Fatalf("violation %q: path %v leads to %q, which it does not quote", msg, p, s)
			}
		}
	})
}

// resolve follows a policy path (keys and indexes) through a value; nil
// when it leads nowhere.
func resolve(v any, p []any) any {
	for _, e := range p {
		switch x := v.(type) {
		case map[string]any:
			k, ok := e.(string)
			if !ok {
				return nil
			}
			v = x[k]
		case []any:
			n, ok := e.(json.Number)
			i, err := n.Int64()
			if !ok || err != nil || i < 0 || i >= int64(len(x)) {
				return nil
			}
			v = x[i]
		case []string:
			n, ok := e.(json.Number)
			i, err := n.Int64()
			if !ok || err != nil || i < 0 || i >= int64(len(x)) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

var spaces = regexp.MustCompile(`\s+`)
