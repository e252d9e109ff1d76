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

first := {"kind": "Pod", "namespace": "", "name": "p", "path": ["spec", "containers", 0, "image"]}

test_fires_once_per_image_at_its_first_use if {
	v := not_checked.violations with input as pod
		with data.kubegate.images as {"nginx:1": {"ref": "nginx:1", "registry": "docker.io", "skipped": "kubegate ran with --offline", "uses": 3, "first_use": first}}
	v == {{"msg": "container \"web\" uses image \"nginx:1\" (from docker.io), which was not resolved, verified or scanned (kubegate ran with --offline); 2 more containers name it", "path": ["spec", "containers", 0, "image"]}}
}

test_passes_at_later_uses if {
	other := object.union(first, {"name": "q"})
	count(not_checked.violations) == 0 with input as pod
		with data.kubegate.images as {"nginx:1": {"ref": "nginx:1", "registry": "docker.io", "skipped": "kubegate ran with --offline", "uses": 2, "first_use": other}}
}
