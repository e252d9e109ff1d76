# METADATA
# title: Several HPAs scale one workload
# description: >-
#   Two HorizontalPodAutoscalers that scale the same workload each set its
#   replicas from their own metrics. The HPA controller detects that their
#   pods are controlled by several HPAs and stops both (ScalingActive False,
#   AmbiguousSelector), so the workload is not autoscaled at all. One HPA can
#   list several metrics and scales to the largest recommendation.
# related_resources:
#   - ref: https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale-walkthrough/#autoscaling-on-multiple-metrics-and-custom-metrics
# custom:
#   kinds: [HorizontalPodAutoscaler]
#   id: hpa.multiple-hpa
#   severity: error
#   fix: Merge the HPAs into one that lists all their metrics under spec.metrics, and delete the others.
package kubegate.rules.hpa.multiple_hpa

import rego.v1

import data.kubegate.lib.hpa

violations contains {"msg": msg, "path": ["spec", "scaleTargetRef", "name"]} if {
	hpa.is_hpa
	not hpa.target_not_scalable
	hpas := data.kubegate.cache.hpas_by_target[hpa.namespace][hpa.target_kind][hpa.target_name]
	# The usual case, this HPA alone, without building others.
	not hpas == [hpa.name]
	others := [h | some h in hpas; h != hpa.name]
	count(others) > 0
	msg := sprintf("%s scales %s, and so %s %s; the HPA controller refuses to scale pods that several HPAs control (AmbiguousSelector), so none of them scales it; merge them into one HPA that lists all their metrics under spec.metrics", [
		hpa.label, hpa.target_label, verb(others), concat(", ", [sprintf("HorizontalPodAutoscaler %q", [h]) | some h in others]),
	])
}

verb(others) := "does" if count(others) == 1

else := "do"
