package kubegate.rules.hpa.target_not_scalable_test

import rego.v1

import data.kubegate.rules.hpa.target_not_scalable
import data.kubegate.test.hpa_fixtures as f

check(x) := v if {
	v := target_not_scalable.violations with input as x
}

kind_field := ["spec", "scaleTargetRef", "kind"]

targeting(api_version, kind) := f.hpa("agent", {"scaleTargetRef": {"apiVersion": api_version, "kind": kind, "name": "agent"}})

test_fires_on_daemonset if {
	check(targeting("apps/v1", "DaemonSet")) == {{
		"msg": "HorizontalPodAutoscaler \"agent\" targets DaemonSet \"agent\" (apps/v1), which has no scale subresource, so the HPA can never scale it; a DaemonSet runs one pod on each eligible node and has no replica count; to get more pods add nodes (cluster autoscaler), or run the pods from a Deployment and point the HPA at it",
		"path": kind_field,
	}}
}

test_fires_on_job_cronjob_and_pod if {
	{x.path | some x in check(targeting("batch/v1", "Job"))} == {kind_field}
	{x.path | some x in check(targeting("batch/v1", "CronJob"))} == {kind_field}
	{x.path | some x in check(targeting("v1", "Pod"))} == {kind_field}
}

test_fires_on_other_builtin_kinds if {
	v := check(targeting("v1", "Service"))
	v == {{
		"msg": "HorizontalPodAutoscaler \"agent\" targets Service \"agent\" (v1), which has no scale subresource, so the HPA can never scale it; point spec.scaleTargetRef at the Deployment, StatefulSet, ReplicaSet or ReplicationController that runs the pods, or remove the HPA",
		"path": kind_field,
	}}
	count(check(targeting("apps/v1", "ControllerRevision"))) == 1
	count(check(targeting("networking.k8s.io/v1", "Ingress"))) == 1
}

test_fires_without_api_version_on_known_kinds if {
	h := json.remove(targeting("apps/v1", "DaemonSet"), ["spec/scaleTargetRef/apiVersion"])
	v := check(h)
	{x.path | some x in v} == {kind_field}
	some x in v
	startswith(x.msg, "HorizontalPodAutoscaler \"agent\" targets DaemonSet \"agent\", which")
}

test_fires_on_autoscaling_v1 if {
	h := object.union(targeting("apps/v1", "DaemonSet"), {"apiVersion": "autoscaling/v1"})
	count(check(h)) == 1
}

test_passes_on_scalable_builtins if {
	count(check(targeting("apps/v1", "Deployment"))) == 0
	count(check(targeting("apps/v1", "StatefulSet"))) == 0
	count(check(targeting("apps/v1", "ReplicaSet"))) == 0
	count(check(targeting("v1", "ReplicationController"))) == 0
	count(check(targeting("extensions/v1beta1", "Deployment"))) == 0
}

test_passes_on_custom_resources if {
	count(check(targeting("argoproj.io/v1alpha1", "Rollout"))) == 0

	# A custom kind that happens to share a built-in name, in its own group.
	count(check(targeting("example.com/v1", "Job"))) == 0

	# Without apiVersion, an unknown kind is given the benefit of the doubt.
	count(check(json.remove(targeting("x/v1", "Rollout"), ["spec/scaleTargetRef/apiVersion"]))) == 0
}

test_passes_on_other_kinds if {
	count(check(f.deployment("web", {}))) == 0
}
