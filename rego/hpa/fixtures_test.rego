# Test fixtures shared by the hpa.* rule tests: manifests, and the
# data.kubegate.resources and data.kubegate.cache that the engine would
# give the rules for a set of them.
#
# The cache must be computed in a step of its own:
#   v := rule.violations with input as x with data.kubegate.resources as r
#       with data.kubegate.cache as data.kubegate.index
# evaluates data.kubegate.index over the real (empty) resources, not r.
package kubegate.test.hpa_fixtures

import rego.v1

# {kind: {namespace: {name: object}}} of a list of objects, namespace ""
# when unset, as the engine indexes them.
resources(objs) := {kind: {ns: {o.metadata.name: o |
	some o in objs
	o.kind == kind
	namespace_of(o) == ns
} |
	some ns in {namespace_of(o) | some o in objs; o.kind == kind}
} |
	some kind in {o.kind | some o in objs}
}

namespace_of(o) := object.get(o, ["metadata", "namespace"], "")

# The lookup tables of rego/index/ over those resources.
cache(objs) := c if {
	c := data.kubegate.index with data.kubegate.resources as resources(objs)
}

hpa(name, spec) := {
	"apiVersion": "autoscaling/v2",
	"kind": "HorizontalPodAutoscaler",
	"metadata": {"name": name, "namespace": "shop"},
	"spec": object.union(
		{
			"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
			"minReplicas": 2,
			"maxReplicas": 10,
			"metrics": [cpu_utilization(70)],
		},
		spec,
	),
}

cpu_utilization(n) := {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": n}}}

memory_utilization(n) := {"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": n}}}

container(name, resources) := {"name": name, "image": "registry.example.com/web:1.0", "resources": resources}

requests := {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "128Mi"}}

deployment(name, spec) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": name, "namespace": "shop"},
	"spec": object.union(
		{
			"selector": {"matchLabels": {"app": name}},
			"template": {
				"metadata": {"labels": {"app": name, "tier": "frontend"}},
				"spec": {"containers": [container(name, requests)]},
			},
		},
		spec,
	),
}

# A Deployment "web" whose pods have these containers.
web_with(containers) := deployment("web", {"template": {
	"metadata": {"labels": {"app": "web"}},
	"spec": {"containers": containers},
}})

in_namespace(o, ns) := object.union(o, {"metadata": {"namespace": ns}})
