// Package k8s holds what kubegate knows of Kubernetes kinds that both its Go
// code and its Rego policies need: which kinds run pods, and where their pod
// spec is. It is the one source: the engine hands the table to the policies
// as data.kubegate.workloads, so the two sides cannot disagree.
package k8s

import (
	"maps"
	"slices"
)

// workloads says where the pod spec sits in each kind that has one.
var workloads = map[string][]string{
	"Pod":                   {"spec"},
	"Deployment":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
	"PodTemplate":           {"template", "spec"},
}

// WorkloadKinds lists the kinds that hold a pod spec, sorted.
func WorkloadKinds() []string { return slices.Sorted(maps.Keys(workloads)) }

// PodSpecPath is where a kind's pod spec is (field names from the
// resource's root), nil for a kind without one.
func PodSpecPath(kind string) []string { return slices.Clone(workloads[kind]) }

// Workloads is the table as the policies read it (data.kubegate.workloads):
// kind -> path of the pod spec.
func Workloads() map[string]any {
	out := make(map[string]any, len(workloads))
	for k, p := range workloads {
		path := make([]any, len(p))
		for i, s := range p {
			path[i] = s
		}
		out[k] = path
	}
	return out
}
