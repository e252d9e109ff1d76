package kubegate.rules.pss.windows_host_process_test

import rego.v1

import data.kubegate.rules.pss.windows_host_process

# A Deployment whose pod spec is pod_spec merged over two containers, web
# and sidecar, with the given container securityContexts.
deployment(pod_spec, web, sidecar) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": object.union(
		{"containers": [
			{"name": "web", "image": "mcr.microsoft.com/windows/nanoserver", "securityContext": web},
			{"name": "sidecar", "image": "mcr.microsoft.com/windows/nanoserver", "securityContext": sidecar},
		]},
		pod_spec,
	)}},
}

host_process := {"windowsOptions": {"hostProcess": true}}

test_fires_on_pod_level if {
	v := windows_host_process.violations with input as deployment({"hostNetwork": true, "securityContext": host_process}, {}, {})
	v == {{
		"msg": "pod sets securityContext.windowsOptions.hostProcess: true, which runs its containers directly on the Windows node; remove it or set hostProcess: false",
		"path": ["spec", "template", "spec", "securityContext", "windowsOptions", "hostProcess"],
	}}
}

test_fires_on_container_level if {
	v := windows_host_process.violations with input as deployment({}, {"windowsOptions": {"hostProcess": false}}, host_process)
	v == {{
		"msg": "container \"sidecar\" sets securityContext.windowsOptions.hostProcess: true, which runs it directly on the Windows node; remove it or set hostProcess: false",
		"path": ["spec", "template", "spec", "containers", 1, "securityContext", "windowsOptions", "hostProcess"],
	}}
}

test_fires_on_init_and_ephemeral_containers_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"os": {"name": "windows"},
		"securityContext": {"windowsOptions": {"hostProcess": true}},
		"initContainers": [{"name": "setup", "securityContext": host_process}],
		"containers": [{"name": "web"}],
		"ephemeralContainers": [{"name": "debug", "securityContext": host_process}],
	}}
	v := windows_host_process.violations with input as pod
	{f.path | some f in v} == {
		["spec", "securityContext", "windowsOptions", "hostProcess"],
		["spec", "initContainers", 0, "securityContext", "windowsOptions", "hostProcess"],
		["spec", "ephemeralContainers", 0, "securityContext", "windowsOptions", "hostProcess"],
	}
	every f in v { not f.versions }
}

test_passes_when_false_unset_or_null if {
	count(windows_host_process.violations) == 0 with input as deployment({"securityContext": {"windowsOptions": {"hostProcess": false}}}, {"windowsOptions": {"hostProcess": false}}, {})
	count(windows_host_process.violations) == 0 with input as deployment({"securityContext": {"windowsOptions": null}}, {"windowsOptions": {"hostProcess": null}}, null)
	count(windows_host_process.violations) == 0 with input as deployment({}, {"windowsOptions": {"runAsUserName": "ContainerUser"}}, {})
}

test_passes_on_non_workloads if {
	count(windows_host_process.violations) == 0 with input as {"kind": "ConfigMap", "metadata": {"name": "c"}}
}
