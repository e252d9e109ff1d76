# METADATA
# title: Unmasked /proc (Restricted)
# description: >-
#   The container runtime masks sensitive paths of /proc (kernel keys, timers,
#   sysrq triggers) and makes others read-only. procMount Unmasked turns that
#   off and exposes the node's kernel interfaces to the container. The
#   Restricted Pod Security Standard forbids it in every pod, in a user
#   namespace or not.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
# custom:
#   kinds: [workloads]
#   id: pss.procMount_restricted
#   severity: warning
#   level: restricted
#   min_version: 35
#   overrides: [pss.procMount]
#   fix: Remove securityContext.procMount, or set it to Default.
package kubegate.rules.pss.proc_mount_restricted

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Upstream policy/check_procMount_restricted.go (v1.35+, overriding the
# baseline procMount check): procMount_1_0 of check_procMount_baseline.go,
# with no user-namespace exemption: every container, initContainer and
# ephemeralContainer whose securityContext.procMount is set (non-null) to
# anything but "Default" ("" included).
violations contains {"msg": msg, "path": path} if {
	some c in k8s.containers
	proc_mount := c.container.securityContext.procMount
	proc_mount != null
	proc_mount != "Default"
	path := array.concat(c.path, ["securityContext", "procMount"])
	msg := sprintf("%s sets securityContext.procMount: %v; remove it or set procMount: Default (Restricted forbids it even with hostUsers: false)", [c.label, shown(proc_mount)])
}

shown(v) := sprintf("%q", [v]) if v == ""

shown(v) := v if v != ""
