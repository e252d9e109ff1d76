# METADATA
# title: HPA scales on a utilization the pods do not request
# description: >-
#   A Resource or ContainerResource metric with a Utilization target measures
#   usage as a percentage of the pods' requests. When a container it adds up
#   has no request for that resource (no request, no limit that would become
#   the request, no LimitRange default in its namespace), the HPA cannot
#   compute a utilization ("missing request for cpu") and never scales. An
#   HPA without metrics scales on 80% cpu utilization, so it needs cpu
#   requests too. The HPA adds up the regular containers and the sidecars
#   (init containers with restartPolicy Always), or only the named container
#   of a ContainerResource metric.
# related_resources:
#   - ref: https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#support-for-resource-metrics
# custom:
#   kinds: [HorizontalPodAutoscaler]
#   id: hpa.requests-missing
#   severity: error
#   fix: Set resources.requests for the metric's resource on every container of the target (the named one for a ContainerResource metric), or scale on an AverageValue target instead of Utilization.
package kubegate.rules.hpa.requests_missing

import rego.v1

import data.kubegate.lib.hpa
import data.kubegate.lib.kubernetes as k8s

examples := {"cpu": "100m", "memory": "128Mi"}

# The metrics whose target is a utilization of a cpu or memory request,
# computed once per HPA for both violation bodies: none (and nothing else
# evaluated) for an HPA whose target cannot scale.
utilization_metrics := [m |
	hpa.is_hpa
	not hpa.target_not_scalable
	some m in hpa.scaled
	m.utilization
	examples[m.resource]
]

# Reported on the container of the target that lacks the request (the
# line to change), with the HPA's metric as a related location. The
# metric's own conditions come before the loop over the containers.
violations contains {
	"msg": msg,
	"path": array.concat(k8s.pod_spec_paths[hpa.target_kind], [type, i, "resources", "requests", m.resource]),
	"resource": hpa.target_ref,
	"related": [{"path": m.path}],
} if {
	some m in utilization_metrics
	not m.resource in hpa.default_requests
	not pod_level(m)
	some [type, i, x] in hpa.target_containers
	m.container in {"", x.name}

	# hpa.requests(x, m.resource), inline: no function call per container.
	object.get(x, ["resources", "requests", m.resource], null) == null
	object.get(x, ["resources", "limits", m.resource], null) == null
	msg := sprintf("%s has no %s request, but %s scales this %s on %s (%s), which is a percentage of the request: the HPA cannot compute it and never scales; set resources.requests.%s (for example %s: %s)", [
		k8s.describe(type, i, x), m.resource, hpa.label, hpa.target_kind, hpa.describe(m), hpa.where(m),
		m.resource, m.resource, examples[m.resource],
	])
}

# A ContainerResource metric naming a container the pods do not have.
violations contains {"msg": msg, "path": m.path} if {
	some m in utilization_metrics
	m.container != ""
	hpa.target_pod_spec
	names := [x.name | some [_, _, x] in hpa.target_containers]
	not m.container in names
	msg := sprintf("%s scales on %s (%s), but %s has no container %q (its containers: %s), so the HPA cannot compute a utilization and never scales; set containerResource.container to one of them", [
		hpa.label, hpa.describe(m), hpa.where(m), hpa.target_label, m.container,
		concat(", ", [sprintf("%q", [n]) | some n in names]),
	])
}

# Pod-level resources (spec.resources of the pod) set a request for the
# whole pod; a Resource metric is then left alone.
pod_level(m) if {
	m.container == ""
	m.resource in hpa.pod_level_requests
}
