# METADATA
# title: Memory limit missing
# description: >-
#   A container without a memory limit can grow until the node runs out of
#   memory, and the kernel then kills processes of other pods too. Unlike CPU,
#   memory cannot be throttled, so every container needs a limit. The default
#   limit of a LimitRange in the namespace counts as a limit.
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
import data.kubegate.lib.resources as lib
import data.kubegate.rules.resources.quota_requires_limits as quota

# lib.containers has the limits the API server sets: the container's own,
# else the LimitRange default limit. A pod-level memory limit
# (spec.resources) bounds every container.
violations contains {"msg": msg, "path": path} if {
	not lib.pod_limits.memory
	not ["limits", "memory"] in quota.required
	some c in lib.containers
	not c.limits.memory
	path := array.concat(c.path, ["resources", "limits", "memory"])
	msg := sprintf("%s has no resources.limits.memory; set resources.limits.memory (%s)", [c.label, example(c)])
}

# Suggest the container's own memory request when it has one.
example(c) := sprintf("for example memory: %s, equal to its request", [lib.text(c.requests.memory)]) if {
	c.requests.memory
} else := "for example memory: 256Mi"
