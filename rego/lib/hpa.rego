# Helpers shared by the hpa.* rules: the HorizontalPodAutoscaler in input,
# the workload it scales (looked up in data.kubegate.resources, which holds
# every resource of the run), the resources it scales on, and the requests
# that a container gets once the API server and the LimitRange admission
# plugin have defaulted them. Everything here is a lookup, never a scan of
# a namespace: cross-resource questions go through the tables of
# rego/index/ (data.kubegate.cache).
package kubegate.lib.hpa

import rego.v1

import data.kubegate.lib.kubernetes as k8s

is_hpa if {
	input.kind == "HorizontalPodAutoscaler"
	startswith(input.apiVersion, "autoscaling/")
}

# The namespace of the input, "" when unset (as data.kubegate.resources keys it).
namespace := ns if {
	ns := input.metadata.namespace
	is_string(ns)
} else := ""

name := k8s.as_string(input.metadata.name)

label := sprintf("HorizontalPodAutoscaler %q", [name])

target_kind := k if {
	k := input.spec.scaleTargetRef.kind
	is_string(k)
	k != ""
}

target_name := n if {
	n := input.spec.scaleTargetRef.name
	is_string(n)
	n != ""
}

# The API group of scaleTargetRef.apiVersion: "" for the core group
# ("v1"), undefined when apiVersion is absent.
# What precedes the first "/", in one step: indexof is -1 without one.
target_group := substring(v, 0, max([indexof(v, "/"), 0])) if {
	v := input.spec.scaleTargetRef.apiVersion
	is_string(v)
	v != ""
}

target_label := sprintf("%s %q", [target_kind, target_name])

# The target workload, when the input holds it. An HPA scales a workload of
# its own namespace only; a manifest without a namespace is applied to
# whichever namespace the deployment tool names, so a workload without one
# is taken for the HPA's, and an HPA without one for the namespace of the
# only workload of that kind and name.
target := target_found[1]

# The target's key in data.kubegate.resources, {"kind", "namespace",
# "name"}: how a violation names it to report on the target itself.
target_ref := {"kind": target_kind, "namespace": target_found[0], "name": target_name}

# [the target's namespace, the target], found with one lookup in the usual
# case.
target_found := [ns, t] if {
	ns := namespace
	t := data.kubegate.resources[target_kind][ns][target_name]
} else := ["", t] if {
	namespace != ""
	t := data.kubegate.resources[target_kind][""][target_name]
} else := [ns, data.kubegate.resources[target_kind][ns][target_name]] if {
	namespace == ""
	found := [n |
		some n in object.keys(data.kubegate.resources[target_kind])
		data.kubegate.resources[target_kind][n][target_name]
	]
	count(found) == 1
	ns := found[0]
}

# minReplicas defaults to 1.
min_replicas := n if {
	n := input.spec.minReplicas
	is_number(n)
} else := 1

# The built-in kinds that have a scale subresource, by API group.
scalable_kinds := {
	"apps": {"Deployment", "StatefulSet", "ReplicaSet"},
	"extensions": {"Deployment", "ReplicaSet"},
	"": {"ReplicationController"},
}

# Every API group that Kubernetes itself serves; any other group (custom
# resources, aggregated APIs) may have a scale subresource.
builtin_groups := {
	"", "apps", "batch", "extensions", "autoscaling", "policy", "networking.k8s.io",
	"rbac.authorization.k8s.io", "storage.k8s.io", "apiextensions.k8s.io",
	"admissionregistration.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "node.k8s.io",
	"discovery.k8s.io", "certificates.k8s.io", "flowcontrol.apiserver.k8s.io", "events.k8s.io",
	"apiregistration.k8s.io", "authentication.k8s.io", "authorization.k8s.io", "resource.k8s.io",
	"storagemigration.k8s.io", "internal.apiserver.k8s.io",
}

# Built-in kinds without a scale subresource that HPAs are pointed at by
# mistake, recognised even when scaleTargetRef has no apiVersion.
unscalable_builtin_kinds := {
	"DaemonSet", "Job", "CronJob", "Pod", "PodTemplate", "Service", "ConfigMap", "Secret",
	"ControllerRevision", "PersistentVolumeClaim", "Ingress", "HorizontalPodAutoscaler",
	"PodDisruptionBudget", "Namespace", "Node",
}

# The target is a built-in kind that has no scale subresource. The usual
# case (a scalable kind of its group) fails at the first expression.
target_not_scalable if {
	not scalable_kinds[target_group][target_kind]
	builtin_groups[target_group]
}

target_not_scalable if {
	not target_group
	target_kind in unscalable_builtin_kinds
}

