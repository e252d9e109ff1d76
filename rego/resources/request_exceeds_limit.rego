# METADATA
# title: Request above limit
# description: >-
#   A container's request of a resource may not exceed its limit: the API
#   server rejects the manifest, so the change never rolls out. When the
#   container sets only a request and the default limit of a LimitRange in
#   the namespace is lower, the workload is accepted but every pod it
#   creates is rejected. Quantities are compared exactly (512Mi equals
#   0.5Gi, 100m equals 0.1).
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#requests-and-limits
# custom:
#   kinds: [workloads]
#   id: resources.request-exceeds-limit
#   severity: error
#   fix: Lower the request to at most the limit, or raise the limit (set one when a LimitRange default applies).
package kubegate.rules.resources.request_exceeds_limit

import rego.v1

import data.kubegate.lib.kubernetes as k8s
import data.kubegate.lib.resources as lib

# lib.containers compares, per resource, the request and the limit the API
# server will see (after defaulting and LimitRange defaults).
violations contains {"msg": msg, "path": path, "related": lib.limit_related(c, name)} if {
	some c in lib.containers
	some name, order in c.compare
	order > 0
	path := array.concat(c.path, ["resources", "requests", name])
	msg := message(c, name)
}

message(c, name) := sprintf(
	"%s requests %s: %s%s but sets no %s limit, so its pods get %s, the default limit of LimitRange %q, and the API server rejects them for a request above the limit; set resources.limits.%s (for example %s: %s, equal to its request) or lower the request to at most %s",
	[c.label, name, request, lib.origin(c, "requests", name), name, limit, lib.limit_range.from.limits[name], name, name, request, limit],
) if {
	not c.own_limits[name]
	request := lib.text(c.requests[name])
	limit := lib.text(c.limits[name])
} else := sprintf(
	"%s requests %s: %s%s, above its limit %s%s, which the API server rejects; lower resources.requests.%s to at most the limit (for example %s: %s) or raise resources.limits.%s to at least %s",
	[c.label, name, request, lib.origin(c, "requests", name), limit, lib.origin(c, "limits", name), name, name, limit, name, request],
) if {
	request := lib.text(c.requests[name])
	limit := lib.text(c.limits[name])
}
