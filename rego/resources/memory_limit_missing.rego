# METADATA
# title: Memory limit missing
# description: >-
#   A container without a memory limit can grow until the node runs out of
#   memory, and the kernel then kills processes of other pods too. Unlike CPU,
#   memory cannot be throttled, so every container needs a limit.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#requests-and-limits
# custom:
#   kinds: [workloads]
#   id: resources.memory-limit-missing
#   severity: error
#   fix: Set resources.limits.memory on every container and init container, for example equal to its memory request.
package kubegate.rules.resources.memory_limit_missing

import rego.v1

import data.kubegate.lib.kubernetes as k8s

has_memory_limit(container) if container.resources.limits.memory != null

violations contains {"msg": msg, "path": path} if {
	some c in k8s.containers
	c.type in {"containers", "initContainers"}
	not has_memory_limit(c.container)
	path := array.concat(c.path, ["resources", "limits", "memory"])
	msg := sprintf("%s has no resources.limits.memory; set resources.limits.memory (%s)", [k8s.container_label(c), example(c.container)])
}

# Suggest the container's own memory request when it has one.
example(container) := sprintf("for example memory: %v, equal to its request", [container.resources.requests.memory]) if {
	container.resources.requests.memory != null
} else := "for example memory: 256Mi"
