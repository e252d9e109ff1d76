# METADATA
# title: HPA minReplicas above maxReplicas
# description: >-
#   A HorizontalPodAutoscaler whose minReplicas is above its maxReplicas is
#   rejected by the API server, so the change never rolls out. When
#   minReplicas is absent it defaults to 1.
# related_resources:
#   - ref: https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
# custom:
#   kinds: [HorizontalPodAutoscaler]
#   id: hpa.min-exceeds-max
#   severity: error
#   fix: Lower spec.minReplicas or raise spec.maxReplicas so that minReplicas is at most maxReplicas.
package kubegate.rules.hpa.min_exceeds_max

import rego.v1

is_hpa if {
	input.kind == "HorizontalPodAutoscaler"
	startswith(input.apiVersion, "autoscaling/")
}

# minReplicas defaults to 1 when absent.
min_replicas := n if {
	n := input.spec.minReplicas
	is_number(n)
} else := 1

violations contains {"msg": msg, "path": ["spec", "minReplicas"]} if {
	is_hpa
	max_replicas := input.spec.maxReplicas
	is_number(max_replicas)
	min_replicas > max_replicas
	msg := message(max_replicas)
}

message(max_replicas) := sprintf("spec.minReplicas is %v but spec.maxReplicas is %v; lower minReplicas to at most %v or raise maxReplicas to at least %v", [min_replicas, max_replicas, max_replicas, min_replicas]) if {
	is_number(input.spec.minReplicas)
} else := sprintf("spec.minReplicas is not set and defaults to 1, but spec.maxReplicas is %v; set maxReplicas to at least 1", [max_replicas])
