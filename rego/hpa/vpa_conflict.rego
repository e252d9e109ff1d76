# METADATA
# title: HPA and VPA scale on the same resource
# description: >-
#   A VerticalPodAutoscaler that updates pods (any updateMode but Off) sets
#   their cpu and memory requests from observed usage. An HPA that scales
#   the same workload on cpu or memory measures usage against those
#   requests, or reacts to the same usage: each autoscaler's change moves
#   the other's input, and they fight (replicas and requests oscillate).
#   The VPA project advises against using both on the same resource.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/workloads/autoscaling/
# custom:
#   kinds: [HorizontalPodAutoscaler]
#   id: hpa.vpa-conflict
#   severity: error
#   fix: Scale the HPA on a custom or external metric (requests per second, queue length), or leave that resource to the HPA by excluding it from the VPA (resourcePolicy.containerPolicies[].controlledResources) or setting the VPA's updateMode to "Off".
package kubegate.rules.hpa.vpa_conflict

import rego.v1

import data.kubegate.lib.hpa

# The VPAs of the same namespace that name the same target and update pods.
vpas contains [name, vpa] if {
	hpa.is_hpa
	not hpa.target_not_scalable
	some name in data.kubegate.cache.vpas_by_target[hpa.namespace][hpa.target_kind][hpa.target_name]
	vpa := data.kubegate.resources.VerticalPodAutoscaler[hpa.namespace][name]
	mode := object.get(vpa, ["spec", "updatePolicy", "updateMode"], "Auto")
	mode != "Off"
}

# The names of the containers the VPA could act on: the target's (regular
# and sidecar containers), or, when the target is not in the input, those
# its policies name.
container_names contains x.name if {
	hpa.target
	some [_, _, x] in hpa.target_containers
}

container_names contains name if {
	not hpa.target
	some vpa in vpas
	some p in vpa[1].spec.resourcePolicy.containerPolicies
	name := p.containerName
	is_string(name)
	name != "*"
}

container_names contains m.container if {
	not hpa.target
	some m in hpa.scaled
	m.container != ""
}

container_names contains "*" if not hpa.target

violations contains {"msg": msg, "path": m.path} if {
	some [name, vpa] in vpas
	some m in hpa.scaled
	m.resource in {"cpu", "memory"}
	controlled := sort([c |
		some c in container_names
		m.container in {"", c}
		controls(vpa, c, m.resource)
	])
	count(controlled) > 0
	msg := sprintf("%s scales on %s (%s), and VerticalPodAutoscaler %q (updateMode %s) also sets the %s requests of %s of %s: the two autoscalers react to the same usage and fight; scale the HPA on a custom or external metric, or exclude %s from the VPA (controlledResources in resourcePolicy.containerPolicies) or set its updateMode to \"Off\"", [
		hpa.label, hpa.describe(m), hpa.where(m), name, mode_of(vpa), m.resource,
		containers_words(controlled), hpa.target_label, m.resource,
	])
}

mode_of(vpa) := mode if {
	mode := vpa.spec.updatePolicy.updateMode
	mode != null
} else := "Auto, the default"

containers_words(names) := "the containers" if {
	"*" in names
} else := sprintf("container %q", [names[0]]) if {
	count(names) == 1
} else := sprintf("containers %s", [concat(", ", [sprintf("%q", [n]) | some n in names])])

# The policy for a container, as the VPA picks it: the first one naming
# the container, else the "*" one, else the default (mode Auto, cpu and
# memory).
policy(vpa, container) := own[0] if {
	own := [p | some p in vpa.spec.resourcePolicy.containerPolicies; p.containerName == container]
	count(own) > 0
} else := fallback[0] if {
	fallback := [p | some p in vpa.spec.resourcePolicy.containerPolicies; p.containerName == "*"]
	count(fallback) > 0
} else := {}

controls(vpa, container, resource) if {
	p := policy(vpa, container)
	object.get(p, "mode", "Auto") != "Off"
	resource in object.get(p, "controlledResources", ["cpu", "memory"])
}
