package kubegate.rules.hpa.vpa_conflict_test

import rego.v1

import data.kubegate.rules.hpa.vpa_conflict
import data.kubegate.test.hpa_fixtures as f

check(x, objs) := v if {
	v := vpa_conflict.violations with input as x
		with data.kubegate.resources as f.resources(objs)
		with data.kubegate.cache as f.cache(objs)
}

vpa(spec) := {
	"apiVersion": "autoscaling.k8s.io/v1",
	"kind": "VerticalPodAutoscaler",
	"metadata": {"name": "web-vpa", "namespace": "shop"},
	"spec": object.union({"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}, spec),
}

web := f.web_with([f.container("web", f.requests), f.container("proxy", f.requests)])

metric_target(i) := ["spec", "metrics", i, "resource", "target"]

test_fires_on_default_vpa if {
	h := f.hpa("web", {})
	check(h, [h, web, vpa({})]) == {{
		"msg": "HorizontalPodAutoscaler \"web\" scales on cpu utilization (spec.metrics[0]), and VerticalPodAutoscaler \"web-vpa\" (updateMode Auto, the default) also sets the cpu requests of containers \"proxy\", \"web\" of Deployment \"web\": the two autoscalers react to the same usage and fight; scale the HPA on a custom or external metric, or exclude cpu from the VPA (controlledResources in resourcePolicy.containerPolicies) or set its updateMode to \"Off\"",
		"path": metric_target(0),
	}}
}

test_fires_on_initial_and_recreate_modes if {
	h := f.hpa("web", {})
	some x in check(h, [h, web, vpa({"updatePolicy": {"updateMode": "Initial"}})])
	contains(x.msg, "VerticalPodAutoscaler \"web-vpa\" (updateMode Initial) also sets")
	count(check(h, [h, web, vpa({"updatePolicy": {"updateMode": "Recreate"}})])) == 1
}

test_fires_on_hpa_without_metrics if {
	h := json.remove(f.hpa("web", {}), ["spec/metrics"])
	v := check(h, [h, web, vpa({})])
	{x.path | some x in v} == {["spec"]}
}

test_fires_on_memory_average_value if {
	h := f.hpa("web", {"metrics": [{"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "500Mi"}}}]})
	{x.path | some x in check(h, [h, web, vpa({})])} == {metric_target(0)}
}

test_fires_only_for_the_controlled_resource if {
	h := f.hpa("web", {"metrics": [f.cpu_utilization(70), f.memory_utilization(80)]})
	memory_only := vpa({"resourcePolicy": {"containerPolicies": [{"containerName": "*", "controlledResources": ["memory"]}]}})
	{x.path | some x in check(h, [h, web, memory_only])} == {metric_target(1)}
}

test_fires_for_container_policy_over_default if {
	h := f.hpa("web", {})
	p := vpa({"resourcePolicy": {"containerPolicies": [
		{"containerName": "*", "mode": "Off"},
		{"containerName": "web", "controlledResources": ["cpu"]},
	]}})
	v := check(h, [h, web, p])
	some x in v
	contains(x.msg, "also sets the cpu requests of container \"web\" of Deployment \"web\"")
}

test_fires_on_container_resource_of_a_controlled_container if {
	h := f.hpa("web", {"metrics": [{"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "web", "target": {"type": "Utilization", "averageUtilization": 60}}}]})
	p := vpa({"resourcePolicy": {"containerPolicies": [{"containerName": "proxy", "mode": "Off"}]}})
	{x.path | some x in check(h, [h, web, p])} == {["spec", "metrics", 0, "containerResource", "target"]}
}

test_fires_when_target_is_not_in_the_input if {
	h := f.hpa("web", {})
	v := check(h, [h, vpa({})])
	some x in v
	contains(x.msg, "also sets the cpu requests of the containers of Deployment \"web\"")
}

test_passes_when_vpa_is_off if {
	h := f.hpa("web", {})
	count(check(h, [h, web, vpa({"updatePolicy": {"updateMode": "Off"}})])) == 0
}

test_passes_when_vpa_leaves_the_resource_alone if {
	h := f.hpa("web", {})
	memory_only := vpa({"resourcePolicy": {"containerPolicies": [{"containerName": "*", "controlledResources": ["memory"]}]}})
	count(check(h, [h, web, memory_only])) == 0
	every_container_off := vpa({"resourcePolicy": {"containerPolicies": [{"containerName": "*", "mode": "Off"}]}})
	count(check(h, [h, web, every_container_off])) == 0
}

test_passes_on_container_resource_of_an_excluded_container if {
	h := f.hpa("web", {"metrics": [{"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "web", "target": {"type": "Utilization", "averageUtilization": 60}}}]})
	p := vpa({"resourcePolicy": {"containerPolicies": [{"containerName": "web", "mode": "Off"}]}})
	count(check(h, [h, web, p])) == 0
}

test_passes_on_custom_metrics if {
	h := f.hpa("web", {"metrics": [{"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "10"}}}]})
	count(check(h, [h, web, vpa({})])) == 0
}

test_passes_on_other_targets_and_namespaces if {
	h := f.hpa("web", {})
	count(check(h, [h, web, vpa({"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}})])) == 0
	count(check(h, [h, web, f.in_namespace(vpa({}), "other")])) == 0
	count(check(h, [h, web, object.union(vpa({}), {"apiVersion": "example.com/v1"})])) == 0
}

test_passes_on_unscalable_targets if {
	# hpa.target-not-scalable reports those.
	h := f.hpa("agent", {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent"}})
	v := vpa({"targetRef": {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent"}})
	count(check(h, [h, v])) == 0
}
