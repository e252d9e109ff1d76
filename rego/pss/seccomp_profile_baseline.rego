# METADATA
# title: Seccomp profile unconfined
# description: >-
#   An Unconfined seccomp profile lets the container make every system call,
#   including the rarely needed ones where most kernel exploits live. The
#   Baseline Pod Security Standard allows only the RuntimeDefault and
#   Localhost profiles, or none.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
# custom:
#   kinds: [workloads]
#   id: pss.seccompProfile_baseline
#   severity: error
#   level: baseline
#   fix: Set securityContext.seccompProfile.type to RuntimeDefault or Localhost, or remove the seccompProfile.
package kubegate.rules.pss.seccomp_profile_baseline

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Upstream (check_seccompProfile_baseline.go) has two versioned checks:
#
# v1.0..v1.18 only looks at the pod's alpha annotations (in the pod
# template's metadata for workloads): seccomp.security.alpha.kubernetes.io/pod
# and container.seccomp.security.alpha.kubernetes.io/<container name> for
# every container, init and ephemeral included, must be runtime/default,
# docker/default or localhost/<profile> when present (an empty value is
# forbidden). The securityContext fields are not looked at.
#
# v1.19 and later only looks at securityContext.seccompProfile on the pod and
# on every container: when set it must have type RuntimeDefault or Localhost
# (a profile without a type counts as type ""). Unset is fine. The
# annotations are not looked at.
pod_annotation := "seccomp.security.alpha.kubernetes.io/pod"

container_annotation_prefix := "container.seccomp.security.alpha.kubernetes.io/"

valid_annotation_value(v) if v in {"runtime/default", "docker/default"}

valid_annotation_value(v) if startswith(v, "localhost/")

# The container's name as Go reads it: unset or null is "".
container_name(c) := n if {
	n := c.container.name
	is_string(n)
} else := ""

annotation_path(key) := array.concat(k8s.pod_metadata_path, ["annotations", key])

# (The annotation keys are written out below rather than naming the rules
# above: a literal costs nothing to evaluate.)
violations contains {"msg": msg, "path": annotation_path(pod_annotation), "versions": [0, 18]} if {
	value := k8s.as_string(k8s.pod_metadata.annotations["seccomp.security.alpha.kubernetes.io/pod"])
	not valid_annotation_value(value)
	msg := sprintf("pod annotation %s: %q is forbidden; set it to runtime/default or localhost/<profile>, or remove it", [pod_annotation, value])
}

# The annotation of every container, found from the annotations (usually
# none) rather than by looking up each container's key: each annotation
# container.seccomp.security.alpha.kubernetes.io/<name> applies to every
# container whose name (as Go reads it) is <name>.
violations contains {"msg": msg, "path": annotation_path(key), "versions": [0, 18]} if {
	some key, raw in k8s.pod_metadata.annotations
	startswith(key, "container.seccomp.security.alpha.kubernetes.io/")
	value := k8s.as_string(raw)
	not valid_annotation_value(value)
	name := trim_prefix(key, "container.seccomp.security.alpha.kubernetes.io/")
	some c in k8s.containers
	container_name(c) == name
	msg := sprintf("annotation %s: %q of %s is forbidden; set it to runtime/default or localhost/<profile>, or remove it", [key, value, c.label])
}

# The profile's type as Go reads it: unset or null is "".
profile_type(profile) := t if {
	t := profile.type
	is_string(t)
} else := ""

setting(profile) := sprintf("securityContext.seccompProfile.type: %s", [profile_type(profile)]) if {
	profile_type(profile) != ""
} else := "securityContext.seccompProfile without a type"

# A set profile is valid when its type is RuntimeDefault or Localhost (an
# unset, null or non-string type, which Go reads as "", is not). Written as
# `not ... == ...`, which is true when the type is undefined.
violations contains {"msg": msg, "path": path, "versions": [19, 9999]} if {
	profile := k8s.pod_spec.securityContext.seccompProfile
	profile != null
	not profile.type == "RuntimeDefault"
	not profile.type == "Localhost"
	path := array.concat(k8s.pod_spec_path, ["securityContext", "seccompProfile", "type"])
	msg := sprintf("pod sets %s; set it to RuntimeDefault or Localhost, or remove the seccompProfile", [setting(profile)])
}

violations contains {"msg": msg, "path": path, "versions": [19, 9999]} if {
	some c in k8s.containers
	profile := c.container.securityContext.seccompProfile
	profile != null
	not profile.type == "RuntimeDefault"
	not profile.type == "Localhost"
	path := array.concat(c.path, ["securityContext", "seccompProfile", "type"])
	msg := sprintf("%s sets %s; set it to RuntimeDefault or Localhost, or remove the seccompProfile", [c.label, setting(profile)])
}
