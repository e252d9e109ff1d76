// Package baseline compares a run with the same run at a baseline commit
// (--baseline REF): which findings the change introduces, which it leaves
// as they were, which it fixes, and which rendered resources it adds,
// removes or modifies.
//
// A finding's identity is its rule, its resource (API group, kind,
// namespace, name, chart variant) and its field path, never its line or
// file: moving lines, reordering documents or renaming a file changes
// nothing. Equal findings are matched by count.
package baseline

import (
	"strings"

	"github.com/kubegate/kubegate/finding"
)

// key is a finding's identity across the two runs.
type key struct {
	rule, field string
	res         resourceKey
}

// resourceKey is a resource's identity across the two runs: the API group,
// not the version, so that moving to a newer version of the same API is a
// modification, not a removal and an addition.
type resourceKey struct {
	group, kind, namespace, name, variant string
}

func resourceKeyOf(r finding.Resource) resourceKey {
	return resourceKey{group: group(r.APIVersion), kind: r.Kind, namespace: r.Namespace, name: r.Name, variant: r.Variant}
}

// group is the API group of an apiVersion ("" for the core group).
func group(apiVersion string) string {
	g, _, ok := strings.Cut(apiVersion, "/")
	if !ok {
		return ""
	}
	return g
}

func keyOf(f finding.Finding) key {
	return key{rule: f.Rule, field: f.Field, res: resourceKeyOf(f.Resource)}
}

// Classify marks each of head's findings new or existing against base's,
// sets head.Fixed to base's findings that head no longer has, and counts
// them in head's summary. Both reports are final: exceptions applied.
func Classify(head, base *finding.Report) {
	left := map[key]int{}
	for _, f := range base.Findings {
		left[keyOf(f)]++
	}
	for i := range head.Findings {
		k := keyOf(head.Findings[i])
		if left[k] > 0 {
			left[k]--
			head.Findings[i].Baseline = finding.BaselineExisting
		} else {
			head.Findings[i].Baseline = finding.BaselineNew
		}
	}
	// The fixed ones are base's findings beyond what head matched: the last
	// of each identity, in base's order.
	matched := map[key]int{}
	for _, f := range head.Findings {
		if f.Baseline == finding.BaselineExisting {
			matched[keyOf(f)]++
		}
	}
	head.Fixed = []finding.Finding{}
	for _, f := range base.Findings {
		k := keyOf(f)
		if matched[k] > 0 {
			matched[k]--
			continue
		}
		f.Baseline = ""
		head.Fixed = append(head.Fixed, f)
	}
	if head.Summary.BaselineCounts == nil {
		head.Summary.BaselineCounts = &finding.BaselineCounts{}
	}
	if head.Changes == nil {
		head.Changes = []finding.Change{}
	}
}

// Gate is the worst severity among the findings that the gate judges:
// with a baseline, the new ones only unless all is set.
func Gate(r *finding.Report, all bool) finding.Severity {
	w := finding.SeverityNone
	for _, f := range r.Findings {
		if all || f.Baseline != finding.BaselineExisting {
			w = max(w, f.Severity)
		}
	}
	return w
}
