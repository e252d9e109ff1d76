package kubegate.rules.images.registry_not_allowed_test

import rego.v1

import data.kubegate.rules.images.registry_not_allowed

pod(image) := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "web", "image": image}]}}

facts := {
	"nginx:1": {"ref": "nginx:1", "registry": "docker.io", "repository": "library/nginx", "tag": "1", "digest": ""},
	"ghcr.io/acme/web:1": {"ref": "ghcr.io/acme/web:1", "registry": "ghcr.io", "repository": "acme/web", "tag": "1", "digest": ""},
	"ghcr.io/acmecorp/web:1": {"ref": "ghcr.io/acmecorp/web:1", "registry": "ghcr.io", "repository": "acmecorp/web", "tag": "1", "digest": ""},
}

test_fires_docker_hub_not_allowed if {
	v := registry_not_allowed.violations with input as pod("nginx:1")
		with data.kubegate.images as facts
		with data.kubegate.image_policy as {"allowed_registries": ["ghcr.io/acme", "registry.example.com"]}
	v == {{"msg": "container \"web\" uses image \"nginx:1\" (from docker.io) from docker.io, which is not an allowed registry (allowed: ghcr.io/acme, registry.example.com); use an image from an allowed registry", "path": ["spec", "containers", 0, "image"]}}
}

test_fires_prefix_is_a_path_prefix if {
	# ghcr.io/acme allows ghcr.io/acme/web, not ghcr.io/acmecorp/web.
	count(registry_not_allowed.violations) == 0 with input as pod("ghcr.io/acme/web:1")
		with data.kubegate.images as facts
		with data.kubegate.image_policy as {"allowed_registries": ["ghcr.io/acme/"]}
	count(registry_not_allowed.violations) == 1 with input as pod("ghcr.io/acmecorp/web:1")
		with data.kubegate.images as facts
		with data.kubegate.image_policy as {"allowed_registries": ["ghcr.io/acme"]}
}

test_passes_host_allows_its_repositories if {
	count(registry_not_allowed.violations) == 0 with input as pod("ghcr.io/acmecorp/web:1")
		with data.kubegate.images as facts
		with data.kubegate.image_policy as {"allowed_registries": ["ghcr.io"]}
}

test_passes_without_a_list if {
	count(registry_not_allowed.violations) == 0 with input as pod("nginx:1") with data.kubegate.images as facts
}
