# METADATA
# title: CPU limit missing
# description: >-
#   A container without a CPU limit may use every idle core of its node: its
#   speed then depends on what its neighbours happen to do, load tests and
#   capacity plans measure the node rather than the application, and a busy
#   loop shows up only as slowness elsewhere. Unlike memory, CPU is throttled
#   rather than killed at the limit, and some teams deliberately run without
#   CPU limits, hence a notice. The default limit of a LimitRange in the
#   namespace counts as a limit.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#requests-and-limits
# custom:
#   kinds: [workloads]
#   id: resources.cpu-limit-missing
#   severity: notice
#   fix: Set resources.limits.cpu on every container and init container, for example twice its CPU request.
package kubegate.rules.resources.cpu_limit_missing

import rego.v1

import data.kubegate.lib.kubernetes as k8s
import data.kubegate.lib.resources as lib
import data.kubegate.rules.resources.quota_requires_limits as quota

# lib.containers has the limits the API server sets: the container's own,
# else the LimitRange default limit. A pod-level CPU limit (spec.resources)
# bounds every container.
violations contains {"msg": msg, "path": path} if {
	not lib.pod_limits.cpu
	not ["limits", "cpu"] in quota.required
	some c in lib.containers
	not c.limits.cpu
	path := array.concat(c.path, ["resources", "limits", "cpu"])
	msg := sprintf("%s has no resources.limits.cpu; set resources.limits.cpu (for example cpu: %s)", [c.label, lib.cpu_limit_example(c)])
}
