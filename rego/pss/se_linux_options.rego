# METADATA
# title: SELinux options
# description: >-
#   A custom SELinux type, user or role can lift the confinement the container
#   runtime applies with its container_t domain. The Baseline Pod Security
#   Standard allows only the container types and forbids setting user or
#   role.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
# custom:
#   kinds: [workloads]
#   id: pss.seLinuxOptions
#   severity: error
#   level: baseline
#   fix: In securityContext.seLinuxOptions, remove user and role and leave type unset or set it to container_t, container_init_t or container_kvm_t.
package kubegate.rules.pss.se_linux_options

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Upstream policy/check_seLinuxOptions.go: the seLinuxOptions of the pod and
# of every container, initContainer and ephemeralContainer, when set
# (non-null): type must be unset/"" or one of the container types
# (container_engine_t only from v1.31); user and role must be unset/"".
# level is free.
allowed_types := {"", "container_t", "container_init_t", "container_kvm_t"}

# Allowed from v1.31 on: a violation up to v1.30.
types_since_v1_31 := {"container_engine_t"}

# Every non-null seLinuxOptions, with who sets it and the path to it.
options contains {"opts": opts, "who": "pod", "path": array.concat(k8s.pod_spec_path, ["securityContext", "seLinuxOptions"])} if {
	opts := k8s.pod_spec.securityContext.seLinuxOptions
	opts != null
}

options contains {"opts": opts, "who": c.label, "path": array.concat(c.path, ["securityContext", "seLinuxOptions"])} if {
	some c in k8s.containers
	opts := c.container.securityContext.seLinuxOptions
	opts != null
}

violations contains {"msg": msg, "path": path} if {
	some o in options
	type := k8s.as_string(object.get(o.opts, "type", ""))
	not type in allowed_types
	not type in types_since_v1_31
	path := array.concat(o.path, ["type"])
	msg := sprintf("%s sets securityContext.seLinuxOptions.type %q; remove it or use container_t, container_init_t, container_kvm_t or container_engine_t", [o.who, type])
}

violations contains {"msg": msg, "path": path, "versions": k8s.until(30)} if {
	some o in options
	type := k8s.as_string(object.get(o.opts, "type", ""))
	type in types_since_v1_31
	path := array.concat(o.path, ["type"])
	msg := sprintf("%s sets securityContext.seLinuxOptions.type %q, which policy versions before v1.31 forbid; remove it or use container_t, container_init_t or container_kvm_t", [o.who, type])
}

violations contains {"msg": msg, "path": path} if {
	some o in options
	some field in ["user", "role"]
	value := k8s.as_string(object.get(o.opts, field, ""))
	value != ""
	path := array.concat(o.path, [field])
	msg := sprintf("%s sets securityContext.seLinuxOptions.%s %q; remove it (only type and level may be set)", [o.who, field, value])
}
