# METADATA
# title: HPA target missing
# description: >-
#   A HorizontalPodAutoscaler scales the workload that spec.scaleTargetRef
#   names in its own namespace. When no such workload is among the rendered
#   resources, the reference is probably stale (a renamed Deployment, a
#   name prefix the HPA did not get, the wrong kind) and the HPA will only
#   report FailedGetScale.
# related_resources:
#   - ref: https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
# custom:
#   kinds: [HorizontalPodAutoscaler]
#   id: hpa.target-missing
#   severity: warning
#   fix: Point spec.scaleTargetRef (kind and name) at a workload of the HPA's namespace, or add that workload.
package kubegate.rules.hpa.target_missing

import rego.v1

import data.kubegate.lib.hpa

violations contains {"msg": msg, "path": ["spec", "scaleTargetRef", "name"]} if {
	hpa.is_hpa
	hpa.target_kind
	hpa.target_name
	not hpa.target

	# A built-in kind without a scale subresource is hpa.target-not-scalable.
	not hpa.target_not_scalable
	msg := sprintf("%s scales %s, which is not among the resources checked%s; %s", [hpa.label, hpa.target_label, where, hint])
}

where := sprintf(" in namespace %q", [hpa.namespace]) if hpa.namespace != ""

else := ""

# Same kind and name elsewhere: an HPA only scales its own namespace.
# (object.keys and ground references: iterating the resources of a kind
# would convert every one of them.)
elsewhere := sort([ns |
	some ns in object.keys(data.kubegate.resources[hpa.target_kind])
	ns != hpa.namespace
	data.kubegate.resources[hpa.target_kind][ns][hpa.target_name]
])

# Workloads of that kind in the HPA's namespace, when there are few enough
# to list.
same_kind := sort(object.keys(data.kubegate.resources[hpa.target_kind][hpa.namespace]))

hint := sprintf("an HPA scales a workload of its own namespace only: move the HPA to namespace %s, or the %s into %s", [ns_list, hpa.target_kind, ns_or_default]) if {
	count(elsewhere) > 0
	ns_list := concat(" or ", [sprintf("%q", [ns]) | some ns in elsewhere])
} else := sprintf("set spec.scaleTargetRef.name to one of the %ss of this namespace (%s), or add %s", [hpa.target_kind, names, hpa.target_label]) if {
	count(same_kind) > 0
	count(same_kind) <= 5
	names := concat(", ", [sprintf("%q", [n]) | some n in same_kind])
} else := sprintf("fix spec.scaleTargetRef (kind and name), or add %s", [hpa.target_label])

ns_or_default := sprintf("namespace %q", [hpa.namespace]) if hpa.namespace != ""

else := "the HPA's namespace"
