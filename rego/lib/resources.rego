# Helpers of the resources.* rules: the requests and limits of every
# container as the API server sets them when it creates the pod, and exact
# comparison of Kubernetes quantities.
package kubegate.lib.resources

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# The namespace of the evaluated resource: metadata.namespace, or "" when
# unset (data.kubegate.resources files it under "" too).
namespace := ns if {
	ns := input.metadata.namespace
	is_string(ns)
} else := ""

no_defaults := {"requests": {}, "limits": {}, "from": {"requests": {}, "limits": {}}}

# The merged container defaults of the LimitRanges of the namespace, when
# the input has any (limit_range_defaults in rego/index/resources.rego):
# {"requests": {resource: quantity}, "limits": {...}, "from": {"requests":
# {resource: LimitRange name}, "limits": {...}}}.
limit_range := d if {
	d := data.kubegate.cache.limit_range_defaults[namespace]
} else := no_defaults

# Every container and init container (ephemeral containers have no
# resources), as k8s.containers gives it, plus its requests and limits as
# the API server sets them when it creates the pod:
#   own_requests, own_limits: what the manifest writes (name -> quantity;
#     quantities only: null and absent are the same to the API server);
#   requests: own requests, else the own limit (pod defaulting copies a
#     limit without a request), else the LimitRange default request
#     (LimitRanger admission, which runs after defaulting);
#   limits: own limits, else the LimitRange default limit;
#   compare: name -> -1, 0 or 1 as the request is below, equal to or above
#     the limit, for every resource with both (absent when a quantity does
#     not parse).
# A complete rule: computed once per resource for every resources.* rule,
# in one comprehension, without a function call per container (own, inline;
# merging over a namespace's empty defaults changes nothing).
containers := [object.union(c, {
	"own_requests": own_requests,
	"own_limits": own_limits,
	"requests": requests,
	"limits": limits,
	"compare": {name: compare(q, limits[name]) | some name, q in requests},
}) |
	some c in k8s.containers
	c.type != "ephemeralContainers"
	own_requests := {name: q | m := c.container.resources.requests; is_object(m); some name, q in m; q != null}
	own_limits := {name: q | m := c.container.resources.limits; is_object(m); some name, q in m; q != null}
	requests := object.union_n([limit_range.requests, own_limits, own_requests])
	limits := object.union(limit_range.limits, own_limits)
]

quantities(m) := {name: q | some name, q in m; q != null}

# Pod-level resources (spec.resources): the scheduler, the kubelet and the
# quota admission use them for the whole pod when set.
pod_requests := quantities(object.get(k8s.pod_spec, ["resources", "requests"], {}))

pod_limits := quantities(object.get(k8s.pod_spec, ["resources", "limits"], {}))

# Where a container's request or limit comes from, for messages: "" when
# the container writes it, else a parenthesised explanation.
origin(c, "requests", name) := "" if {
	c.own_requests[name]
} else := " (copied from its limit)" if {
	c.own_limits[name]
} else := sprintf(" (the default request of LimitRange %q)", [limit_range.from.requests[name]])

origin(c, "limits", name) := "" if {
	c.own_limits[name]
} else := sprintf(" (the default limit of LimitRange %q)", [limit_range.from.limits[name]])

# A quantity as the manifest writes it.
text(q) := q if {
	is_string(q)
} else := sprintf("%v", [q])

# compare(a, b) is -1, 0 or 1 as quantity a is below, equal to or above
# quantity b, exactly (512Mi equals 0.5Gi, 100m equals 0.1); undefined when
# either is not a valid quantity.
compare(a, b) := 0 if {
	a == b
} else := order(amount(a), amount(b))

order(x, y) := -1 if {
	x < y
} else := 1 if {
	x > y
} else := 0

# amount(q) is a Kubernetes quantity as a number in the resource's base unit
# (cores, bytes): "1.5Gi" is 1610612736, "500m" is 0.5, "1e3" is 1000.
# units.parse computes with exact rationals (it rounds fractions to 10
# decimals, where Kubernetes rounds a quantity finer than nano up to the
# next nano) and tells "m" (milli) from "M" (mega); OPA compares such
# numbers exactly. Undefined for anything that is not a quantity (negative
# ones included): the pattern first rejects what Kubernetes rejects but
# units.parse would read ("1K", "1mi"), and what Kubernetes reads leniently
# but no manifest means ("m", "." and "+" read as 0; exponents of three
# digits or more, "1e999", which would make units.parse build huge
# numbers). rego/fuzz_test.go checks all this against Kubernetes' own
# parser.
amount(q) := units.parse(s) if {
	s := text(q)
	regex.match(quantity_pattern, s)
} else := units.parse(concat("", [substring(s, 0, count(s) - 1), tiny_suffixes[suffix]])) if {
	# Nano and micro, which units.parse does not know, and milli, which it
	# multiplies by the float64 nearest 0.001 (wrong in the 20th digit):
	# as exponents.
	s := text(q)
	regex.match(tiny_quantity_pattern, s)
	suffix := substring(s, count(s) - 1, 1)
}

quantity_pattern := `^\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:Ki|Mi|Gi|Ti|Pi|Ei|[kMGTPE]|[eE][+-]?[0-9]{1,2})?$`

tiny_quantity_pattern := `^\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[num]$`

tiny_suffixes := {"n": "e-9", "u": "e-6", "m": "e-3"}

# A CPU limit to suggest for a container: twice its CPU request (room for
# bursts; a limit equal to a small request throttles the container hard),
# and at least 100m. As "500m, twice its request" or "100m".
cpu_limit_example(c) := sprintf("%s, twice its request", [millicores(m)]) if {
	m := ceil(amount(c.requests.cpu) * 2000)
	m >= 100
} else := "100m" if {
	c.requests.cpu
} else := "500m"

millicores(m) := sprintf("%d", [m / 1000]) if {
	m % 1000 == 0
} else := sprintf("%dm", [m])

# The container's own limit for resource r as a related location of a
# finding placed elsewhere (the request, the heap setting), since an overlay
# often changes one without the other; empty when the limit comes from a
# LimitRange default.
limit_related(c, r) := [{"path": array.concat(c.path, ["resources", "limits", r])}] if c.own_limits[r]

else := []
