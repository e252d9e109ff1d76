# METADATA
# title: Added capabilities beyond the Baseline set
# description: >-
#   Capabilities such as SYS_ADMIN, NET_ADMIN or SYS_PTRACE give a container
#   root-like power over the node's kernel, network or other processes. The
#   Baseline Pod Security Standard allows adding only the capabilities that a
#   container runtime grants by default.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
# custom:
#   kinds: [workloads]
#   id: pss.capabilities_baseline
#   severity: error
#   level: baseline
#   fix: Remove the capability from securityContext.capabilities.add, keeping only AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID or SYS_CHROOT.
package kubegate.rules.pss.capabilities_baseline

import rego.v1

import data.kubegate.lib.kubernetes as k8s

allowed := {
	"AUDIT_WRITE",
	"CHOWN",
	"DAC_OVERRIDE",
	"FOWNER",
	"FSETID",
	"KILL",
	"MKNOD",
	"NET_BIND_SERVICE",
	"SETFCAP",
	"SETGID",
	"SETPCAP",
	"SETUID",
	"SYS_CHROOT",
}

allowed_list := concat(", ", sort(allowed))

# Upstream policy/check_capabilities_baseline.go (v1.0+): every added
# capability outside the default set, compared exactly (case-sensitive, no
# CAP_ prefix stripped; null is ""), in containers, initContainers and
# ephemeralContainers. No Windows exemption.
violations contains {"msg": msg, "path": path} if {
	some c in k8s.containers
	some j, capability in c.container.securityContext.capabilities.add
	not capability in allowed
	path := array.concat(c.path, ["securityContext", "capabilities", "add", j])
	msg := sprintf("%s adds capability %q in securityContext.capabilities.add; remove it (Baseline allows adding only %s)", [c.label, k8s.as_string(capability), allowed_list])
}
