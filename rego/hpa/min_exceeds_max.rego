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

import data.kubegate.lib.hpa

# hpa.min_replicas: minReplicas, 1 when absent (as lib.hpa decides it for
# every hpa.* rule).

violations contains {"msg": msg, "path": ["spec", "minReplicas"]} if {
	hpa.is_hpa
	max_replicas := input.spec.maxReplicas
	is_number(max_replicas)
	hpa.min_replicas > max_replicas
	msg := message(max_replicas)
}

message(max_replicas) := sprintf("spec.minReplicas is %v but spec.maxReplicas is %v; lower minReplicas to at most %v or raise maxReplicas to at least %v", [hpa.min_replicas, max_replicas, max_replicas, hpa.min_replicas]) if {
	is_number(input.spec.minReplicas)
} else := sprintf("spec.minReplicas is not set and defaults to 1, but spec.maxReplicas is %v; set maxReplicas to at least 1", [max_replicas])
