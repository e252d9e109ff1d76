# The lifecycle of the input's apiVersion and kind on the target cluster,
# for the api.* rules: data.kubegate.apis holds the upstream
# prerelease-lifecycle markers of every built-in kind (generated from
# k8s.io/api into schema/apis.json), data.kubegate.cluster.minor the target
# Kubernetes minor (--kube-version).
package kubegate.lib.apis

import rego.v1

target := data.kubegate.cluster.minor

# The input's entry: {"introduced", "deprecated", "removed",
# "replacement"}, each optional.
lifecycle := data.kubegate.apis[input.apiVersion][input.kind]

removed if removed_at(lifecycle)

not_yet_served if lifecycle.introduced > target

deprecated if {
	lifecycle.deprecated > 0
	lifecycle.deprecated <= target
	not removed
}

# served(api_version) holds when the target serves input.kind at it.
served(api_version) if {
	lc := data.kubegate.apis[api_version][input.kind]
	object.get(lc, "introduced", 0) <= target
	not removed_at(lc)
}

removed_at(lc) if {
	lc.removed > 0
	lc.removed <= target
}

# What to write instead: the upstream replacement when the target serves
# it, else another version of the same group and kind the target serves
# (a stable one first).
instead := sprintf("write apiVersion: %s", [lifecycle.replacement]) if {
	not contains(lifecycle.replacement, " ")
	served(lifecycle.replacement)
} else := sprintf("write apiVersion: %s", [alternative]) if {
	alternative := alternatives[0]
} else := sprintf("Kubernetes 1.%d serves no other version of %s: remove it, or target a cluster that serves it", [target, input.kind])

# Stable versions first, then beta ones, the newest first; alpha versions
# are off unless a cluster enables them, so never suggested.
alternatives := array.concat(newest_first([v | some v in group_versions; stable(v)]), newest_first([v | some v in group_versions; contains(version(v), "beta")]))

newest_first(vs) := [vs[count(vs) - 1 - i] | some i, _ in vs]

group_versions := sort([v |
	some v, kinds in data.kubegate.apis
	v != input.apiVersion
	kinds[input.kind]
	group(v) == group(input.apiVersion)
	served(v)
])

group(api_version) := g if {
	contains(api_version, "/")
	g := split(api_version, "/")[0]
} else := ""

version(api_version) := v if {
	parts := split(api_version, "/")
	v := parts[count(parts) - 1]
}

stable(api_version) if {
	not contains(version(api_version), "alpha")
	not contains(version(api_version), "beta")
}
