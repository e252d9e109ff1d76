# METADATA
# title: AppArmor profile overridden
# description: >-
#   On nodes with AppArmor, the container runtime confines every container with
#   its default profile. Setting the profile to Unconfined (or to anything but
#   the runtime default or a profile loaded on the node) removes that
#   confinement. The Baseline Pod Security Standard forbids it, in the
#   securityContext fields and in the older per-container annotations.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
# custom:
#   kinds: [workloads]
#   id: pss.appArmorProfile
#   severity: error
#   level: baseline
#   fix: Set securityContext.appArmorProfile.type to RuntimeDefault or Localhost, and remove container.apparmor.security.beta.kubernetes.io annotations whose value is not runtime/default or localhost/<profile>.
package kubegate.rules.pss.app_armor_profile

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Upstream policy/check_appArmorProfile.go (v1.0+):
# - securityContext.appArmorProfile of the pod and of every container,
#   initContainer and ephemeralContainer: when set (non-null, even {}), its
#   type must be RuntimeDefault or Localhost (a missing type is "");
# - every annotation of the pod's metadata (the template's for workloads)
#   whose key starts with container.apparmor.security.beta.kubernetes.io/,
#   whatever the container it names: its value must be "", runtime/default
#   or start with localhost/.
allowed_types := {"RuntimeDefault", "Localhost"}

annotation_prefix := "container.apparmor.security.beta.kubernetes.io/"

fix := "set it to RuntimeDefault, or Localhost with a localhostProfile"

setting(profile) := sprintf("securityContext.appArmorProfile.type: %s", [profile.type]) if {
	is_string(profile.type)
	profile.type != ""
} else := "securityContext.appArmorProfile without a type"

violations contains {"msg": msg, "path": path} if {
	profile := k8s.pod_spec.securityContext.appArmorProfile
	profile != null
	not k8s.as_string(object.get(profile, "type", "")) in allowed_types
	path := array.concat(k8s.pod_spec_path, ["securityContext", "appArmorProfile", "type"])
	msg := sprintf("pod sets %s; %s", [setting(profile), fix])
}

violations contains {"msg": msg, "path": path} if {
	some c in k8s.containers
	profile := c.container.securityContext.appArmorProfile
	profile != null
	not k8s.as_string(object.get(profile, "type", "")) in allowed_types
	path := array.concat(c.path, ["securityContext", "appArmorProfile", "type"])
	msg := sprintf("%s sets %s; %s", [c.label, setting(profile), fix])
}

violations contains {"msg": msg, "path": path} if {
	some key, value in k8s.pod_metadata.annotations
	startswith(key, annotation_prefix)
	not allowed_annotation(k8s.as_string(value))
	path := array.concat(k8s.pod_metadata_path, ["annotations", key])
	msg := sprintf("annotation %s sets AppArmor profile %q; set it to runtime/default or localhost/<profile>, or remove it and set securityContext.appArmorProfile.type: RuntimeDefault", [key, value])
}

allowed_annotation("")

allowed_annotation("runtime/default")

allowed_annotation(value) if startswith(value, "localhost/")
