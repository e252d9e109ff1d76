# METADATA
# title: Resource requests missing
# description: >-
#   The scheduler places pods by their requests: a container without CPU or
#   memory requests is packed onto nodes as if it used nothing, then starves
#   or gets evicted first when the node runs short. A limit without a request
#   counts as a request of the same amount, and so does the default request
#   of a LimitRange in the namespace.
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
import data.kubegate.lib.resources as lib
import data.kubegate.rules.resources.quota_requires_limits as quota

# A typical small request, suggested in the message.
examples := {"cpu": "100m", "memory": "128Mi"}

# lib.containers has the requests the API server sets: the container's own,
# else its limit of the same resource, else the LimitRange default request.
# Pod-level resources (spec.resources) cover every container.
violations contains {"msg": msg, "path": path} if {
	some name, example in examples
	not lib.pod_requests[name]
	not lib.pod_limits[name]
	not ["requests", name] in quota.required
	some c in lib.containers
	not c.requests[name]
	path := array.concat(c.path, ["resources", "requests", name])
	msg := sprintf("%s has no resources.requests.%s; set resources.requests.%s (for example %s: %s)", [c.label, name, name, name, example])
}
