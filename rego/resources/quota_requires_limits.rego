# METADATA
# title: ResourceQuota requires requests or limits
# description: >-
#   When a ResourceQuota of the namespace has a hard limit on cpu or memory
#   (requests.cpu, requests.memory, limits.cpu, limits.memory, or bare cpu
#   and memory, which mean requests), the API server rejects every pod that
#   the quota applies to unless each of its containers and init containers
#   sets that request or limit ("must specify limits.memory"): the
#   Deployment's rollout or the Job never gets its pods. LimitRange defaults
#   and a limit standing in for a missing request count, as in the cluster;
#   quota scopes (Terminating, NotBestEffort, PriorityClass, ...) decide
#   which pods a quota applies to, and pod-level resources (spec.resources)
#   lift the requirement.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/policy/resource-quotas/#compute-resource-quota
# custom:
#   kinds: [workloads]
#   id: resources.quota-requires-limits
#   severity: error
#   fix: Set the requests and limits the namespace's ResourceQuota tracks on every container and init container, or add a LimitRange with defaults for them.
package kubegate.rules.resources.quota_requires_limits

import rego.v1

import data.kubegate.lib.kubernetes as k8s
import data.kubegate.lib.resources as lib

# The container field that each quota key requires.
fields := {
	"cpu": ["requests", "cpu"],
	"requests.cpu": ["requests", "cpu"],
	"memory": ["requests", "memory"],
	"requests.memory": ["requests", "memory"],
	"limits.cpu": ["limits", "cpu"],
	"limits.memory": ["limits", "memory"],
}

# The quotas of the namespace that apply to this resource's pods (from
# quota_hard in rego/index/resources.rego): none, at the cost of one lookup,
# in most namespaces.
quotas := {name: q |
	some name, q in data.kubegate.cache.quota_hard[lib.namespace]
	applies(q)
}

# [container field, quota name, hard key] for each key of those quotas.
demands := [[fields[key], name, key] | some name, q in quotas; some key in q.hard]

# The container fields the namespace's quotas require, as ["limits", "cpu"]:
# resources.cpu-limit-missing, memory-limit-missing and requests-missing
# leave these to this rule's error rather than report the same field twice.
required contains field if {
	some [field, _, _] in demands
	not pod_level_resources
}

violations contains {"msg": msg, "path": path} if {
	count(demands) > 0
	not pod_level_resources
	some field in {d[0] | some d in demands}
	some c in lib.containers
	not c[field[0]][field[1]]
	path := array.concat(c.path, ["resources", field[0], field[1]])
	why := {[d[1], d[2]] | some d in demands; d[0] == field}
	field_name := concat(".", field)
	msg := sprintf(
		"%s has no resources.%s, but %s, so the API server rejects its pods (must specify %s); set resources.%s (%s)",
		[c.label, field_name, describe_quotas(why), concat(",", sort({k | some [_, k] in why})), field_name, example(c, field)],
	)
}

describe_quotas(why) := sprintf("ResourceQuota %q of %s sets a hard %s", [name, namespace_text, key]) if {
	count(why) == 1
	some [name, key] in why
} else := sprintf("ResourceQuotas %s of %s set hard limits on it", [concat(", ", [sprintf("%q (%s)", [name, key]) | some [name, key] in sort(why)]), namespace_text])

namespace_text := sprintf("namespace %q", [lib.namespace]) if {
	lib.namespace != ""
} else := "the namespace"

# A memory limit suggests the container's memory request, a CPU limit
# twice its CPU request.
example(c, ["limits", "memory"]) := sprintf("for example memory: %s, equal to its request", [lib.text(c.requests.memory)]) if {
	c.requests.memory
} else := "for example memory: 256Mi"

example(c, ["limits", "cpu"]) := sprintf("for example cpu: %s", [lib.cpu_limit_example(c)])

example(_, ["requests", name]) := sprintf("for example %s: %s", [name, examples[name]])

examples := {"cpu": "100m", "memory": "128Mi"}

# Pod-level cpu or memory requests or limits: the quota then checks the pod,
# not its containers.
pod_level_resources if lib.pod_requests.cpu

pod_level_resources if lib.pod_requests.memory

pod_level_resources if lib.pod_limits.cpu

pod_level_resources if lib.pod_limits.memory

# A quota applies to a pod matching all its scopes and scope selector
# expressions (a scope in spec.scopes is an Exists expression).
applies(q) if {
	every scope in q.scopes {
		scope_matches({"scopeName": scope, "operator": "Exists"})
	}
	every expression in q.match_expressions {
		scope_matches(expression)
	}
}

scope_matches(e) if {
	e.scopeName == "Terminating"
	terminating
}

scope_matches(e) if {
	e.scopeName == "NotTerminating"
	not terminating
}

scope_matches(e) if {
	e.scopeName == "BestEffort"
	best_effort
}

scope_matches(e) if {
	e.scopeName == "NotBestEffort"
	not best_effort
}

scope_matches(e) if {
	e.scopeName == "PriorityClass"
	priority_class_matches(e.operator, object.get(e, "values", []))
}

scope_matches(e) if {
	e.scopeName == "CrossNamespacePodAffinity"
	cross_namespace_affinity
}

# activeDeadlineSeconds set (and not negative) makes a pod Terminating.
terminating if {
	seconds := k8s.pod_spec.activeDeadlineSeconds
	is_number(seconds)
	seconds >= 0
}

# A pod is BestEffort when no container or init container has a non-zero
# cpu or memory request or limit (after defaults).
best_effort if not burstable

burstable if {
	some c in lib.containers
	some section in ["requests", "limits"]
	some name in ["cpu", "memory"]
	q := c[section][name]
	not zero(q)
}

zero(q) if lib.amount(q) == 0

priority_class := k8s.as_string(object.get(k8s.pod_spec, "priorityClassName", ""))

# The PriorityClass scope matches a label selector against {PriorityClass:
# name}, a set without the key when the pod has no priority class.
priority_class_matches("Exists", _) if priority_class != ""

priority_class_matches("DoesNotExist", _) if priority_class == ""

priority_class_matches("In", values) if {
	priority_class != ""
	priority_class in values
}

priority_class_matches("NotIn", values) if not priority_class in values

priority_class_matches("NotIn", _) if priority_class == ""

cross_namespace_affinity if {
	some kind in ["podAffinity", "podAntiAffinity"]
	affinity := k8s.pod_spec.affinity[kind]
	some term in array.concat(
		object.get(affinity, "requiredDuringSchedulingIgnoredDuringExecution", []),
		[t.podAffinityTerm | some t in object.get(affinity, "preferredDuringSchedulingIgnoredDuringExecution", [])],
	)
	cross_namespace_term(term)
}

cross_namespace_term(term) if count(term.namespaces) > 0

cross_namespace_term(term) if is_object(term.namespaceSelector)
