package kubegate.rules.hpa.requests_missing_test

import rego.v1

import data.kubegate.rules.hpa.requests_missing
import data.kubegate.test.hpa_fixtures as f

check(x, objs) := v if {
	v := requests_missing.violations with input as x
		with data.kubegate.resources as f.resources(objs)
		with data.kubegate.cache as f.cache(objs)
}

metric_target(i) := ["spec", "metrics", i, "resource", "target"]

web_ref := {"kind": "Deployment", "namespace": "shop", "name": "web"}

# The request field of the i-th container of the Deployment.
request(i, r) := ["spec", "template", "spec", "containers", i, "resources", "requests", r]

# Where each violation points, in the target, and what it relates in the HPA.
places(v) := {[x.resource, x.path, x.related] | some x in v}

no_cpu := f.web_with([f.container("web", {"requests": {"memory": "128Mi"}})])

limit_range(ns, item) := {
	"apiVersion": "v1",
	"kind": "LimitRange",
	"metadata": {"name": "defaults", "namespace": ns},
	"spec": {"limits": [item]},
}

test_fires_when_container_lacks_cpu_request if {
	h := f.hpa("web", {})
	check(h, [h, no_cpu]) == {{
		"msg": "container \"web\" has no cpu request, but HorizontalPodAutoscaler \"web\" scales this Deployment on cpu utilization (spec.metrics[0]), which is a percentage of the request: the HPA cannot compute it and never scales; set resources.requests.cpu (for example cpu: 100m)",
		"path": request(0, "cpu"),
		"resource": web_ref,
		"related": [{"path": metric_target(0)}],
	}}
}

test_fires_once_per_container_and_metric if {
	h := f.hpa("web", {"metrics": [f.cpu_utilization(70), f.memory_utilization(80)]})
	d := f.web_with([f.container("web", {}), f.container("proxy", f.requests)])
	v := check(h, [h, d])
	{[x.path, x.related, x.msg] | some x in v} == {
		[request(0, "cpu"), [{"path": metric_target(0)}], "container \"web\" has no cpu request, but HorizontalPodAutoscaler \"web\" scales this Deployment on cpu utilization (spec.metrics[0]), which is a percentage of the request: the HPA cannot compute it and never scales; set resources.requests.cpu (for example cpu: 100m)"],
		[request(0, "memory"), [{"path": metric_target(1)}], "container \"web\" has no memory request, but HorizontalPodAutoscaler \"web\" scales this Deployment on memory utilization (spec.metrics[1]), which is a percentage of the request: the HPA cannot compute it and never scales; set resources.requests.memory (for example memory: 128Mi)"],
	}
}

test_fires_without_metrics_on_default_cpu if {
	h := json.remove(f.hpa("web", {}), ["spec/metrics"])
	v := check(h, [h, no_cpu])
	places(v) == {[web_ref, request(0, "cpu"), [{"path": ["spec"]}]]}
	some x in v
	contains(x.msg, "scales this Deployment on cpu utilization (80% by default, as spec.metrics is not set)")
}

test_fires_with_empty_metrics if {
	h := f.hpa("web", {"metrics": []})
	places(check(h, [h, no_cpu])) == {[web_ref, request(0, "cpu"), [{"path": ["spec"]}]]}
}

test_fires_on_autoscaling_v1 if {
	v1 := {
		"apiVersion": "autoscaling/v1",
		"kind": "HorizontalPodAutoscaler",
		"metadata": {"name": "web", "namespace": "shop"},
		"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 5, "targetCPUUtilizationPercentage": 60},
	}
	places(check(v1, [v1, no_cpu])) == {[web_ref, request(0, "cpu"), [{"path": ["spec", "targetCPUUtilizationPercentage"]}]]}
	defaulted := json.remove(v1, ["spec/targetCPUUtilizationPercentage"])
	v := check(defaulted, [defaulted, no_cpu])
	places(v) == {[web_ref, request(0, "cpu"), [{"path": ["spec"]}]]}
	some x in v
	contains(x.msg, "(80% by default, as spec.targetCPUUtilizationPercentage is not set)")
}

test_fires_on_v2beta1_target_average_utilization if {
	h := object.union(f.hpa("web", {"metrics": [{"type": "Resource", "resource": {"name": "cpu", "targetAverageUtilization": 50}}]}), {"apiVersion": "autoscaling/v2beta1"})
	places(check(h, [h, no_cpu])) == {[web_ref, request(0, "cpu"), [{"path": ["spec", "metrics", 0, "resource", "targetAverageUtilization"]}]]}
}

