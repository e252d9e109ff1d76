# Lookup tables about workloads and what scales them. The engine evaluates
# package kubegate.index once per run, over data.kubegate.resources alone,
# and gives the rules the result as data.kubegate.cache, so that a rule
# evaluated for one resource finds its neighbours with a lookup:
#
#   hpas_by_target[ns][kind][name]: sorted names of the
#     HorizontalPodAutoscalers of namespace ns whose scaleTargetRef names
#     that kind and name;
#   vpas_by_target[ns][kind][name]: the same for VerticalPodAutoscalers
#     (autoscaling.k8s.io) and their targetRef;
#   workloads_by_pod_label[ns][key][value]: sorted [kind, name] of the
#     workloads of namespace ns whose pods carry the label key=value (the
#     pod template's labels; a Pod's own labels).
#
# Each table is one object.union_n of single-path objects, which merges
# nested objects in place in one native pass, then one pass that turns the
# innermost objects into sorted arrays: linear in the number of resources,
# where a rule with a multi-level head (t[a][b][c] contains x) is quadratic
# and grouping with comprehensions costs several passes. Names private to
# this file start with _wl_, as other files share the package.
package kubegate.index

import rego.v1

import data.kubegate.lib.kubernetes as k8s

hpas_by_target := _wl_sorted_leaves(object.union_n([{ns: {kind: {target: {name: true}}}} |
	some ns, by_name in data.kubegate.resources.HorizontalPodAutoscaler
	some name, hpa in by_name
	startswith(hpa.apiVersion, "autoscaling/")
	kind := hpa.spec.scaleTargetRef.kind
	target := hpa.spec.scaleTargetRef.name
	is_string(kind)
	is_string(target)
]))

vpas_by_target := _wl_sorted_leaves(object.union_n([{ns: {kind: {target: {name: true}}}} |
	some ns, by_name in data.kubegate.resources.VerticalPodAutoscaler
	some name, vpa in by_name
	startswith(vpa.apiVersion, "autoscaling.k8s.io/")
	kind := vpa.spec.targetRef.kind
	target := vpa.spec.targetRef.name
	is_string(kind)
	is_string(target)
]))

workloads_by_pod_label := _wl_sorted_leaves(object.union_n([{ns: {key: {value: {[kind, name]: true}}}} |
	some kind, path in _wl_pod_labels_paths
	some ns, by_name in data.kubegate.resources[kind]
	some name, workload in by_name
	labels := object.get(workload, path, {})
	is_object(labels)
	some key, value in labels
	is_string(value)
]))

# Where the labels of a workload's pods are, for every kind that makes pods.
_wl_pod_labels_paths := {kind: path |
	some kind, spec_path in k8s.pod_spec_paths
	kind != "PodTemplate"
	path := array.concat(array.slice(spec_path, 0, count(spec_path) - 1), ["metadata", "labels"])
}

# {a: {b: {c: {x: true, ...}}}} -> {a: {b: {c: [x, ...]}}}, x sorted.
_wl_sorted_leaves(tree) := {a: {b: {c: sort(object.keys(leaf)) |
	some c, leaf in by_c
} |
	some b, by_c in by_b
} |
	some a, by_b in tree
}
