package kubegate.lib.kubernetes_test

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# The paths are the engine's table (data.kubegate.workloads, from
# internal/k8s), not a copy: a kind added there is a workload here.
test_pod_spec_path_reads_the_table if {
	k8s.pod_spec_path == ["spec", "jobTemplate", "spec", "template", "spec"] with input as {"kind": "CronJob"}
	k8s.pod_spec_path == ["spec", "template", "spec"] with input as {"kind": "Rollout"}
		with data.kubegate.workloads as {"Rollout": ["spec", "template", "spec"]}
	k8s.pod_metadata_path == ["spec", "template", "metadata"] with input as {"kind": "Rollout"}
		with data.kubegate.workloads as {"Rollout": ["spec", "template", "spec"]}
	not k8s.pod_spec_path with input as {"kind": "Deployment"} with data.kubegate.workloads as {"Rollout": ["spec"]}
	count(k8s.pod_spec_paths) == 9
}

test_pod_spec_path_undefined_for_other_kinds if {
	not k8s.pod_spec_path with input as {"kind": "Service"}
	not k8s.pod_spec_path with input as {"kind": 5}
	not k8s.pod_spec_path with input as {"metadata": {"name": "x"}}
	not k8s.is_workload with input as {"kind": "ConfigMap"}
	not k8s.pod_spec with input as {"kind": "ConfigMap", "spec": {}}
	not k8s.pod_metadata with input as {"kind": "ConfigMap", "metadata": {}}
}

test_pod_metadata_path_undefined_for_other_kinds if {
	not k8s.pod_metadata_path with input as {"kind": "Service"}
}

test_pod_metadata_path if {
	k8s.pod_metadata_path == ["spec", "template", "metadata"] with input as {"kind": "Deployment"}
	k8s.pod_metadata_path == ["spec", "jobTemplate", "spec", "template", "metadata"] with input as {"kind": "CronJob"}
	k8s.pod_metadata_path == ["metadata"] with input as {"kind": "Pod"}
	k8s.pod_metadata_path == ["template", "metadata"] with input as {"kind": "PodTemplate"}
}

test_containers_labels_and_paths if {
	pod := {"kind": "Pod", "spec": {
		"initContainers": [{"name": "setup"}, null],
		"containers": [{"name": "web"}, {"image": "x"}],
		"ephemeralContainers": [{"name": "debug"}],
	}}
	cs := k8s.containers with input as pod
	[[c.type, c.path, c.label] | some c in cs] == [
		["containers", ["spec", "containers", 0], "container \"web\""],
		["containers", ["spec", "containers", 1], "container #1 (unnamed)"],
		["initContainers", ["spec", "initContainers", 0], "init container \"setup\""],
		["initContainers", ["spec", "initContainers", 1], "init container #1 (unnamed)"],
		["ephemeralContainers", ["spec", "ephemeralContainers", 0], "ephemeral container \"debug\""],
	]
	[c.label | some c in cs] == [k8s.describe(c.type, c.path[2], c.container) | some c in cs]
}
