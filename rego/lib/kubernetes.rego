# Helpers shared by the built-in rules: where the pod spec of each workload
# kind lives, and every container with the field path that leads to it, so
# that rules can report the exact field they are about.
package kubegate.lib.kubernetes

import rego.v1

# Path from the resource root to the pod spec, per workload kind.
pod_spec_paths := {
	"Pod": ["spec"],
	"Deployment": ["spec", "template", "spec"],
	"StatefulSet": ["spec", "template", "spec"],
	"DaemonSet": ["spec", "template", "spec"],
	"ReplicaSet": ["spec", "template", "spec"],
	"ReplicationController": ["spec", "template", "spec"],
	"Job": ["spec", "template", "spec"],
	"CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
	"PodTemplate": ["template", "spec"],
}

# Path from the resource root to the pod's metadata (annotations, labels).
pod_metadata_path := array.concat(array.slice(pod_spec_path, 0, count(pod_spec_path) - 1), ["metadata"])

is_workload if pod_spec_paths[input.kind]

pod_spec_path := pod_spec_paths[input.kind]

pod_spec := object.get(input, pod_spec_path, {}) if is_workload

pod_metadata := object.get(input, pod_metadata_path, {}) if is_workload

# Every container of the pod: regular, init and ephemeral, each as
# {"container": <object>, "path": [..., "containers", i], "type": "containers"}.
# A complete rule, so it is computed once per resource however many rules
# use it.
containers := [{"container": c, "path": array.concat(pod_spec_path, [type, i]), "type": type} |
	some type in ["containers", "initContainers", "ephemeralContainers"]
	some i, c in pod_spec[type]
]

# The path of a field below the pod spec.
pod_path(rest) := array.concat(pod_spec_path, rest)

# A human name for a container in messages: `container "web"`, `init container "setup"`.
container_label(c) := sprintf("container %q", [c.container.name]) if c.type == "containers"

container_label(c) := sprintf("init container %q", [c.container.name]) if c.type == "initContainers"

container_label(c) := sprintf("ephemeral container %q", [c.container.name]) if c.type == "ephemeralContainers"
