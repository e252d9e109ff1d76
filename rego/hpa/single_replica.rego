# METADATA
# title: HPA lets the workload shrink to one pod
# description: >-
#   With minReplicas below 2 (it defaults to 1) the HPA scales the workload
#   down to a single pod whenever load is low: a node drain, an eviction, a
#   crash or a rolling update then leaves it with no ready pod, and a
#   PodDisruptionBudget cannot protect it without blocking drains. Two
#   replicas at minimum keep it available. minReplicas 0 (scale to zero,
#   behind the HPAScaleToZero feature gate) is a deliberate choice and is not
#   flagged.
# related_resources:
#   - ref: https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
# custom:
#   kinds: [HorizontalPodAutoscaler]
#   id: hpa.single-replica
#   severity: warning
#   fix: Set spec.minReplicas to at least 2 (and spec.maxReplicas to at least as much).
package kubegate.rules.hpa.single_replica

import rego.v1

import data.kubegate.lib.hpa

violations contains {"msg": msg, "path": ["spec", "minReplicas"]} if {
	hpa.is_hpa
	hpa.min_replicas == 1

	# An HPA that cannot scale its target is hpa.target-not-scalable.
	not hpa.target_not_scalable
	msg := sprintf("%s; at low load %s runs a single pod, which any node drain, eviction or crash takes down; set spec.minReplicas: 2%s", [
		current, target, raise_max,
	])
}

current := sprintf("spec.minReplicas is %v", [input.spec.minReplicas]) if is_number(input.spec.minReplicas)

else := "spec.minReplicas is not set and defaults to 1"

target := hpa.target_label if {
	hpa.target_kind
	hpa.target_name
} else := "the target"

# Raising minReplicas above maxReplicas would be rejected.
raise_max := " and spec.maxReplicas to at least 2" if {
	is_number(input.spec.maxReplicas)
	input.spec.maxReplicas < 2
} else := ""
