# METADATA
# title: HPA target cannot be scaled
# description: >-
#   A HorizontalPodAutoscaler changes the replicas of its target through the
#   target's scale subresource. Among the built-in kinds only Deployment,
#   StatefulSet, ReplicaSet and ReplicationController have one: an HPA that
#   points at a DaemonSet, Job, CronJob, Pod or any other built-in kind never
#   scales anything (FailedGetScale). Custom resources may have a scale
#   subresource and are not flagged.
# related_resources:
#   - ref: https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
# custom:
#   kinds: [HorizontalPodAutoscaler]
#   id: hpa.target-not-scalable
#   severity: error
#   fix: Point spec.scaleTargetRef at a Deployment, StatefulSet, ReplicaSet or ReplicationController (or a custom resource with a scale subresource), or remove the HPA.
package kubegate.rules.hpa.target_not_scalable

import rego.v1

import data.kubegate.lib.hpa

violations contains {"msg": msg, "path": ["spec", "scaleTargetRef", "kind"]} if {
	hpa.is_hpa
	hpa.target_kind
	hpa.target_name
	hpa.target_not_scalable
	msg := sprintf("%s targets %s%s, which has no scale subresource, so the HPA can never scale it; %s", [hpa.label, hpa.target_label, api, advice])
}

api := sprintf(" (%s)", [input.spec.scaleTargetRef.apiVersion]) if {
	is_string(input.spec.scaleTargetRef.apiVersion)
	input.spec.scaleTargetRef.apiVersion != ""
} else := ""

advice := a if {
	a := kind_advice[hpa.target_kind]
} else := "point spec.scaleTargetRef at the Deployment, StatefulSet, ReplicaSet or ReplicationController that runs the pods, or remove the HPA"

kind_advice := {
	"DaemonSet": "a DaemonSet runs one pod on each eligible node and has no replica count; to get more pods add nodes (cluster autoscaler), or run the pods from a Deployment and point the HPA at it",
	"Job": "a Job runs pods to completion and has no replica count; size it with spec.parallelism, or run the work from a Deployment and point the HPA at it",
	"CronJob": "a CronJob starts Jobs on a schedule and has no replica count; size its Jobs with spec.jobTemplate.spec.parallelism, or run the work from a Deployment and point the HPA at it",
	"Pod": "a bare Pod cannot be replicated; run it from a Deployment (or StatefulSet) and point the HPA at that",
}