# The resources the HPA scales on: one entry per Resource or
# ContainerResource metric, or the default (80% cpu utilization) when it
# names none, each as
#   {"resource": "cpu", "container": "" (every container) or a name,
#    "utilization": true when the target is a percentage of the request,
#    "path": the field of the HPA that sets the target,
#    "where": the metric's index in spec.metrics, or how messages name a
#    default (see where(m))}.
# autoscaling/v2 and v2beta2: a target block.
scaled contains {
	"resource": src.name,
	"container": object.get(src, "container", ""),
	"utilization": object.get(src, ["target", "type"], "") == "Utilization",
	"path": ["spec", "metrics", i, field, "target"],
	"where": i,
} if {
	not input.apiVersion in {"autoscaling/v1", "autoscaling/v2beta1"}
	some i, metric in input.spec.metrics
	field := metric_fields[metric.type]
	src := metric[field]
	is_string(src.name)
}

# autoscaling/v2beta1: targetAverageUtilization or targetAverageValue.
scaled contains {
	"resource": src.name,
	"container": object.get(src, "container", ""),
	"utilization": utilization,
	"path": ["spec", "metrics", i, field, v2beta1_target[utilization]],
	"where": i,
} if {
	input.apiVersion == "autoscaling/v2beta1"
	some i, metric in input.spec.metrics
	field := metric_fields[metric.type]
	src := metric[field]
	is_string(src.name)
	utilization := object.get(src, "targetAverageUtilization", null) != null
}

scaled contains {
	"resource": "cpu",
	"container": "",
	"utilization": true,
	"path": ["spec"],
	"where": "80% by default, as spec.metrics is not set",
} if {
	input.apiVersion != "autoscaling/v1"
	not has_metrics
}

scaled contains {
	"resource": "cpu",
	"container": "",
	"utilization": true,
	"path": ["spec", "targetCPUUtilizationPercentage"],
	"where": "spec.targetCPUUtilizationPercentage",
} if {
	input.apiVersion == "autoscaling/v1"
	input.spec.targetCPUUtilizationPercentage != null
}

scaled contains {
	"resource": "cpu",
	"container": "",
	"utilization": true,
	"path": ["spec"],
	"where": "80% by default, as spec.targetCPUUtilizationPercentage is not set",
} if {
	input.apiVersion == "autoscaling/v1"
	object.get(input.spec, "targetCPUUtilizationPercentage", null) == null
}

metric_fields := {"Resource": "resource", "ContainerResource": "containerResource"}

v2beta1_target := {true: "targetAverageUtilization", false: "targetAverageValue"}

has_metrics if count(input.spec.metrics) > 0

# How messages name the field of a metric.
where(m) := sprintf("spec.metrics[%d]", [m.where]) if is_number(m.where)

else := m.where

# How messages name what a metric measures: "cpu utilization", "memory
# utilization of container \"web\"", "cpu", "cpu of container \"web\"".
describe(m) := sprintf("%s%s%s", [m.resource, utilization_word(m), container_words(m)])

utilization_word(m) := " utilization" if m.utilization

else := ""

container_words(m) := sprintf(" of container %q", [m.container]) if m.container != ""

else := ""

# The target's pod spec, when the target is a workload in the input.
target_pod_spec := object.get(target, k8s.pod_spec_paths[target_kind], {})

# The containers whose requests the HPA adds up, as [type, index,
# container]: the regular containers and the sidecars (init containers with
# restartPolicy: Always), as the HPA controller's calculatePodRequests does.
# A rule, not a function of the target, so that OPA neither copies nor
# hashes the workload per call.
target_containers := array.concat(
	[["containers", i, x] | some i, x in target_pod_spec.containers],
	[["initContainers", i, x] |
		some i, x in target_pod_spec.initContainers
		x.restartPolicy == "Always"
	],
)

# The resources for which the LimitRanges of the namespace give every
# container a default request (data.kubegate.cache.limit_range_defaults,
# rego/index/resources.rego: defaultRequest, else default, else max, else
# min, as the API server defaults LimitRange items).
default_requests := {r |
	some r, v in data.kubegate.cache.limit_range_defaults[namespace].requests
	v != null
}

# The resources that the pod-level resources (spec.resources of the pod)
# request for the whole pod.
pod_level_requests := {r |
	some field in ["requests", "limits"]
	some r, v in target_pod_spec.resources[field]
	v != null
}

# Integer-valued helpers for PDB arithmetic.
percent(s) := to_number(trim_suffix(s, "%")) if {
	is_string(s)
	endswith(s, "%")
	regex.match(`^[0-9]+%$`, s)
}