test_fires_on_named_container_of_container_resource if {
	h := f.hpa("web", {"metrics": [{"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "web", "target": {"type": "Utilization", "averageUtilization": 60}}}]})
	d := f.web_with([f.container("web", {}), f.container("proxy", {})])
	check(h, [h, d]) == {{
		"msg": "container \"web\" has no cpu request, but HorizontalPodAutoscaler \"web\" scales this Deployment on cpu utilization of container \"web\" (spec.metrics[0]), which is a percentage of the request: the HPA cannot compute it and never scales; set resources.requests.cpu (for example cpu: 100m)",
		"path": request(0, "cpu"),
		"resource": web_ref,
		"related": [{"path": ["spec", "metrics", 0, "containerResource", "target"]}],
	}}
}

test_fires_when_container_resource_names_no_container if {
	h := f.hpa("web", {"metrics": [{"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app", "target": {"type": "Utilization", "averageUtilization": 60}}}]})
	check(h, [h, f.deployment("web", {})]) == {{
		"msg": "HorizontalPodAutoscaler \"web\" scales on cpu utilization of container \"app\" (spec.metrics[0]), but Deployment \"web\" has no container \"app\" (its containers: \"web\"), so the HPA cannot compute a utilization and never scales; set containerResource.container to one of them",
		"path": ["spec", "metrics", 0, "containerResource", "target"],
	}}
}

test_fires_on_sidecar_init_containers if {
	h := f.hpa("web", {})
	d := f.deployment("web", {"template": {"spec": {
		"initContainers": [object.union(f.container("mesh", {}), {"restartPolicy": "Always"})],
		"containers": [f.container("web", f.requests)],
	}}})
	v := check(h, [h, d])
	places(v) == {[web_ref, ["spec", "template", "spec", "initContainers", 0, "resources", "requests", "cpu"], [{"path": metric_target(0)}]]}
	some x in v
	startswith(x.msg, "init container \"mesh\" has no cpu request")
}

test_fires_when_limit_range_is_elsewhere_or_for_pods if {
	h := f.hpa("web", {})
	count(check(h, [h, no_cpu, limit_range("other", {"type": "Container", "defaultRequest": {"cpu": "100m"}})])) == 1
	count(check(h, [h, no_cpu, limit_range("shop", {"type": "Pod", "max": {"cpu": "2"}})])) == 1
	count(check(h, [h, no_cpu, limit_range("shop", {"type": "Container", "defaultRequest": {"memory": "64Mi"}})])) == 1
}

test_fires_on_statefulset_target if {
	h := f.hpa("db", {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db"}})
	sts := object.union(no_cpu, {"kind": "StatefulSet", "metadata": {"name": "db"}})
	count(check(h, [h, sts])) == 1
}

test_passes_with_requests if {
	h := f.hpa("web", {"metrics": [f.cpu_utilization(70), f.memory_utilization(80)]})
	count(check(h, [h, f.deployment("web", {})])) == 0
}

test_passes_when_a_limit_sets_the_request if {
	h := f.hpa("web", {})
	d := f.web_with([f.container("web", {"limits": {"cpu": "500m", "memory": "128Mi"}})])
	count(check(h, [h, d])) == 0
}

test_passes_with_limit_range_defaults if {
	h := f.hpa("web", {})
	every item in [
		{"type": "Container", "defaultRequest": {"cpu": "100m"}},
		{"type": "Container", "default": {"cpu": "500m"}},
		{"type": "Container", "max": {"cpu": "2"}},
		{"type": "Container", "min": {"cpu": "50m"}},
	] {
		count(check(h, [h, no_cpu, limit_range("shop", item)])) == 0
	}
}

test_passes_on_average_value_targets if {
	h := f.hpa("web", {"metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "AverageValue", "averageValue": "500m"}}}]})
	count(check(h, [h, no_cpu])) == 0
}

test_passes_on_other_metric_types if {
	h := f.hpa("web", {"metrics": [{"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "10"}}}]})
	count(check(h, [h, no_cpu])) == 0
}

test_passes_when_only_another_container_lacks_the_request if {
	h := f.hpa("web", {"metrics": [{"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "web", "target": {"type": "Utilization", "averageUtilization": 60}}}]})
	d := f.web_with([f.container("web", f.requests), f.container("proxy", {})])
	count(check(h, [h, d])) == 0
}

test_passes_on_ordinary_init_containers if {
	h := f.hpa("web", {})
	d := f.deployment("web", {"template": {"spec": {
		"initContainers": [f.container("migrate", {})],
		"containers": [f.container("web", f.requests)],
	}}})
	count(check(h, [h, d])) == 0
}

test_passes_with_pod_level_requests if {
	h := f.hpa("web", {})
	d := f.deployment("web", {"template": {"spec": {
		"resources": {"requests": {"cpu": "1"}},
		"containers": [f.container("web", {})],
	}}})
	count(check(h, [h, d])) == 0
}

test_passes_when_target_missing_or_elsewhere if {
	h := f.hpa("web", {})
	count(check(h, [h])) == 0
	count(check(h, [h, f.in_namespace(no_cpu, "other")])) == 0
}

test_fires_on_a_target_without_namespace if {
	# Applied to whichever namespace is named at deploy time: taken for the HPA's.
	h := f.hpa("web", {})
	places(check(h, [h, json.remove(no_cpu, ["metadata/namespace"])])) == {[object.union(web_ref, {"namespace": ""}), request(0, "cpu"), [{"path": metric_target(0)}]]}

	# An HPA without a namespace: the only workload of that kind and name.
	g := json.remove(h, ["metadata/namespace"])
	places(check(g, [g, no_cpu])) == {[web_ref, request(0, "cpu"), [{"path": metric_target(0)}]]}
	count(check(g, [g, no_cpu, f.in_namespace(no_cpu, "other")])) == 0
}

test_passes_on_unscalable_targets if {
	h := f.hpa("agent", {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "web"}})
	ds := object.union(no_cpu, {"kind": "DaemonSet"})
	count(check(h, [h, ds])) == 0
}
