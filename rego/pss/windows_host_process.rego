# METADATA
# title: Windows HostProcess containers
# description: >-
#   A Windows HostProcess container runs directly on the node, outside any
#   container isolation, with the privileges of a node administrator. The
#   Baseline Pod Security Standard forbids it.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
# custom:
#   kinds: [workloads]
#   id: pss.windowsHostProcess
#   severity: error
#   level: baseline
#   fix: Remove securityContext.windowsOptions.hostProcess, or set it to false, on the pod and on every container.
package kubegate.rules.pss.windows_host_process

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Upstream (check_windowsHostProcess.go), v1.0+, one version: neither the
# pod nor any container (init and ephemeral included) may set
# securityContext.windowsOptions.hostProcess: true; false and unset are fine.
# There is no exemption by spec.os.name.
violations contains {"msg": msg, "path": path} if {
	k8s.pod_spec.securityContext.windowsOptions.hostProcess == true
	path := array.concat(k8s.pod_spec_path, ["securityContext", "windowsOptions", "hostProcess"])
	msg := "pod sets securityContext.windowsOptions.hostProcess: true, which runs its containers directly on the Windows node; remove it or set hostProcess: false"
}

violations contains {"msg": msg, "path": path} if {
	some c in k8s.containers
	c.container.securityContext.windowsOptions.hostProcess == true
	path := array.concat(c.path, ["securityContext", "windowsOptions", "hostProcess"])
	msg := sprintf("%s sets securityContext.windowsOptions.hostProcess: true, which runs it directly on the Windows node; remove it or set hostProcess: false", [c.label])
}
