# Helpers shared by the built-in rules: where the pod spec of each workload
# kind lives, and every container with the field path that leads to it, so
# that rules can report the exact field they are about.
package kubegate.lib.kubernetes

import rego.v1

# Path from the resource root to the pod spec, per workload kind: the table
# kubegate's Go code uses too (internal/k8s), handed over as data.
pod_spec_paths := data.kubegate.workloads

# The path for the kind of the input; undefined for other kinds.
pod_spec_path := data.kubegate.workloads[input.kind]

# Path from the resource root to the pod's metadata (annotations, labels):
# pod_spec_path with "metadata" for its last step.
pod_metadata_path := array.concat(array.slice(pod_spec_path, 0, count(pod_spec_path) - 1), ["metadata"])

is_workload if pod_spec_path

pod_spec := object.get(input, pod_spec_path, {})

pod_metadata := object.get(input, pod_metadata_path, {})

# A Windows pod (spec.os.name), which later policy versions exempt from
# some Restricted checks; and the note that their messages then add.
windows if pod_spec.os.name == "windows"

windows_note := " (Windows pods are exempt from policy v1.25 on)" if windows else := ""

# A pod in a user namespace (hostUsers: false), which later policy versions
# exempt from some checks; and the note that their messages then add.
user_namespaced if pod_spec.hostUsers == false

userns_note := " (pods with hostUsers: false are exempt from policy v1.35 on)" if user_namespaced else := ""

# Every container of the pod: regular, init and ephemeral, each as
# {"container": <object>, "path": [..., "containers", i], "type": "containers",
# "label": "container \"web\""}.
# A complete rule, so it is computed once per resource however many rules
# use it.
containers := [{"container": c, "path": array.concat(pod_spec_path, [type, i]), "type": type, "label": label(word, i, c)} |
	some [type, word] in [["containers", "container"], ["initContainers", "init container"], ["ephemeralContainers", "ephemeral container"]]
	some i, c in pod_spec[type]
]

# describe, given the words for the container's type.
label(word, i, c) := sprintf("%s %q", [word, c.name]) if {
	is_string(c.name)
} else := sprintf("%s #%d (unnamed)", [word, i])

# How messages name a container: `container "web"`, `init container
# "setup"`, or, for a container without a name (or a null entry, which
# upstream still checks), `init container #0 (unnamed)`. Computed once per
# container, in containers above.
describe(type, i, c) := sprintf("%s %q", [container_kind_words[type], c.name]) if {
	is_string(c.name)
} else := sprintf("%s #%d (unnamed)", [container_kind_words[type], i])

# The path of a field below the pod spec.
pod_path(rest) := array.concat(pod_spec_path, rest)

# A human name for a container in messages (see describe).
container_label(c) := c.label

# Version ranges for Pod Security violations (see rego/pss/CONVENTION.md):
# policy minors v1.n and later, or up to and including v1.n.
since(n) := [n, 9999]

until(n) := [0, n]

# container_label, kept for the rules that name it so.
container_ref(c) := c.label

container_kind_words := {"containers": "container", "initContainers": "init container", "ephemeralContainers": "ephemeral container"}

# A string field as Go decodes it into a string: null or absent is "".
as_string(x) := x if {
	is_string(x)
} else := ""
