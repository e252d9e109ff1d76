package kubegate.rules.images.not_pinned_test

import rego.v1

import data.kubegate.rules.images.not_pinned

deploy(image) := {"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"spec": {
	"initContainers": [{"name": "init", "image": "busybox:1.36@sha256:def"}],
	"containers": [{"name": "web", "image": image}],
}}}}

facts := {
	"busybox:1.36@sha256:def": {"ref": "busybox:1.36@sha256:def", "registry": "docker.io", "repository": "library/busybox", "tag": "1.36", "digest": "sha256:def"},
	"registry.example.com/web:1.4.2": {"ref": "registry.example.com/web:1.4.2", "registry": "registry.example.com", "repository": "web", "tag": "1.4.2", "digest": ""},
}

test_fires_tag_only_unresolved if {
	v := not_pinned.violations with input as deploy("registry.example.com/web:1.4.2") with data.kubegate.images as facts
	v == {{"msg": "container \"web\" uses image \"registry.example.com/web:1.4.2\" by tag only, and a tag can be moved to other content; pin its digest: image: registry.example.com/web:1.4.2@sha256:<digest> (crane digest registry.example.com/web:1.4.2 prints it)", "path": ["spec", "template", "spec", "containers", 0, "image"]}}
}

test_fires_with_the_digest_to_pin if {
	f := object.union(facts["registry.example.com/web:1.4.2"], {"resolved": "sha256:123", "pinned": "registry.example.com/web:1.4.2@sha256:123"})
	v := not_pinned.violations with input as deploy("registry.example.com/web:1.4.2")
		with data.kubegate.images as object.union(facts, {"registry.example.com/web:1.4.2": f})
	v == {{"msg": "container \"web\" uses image \"registry.example.com/web:1.4.2\" by tag only, and a tag can be moved to other content; pin its digest: image: registry.example.com/web:1.4.2@sha256:123", "path": ["spec", "template", "spec", "containers", 0, "image"]}}
}

test_passes_pinned if {
	count(not_pinned.violations) == 0 with input as deploy("busybox:1.36@sha256:def") with data.kubegate.images as facts
}

test_passes_latest_left_to_latest_tag if {
	count(not_pinned.violations) == 0 with input as deploy("web:latest")
		with data.kubegate.images as {"web:latest": {"ref": "web:latest", "registry": "docker.io", "repository": "library/web", "tag": "latest", "digest": ""}}
}
