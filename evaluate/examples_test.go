package evaluate

import (
	"context"
	"testing"
)

// Every built-in Rego rule has a firing and a passing example read from
// its tests (kubegate explain shows them).
func TestExamples(t *testing.T) {
	e, err := New(Options{PSS: DefaultPSSModes})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range e.Rules() {
		if r.Package == "" {
			continue // kubegate's own rules
		}
		n++
		fires, passes, err := Examples(context.Background(), r)
		if err != nil {
			t.Errorf("%s: %v", r.ID, err)
			continue
		}
		obj, _ := fires.(map[string]any)
		if obj == nil || obj["kind"] == nil {
			t.Errorf("%s: no firing example (%v)", r.ID, fires)
		}
		if p, _ := passes.(map[string]any); p == nil || p["kind"] == nil {
			t.Errorf("%s: no passing example (%v)", r.ID, passes)
		}
	}
	if n < 40 {
		t.Errorf("%d rules", n)
	}
}
