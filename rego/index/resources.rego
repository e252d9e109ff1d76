# Lookup tables of the resources.* rules: what the LimitRanges and
# ResourceQuotas of each namespace impose on the containers of its new pods.
#
#   limit_range_defaults[ns]: the container defaults that the LimitRanger
#     admission plugin writes into every new pod of namespace ns, merged
#     over its LimitRanges: {"requests": {resource: quantity}, "limits":
#     {resource: quantity}, "from": {"requests": {resource: LimitRange
#     name}, "limits": {...}}};
#   quota_hard[ns][quota]: the ResourceQuotas of namespace ns that make the
#     API server reject a pod unless each of its containers sets a cpu or
#     memory request or limit: {"hard": [the keys among cpu, memory,
#     requests.cpu, requests.memory, limits.cpu, limits.memory, sorted],
#     "scopes": spec.scopes, "match_expressions":
#     spec.scopeSelector.matchExpressions}.
#
# One object comprehension per namespace level: linear in the number of
# resources. Names private to this file start with _res_, as other files
# share the package.
package kubegate.index

import rego.v1

limit_range_defaults := {ns: defaults |
	some ns, by_name in data.kubegate.resources.LimitRange
	defaults := _res_namespace_defaults(by_name)
}

quota_hard := {ns: quotas |
	some ns, by_name in data.kubegate.resources.ResourceQuota
	quotas := {name: entry | some name, quota in by_name; entry := _res_quota_entry(quota)}
	count(quotas) > 0
}

# Per item of type Container, as the API server stores it: default (the
# default limit) falls back to max, and defaultRequest to default, then to
# min. Within a LimitRange a later item overrides an earlier one (the
# plugin overwrites); between LimitRanges the plugin keeps the first value
# it applies, in an order the API does not define: here the LimitRange
# whose name sorts first.
_res_namespace_defaults(by_name) := {
	"requests": requests,
	"limits": limits,
	"from": {"requests": requests_from, "limits": limits_from},
} if {
	ranges := [[name, d] |
		some name in sort(object.keys(by_name))
		d := _res_container_defaults(by_name[name])
	]

	# object.union_n keeps the last value of a key: reverse so that the
	# first LimitRange wins.
	last_first := array.reverse(ranges)
	requests := object.union_n([r[1].requests | some r in last_first])
	limits := object.union_n([r[1].limits | some r in last_first])
	count(requests) + count(limits) > 0
	requests_from := object.union_n([{k: r[0] | some k, _ in r[1].requests} | some r in last_first])
	limits_from := object.union_n([{k: r[0] | some k, _ in r[1].limits} | some r in last_first])
}

_res_container_defaults(lr) := {
	"requests": object.union_n([i.requests | some i in items]),
	"limits": object.union_n([i.limits | some i in items]),
} if {
	lr.apiVersion == "v1"
	items := [_res_item_defaults(item) | some item in lr.spec.limits; item.type == "Container"]
}

_res_item_defaults(item) := {"requests": requests, "limits": limits} if {
	limits := object.union(_res_quantities(item, "max"), _res_quantities(item, "default"))
	requests := object.union_n([_res_quantities(item, "min"), limits, _res_quantities(item, "defaultRequest")])
}

_res_quantities(item, key) := {name: q | some name, q in m; _res_is_quantity(q)} if {
	m := item[key]
	is_object(m)
} else := {}

_res_is_quantity(q) if is_string(q)

_res_is_quantity(q) if is_number(q)

_res_quota_entry(quota) := {"hard": hard, "scopes": scopes, "match_expressions": expressions} if {
	quota.apiVersion == "v1"
	hard := sort([key |
		some key, _ in quota.spec.hard
		key in {"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}
	])
	count(hard) > 0
	scopes := _res_array_at(quota, ["spec", "scopes"])
	expressions := _res_array_at(quota, ["spec", "scopeSelector", "matchExpressions"])
}

_res_array_at(x, path) := a if {
	a := object.get(x, path, [])
	is_array(a)
} else := []
