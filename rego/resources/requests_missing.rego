# METADATA
# title: Resource requests missing
# description: >-
#   The scheduler places pods by their requests: a container without CPU or
#   memory requests is packed onto nodes as if it used nothing, then starves
#   or gets evicted first when the node runs short. A limit without a request
#   counts as a request of the same amount.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#requests-and-limits
# custom:
#   kinds: [workloads]
#   id: resources.requests-missing
#   severity: warning
#   fix: Set resources.requests.cpu and resources.requests.memory on every container and init container.
package kubegate.rules.resources.requests_missing

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# A typical small request, suggested in the message.
examples := {"cpu": "100m", "memory": "128Mi"}

# Kubernetes defaults a missing request to the limit of the same resource.
has_request(container, name) if container.resources.requests[name] != null

has_request(container, name) if container.resources.limits[name] != null

violations contains {"msg": msg, "path": path} if {
	some c in k8s.containers
	c.type in {"containers", "initContainers"}
	some name, example in examples
	not has_request(c.container, name)
	path := array.concat(c.path, ["resources", "requests", name])
	msg := sprintf("%s has no resources.requests.%s; set resources.requests.%s (for example %s: %s)", [k8s.container_label(c), name, name, name, example])
}
