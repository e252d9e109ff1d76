# METADATA
# title: Unsafe sysctls
# description: >-
#   Sysctls outside the safe, namespaced set can disable security mechanisms
#   or change the kernel for every pod on the node. The Baseline Pod Security
#   Standard allows only the safe set, which grows with the policy version.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
# custom:
#   kinds: [workloads]
#   id: pss.sysctls
#   severity: error
#   level: baseline
#   fix: Remove the sysctl from securityContext.sysctls, or set it on the node instead.
package kubegate.rules.pss.sysctls

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Upstream (check_sysctls.go): every name in the pod's
# securityContext.sysctls must be in the safe set of the policy version. The
# set only grows: each sysctl maps to the first version that allows it, so a
# sysctl allowed from v1.N is a violation in v1.0..v1.(N-1), and one not
# listed here is a violation in every version.
allowed_since := {
	"kernel.shm_rmid_forced": 0,
	"net.ipv4.ip_local_port_range": 0,
	"net.ipv4.tcp_syncookies": 0,
	"net.ipv4.ping_group_range": 0,
	"net.ipv4.ip_unprivileged_port_start": 0,
	"net.ipv4.ip_local_reserved_ports": 27,
	"net.ipv4.tcp_keepalive_time": 29,
	"net.ipv4.tcp_fin_timeout": 29,
	"net.ipv4.tcp_keepalive_intvl": 29,
	"net.ipv4.tcp_keepalive_probes": 29,
	"net.ipv4.tcp_rmem": 32,
	"net.ipv4.tcp_wmem": 32,
	"net.ipv4.tcp_slow_start_after_idle": 37,
	"net.ipv4.tcp_notsent_lowat": 37,
}

listed := {name | some name, _ in allowed_since}

# The sysctl's name as Go reads it: unset or null is "".
sysctl_name(s) := n if {
	n := s.name
	is_string(n)
} else := ""

violations contains {"msg": msg, "path": array.concat(k8s.pod_spec_path, ["securityContext", "sysctls", i])} if {
	some i, s in k8s.pod_spec.securityContext.sysctls
	name := sysctl_name(s)
	not listed[name]
	msg := sprintf("pod sets sysctl %q, which is not in the safe set of any policy version; remove it from securityContext.sysctls (set it on the node if it is needed)", [name])
}

violations contains {"msg": msg, "path": array.concat(k8s.pod_spec_path, ["securityContext", "sysctls", i]), "versions": k8s.until(n - 1)} if {
	some i, s in k8s.pod_spec.securityContext.sysctls
	name := sysctl_name(s)
	n := allowed_since[name]
	n > 0
	msg := sprintf("pod sets sysctl %q, which is only allowed from policy v1.%d; remove it from securityContext.sysctls, or use policy version v1.%d or later", [name, n, n])
}
