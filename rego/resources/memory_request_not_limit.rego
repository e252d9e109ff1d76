# METADATA
# title: Memory request below its limit
# description: >-
#   Memory cannot be reclaimed from a process without killing it. A container
#   whose memory request is below its limit is promised only the request:
#   when its node runs short of memory, the kubelet evicts pods using more
#   than they requested first, and the kernel may OOM-kill it while it is
#   still under its limit. With the request equal to the limit, all the
#   memory the container may use is reserved for it. Checked when both are known,
#   after LimitRange defaults; a request above the limit is
#   resources.request-exceeds-limit.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/scheduling-eviction/node-pressure-eviction/#pod-selection-for-kubelet-eviction
# custom:
#   kinds: [workloads]
#   id: resources.memory-request-not-limit
#   severity: warning
#   fix: Set resources.requests.memory equal to resources.limits.memory.
package kubegate.rules.resources.memory_request_not_limit

import rego.v1

import data.kubegate.lib.kubernetes as k8s
import data.kubegate.lib.resources as lib

violations contains {"msg": msg, "path": path} if {
	some c in lib.containers
	c.compare.memory < 0
	[section, msg] := advice(c)
	path := array.concat(c.path, ["resources", section, "memory"])
}

# The container writes its request but not its limit: propose a limit equal
# to the request rather than the LimitRange default.
advice(c) := ["limits", sprintf(
	"%s requests memory: %s but sets no memory limit, so it gets %s, the default limit of LimitRange %q; under memory pressure on its node it can be evicted or OOM-killed while using memory it was allowed; set resources.limits.memory: %s, equal to its request",
	[c.label, request, limit, lib.limit_range.from.limits.memory, request],
)] if {
	c.own_requests.memory
	not c.own_limits.memory
	request := lib.text(c.requests.memory)
	limit := lib.text(c.limits.memory)
} else := ["requests", sprintf(
	"%s requests memory: %s%s but its memory limit is %s%s; under memory pressure on its node it can be evicted or OOM-killed while using memory it was allowed; set resources.requests.memory: %s, equal to its limit (or lower the limit to %s)",
	[c.label, request, lib.origin(c, "requests", "memory"), limit, lib.origin(c, "limits", "memory"), limit, request],
)] if {
	request := lib.text(c.requests.memory)
	limit := lib.text(c.limits.memory)
}
