# METADATA
# title: Workload sets replicas that an HPA manages
# description: >-
#   When a HorizontalPodAutoscaler scales a Deployment, StatefulSet,
#   ReplicaSet or ReplicationController, the HPA owns its replica count. A
#   spec.replicas in the manifest is applied again on every deployment and
#   resets the count the HPA chose: a scaled-out service drops back to the
#   manifest's number (and pods are terminated) until the HPA reacts again.
#   Kubernetes recommends removing spec.replicas from autoscaled workloads.
# related_resources:
#   - ref: https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#migrating-deployments-and-statefulsets-to-horizontal-autoscaling
# custom:
#   kinds: [Deployment, StatefulSet, ReplicaSet, ReplicationController]
#   id: hpa.replicas-conflict
#   severity: warning
#   fix: Remove spec.replicas from the workload (and any replicas override in kustomize) and let the HPA's minReplicas and maxReplicas decide.
package kubegate.rules.hpa.replicas_conflict

import rego.v1

import data.kubegate.lib.hpa as hpa_lib

violations contains {"msg": msg, "path": ["spec", "replicas"]} if {
	replicas := input.spec.replicas
	replicas != null
	hpas := data.kubegate.cache.hpas_by_target[hpa_lib.namespace][input.kind][input.metadata.name]
	count(hpas) > 0
	msg := sprintf("spec.replicas is %v, but %s also scale%s this %s%s: every apply resets the replicas to %v and undoes the HPA's scaling until it reacts again; remove spec.replicas and let the HPA own the replica count", [
		replicas, hpa_words(hpas), verb_s(hpas), input.kind, bounds(hpas), replicas,
	])
}

hpa_words(hpas) := sprintf("HorizontalPodAutoscaler %q", [hpas[0]]) if count(hpas) == 1

else := sprintf("HorizontalPodAutoscalers %s", [concat(", ", [sprintf("%q", [h]) | some h in hpas])])

verb_s(hpas) := "s" if count(hpas) == 1

else := ""

# The HPA's bounds, when there is one HPA.
bounds(hpas) := sprintf(" (between %v and %v replicas)", [min_replicas, spec.maxReplicas]) if {
	count(hpas) == 1
	spec := data.kubegate.resources.HorizontalPodAutoscaler[hpa_lib.namespace][hpas[0]].spec
	is_number(spec.maxReplicas)
	min_replicas := object.get(spec, "minReplicas", 1)
} else := ""
