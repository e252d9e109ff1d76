# METADATA
# title: Unmasked /proc
# description: >-
#   The container runtime masks sensitive paths of /proc (kernel keys, timers,
#   sysrq triggers) and makes others read-only. procMount Unmasked turns that
#   off and exposes the node's kernel interfaces to the container. The Baseline
#   Pod Security Standard forbids it, except (from v1.35) in pods that run in a
#   user namespace (hostUsers false).
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
# custom:
#   kinds: [workloads]
#   id: pss.procMount
#   severity: error
#   level: baseline
#   fix: Remove securityContext.procMount, or set it to Default.
package kubegate.rules.pss.proc_mount

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Upstream policy/check_procMount_baseline.go: every container,
# initContainer and ephemeralContainer whose securityContext.procMount is set
# (non-null) to anything but "Default" ("" included); from v1.35 pods with
# spec.hostUsers: false are exempt, so their violations hold up to v1.34.

violations contains finding(msg, path) if {
	some c in k8s.containers
	proc_mount := c.container.securityContext.procMount
	proc_mount != null
	proc_mount != "Default"
	path := array.concat(c.path, ["securityContext", "procMount"])
	msg := sprintf("%s sets securityContext.procMount: %v; remove it or set procMount: Default%s", [c.label, shown(proc_mount), hint])
}

finding(msg, path) := {"msg": msg, "path": path, "versions": k8s.until(34)} if {
	k8s.user_namespaced
} else := {"msg": msg, "path": path}

hint := " (Baseline allows it from policy v1.35 only in pods with hostUsers: false)" if not k8s.user_namespaced

hint := " (Baseline allows it in this pod with hostUsers: false from policy v1.35)" if k8s.user_namespaced

shown(v) := sprintf("%q", [v]) if v == ""

shown(v) := v if v != ""
