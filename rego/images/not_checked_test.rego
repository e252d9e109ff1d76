package kubegate.rules.images.not_checked_test

import rego.v1

import data.kubegate.rules.images.not_checked

pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "web", "image": "nginx:1"}]}}

test_fires_offline if {
	v := not_checked.violations with input as pod
		with data.kubegate.images as {"nginx:1": {"ref": "nginx:1", "registry": "docker.io", "skipped": "kubegate ran with --offline"}}
	v == {{"msg": "container \"web\" uses image \"nginx:1\" (from docker.io), which was not resolved, verified or scanned (kubegate ran with --offline)", "path": ["spec", "containers", 0, "image"]}}
}

test_passes_checked if {
	count(not_checked.violations) == 0 with input as pod
		with data.kubegate.images as {"nginx:1": {"ref": "nginx:1", "registry": "docker.io", "resolved": "sha256:ab"}}
}
