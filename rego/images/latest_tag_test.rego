package kubegate.rules.images.latest_tag_test

import rego.v1

import data.kubegate.rules.images.latest_tag

pod(image) := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "web", "image": image}]}}

fact(ref, registry, tag, digest) := {"ref": ref, "registry": registry, "repository": "library/nginx", "tag": tag, "digest": digest}

test_fires_without_a_tag if {
	v := latest_tag.violations with input as pod("nginx")
		with data.kubegate.images as {"nginx": fact("nginx", "docker.io", "", "")}
	v == {{"msg": "container \"web\" uses image \"nginx\" (from docker.io) with no tag, which means latest: the node runs whatever that tag points to when it pulls; name a release tag and pin its digest, for example image: nginx:<version>@sha256:...", "path": ["spec", "containers", 0, "image"]}}
}

test_fires_on_latest_with_todays_digest if {
	f := object.union(fact("ghcr.io/acme/web:latest", "ghcr.io", "latest", ""), {"resolved": "sha256:abc"})
	v := latest_tag.violations with input as pod("ghcr.io/acme/web:latest")
		with data.kubegate.images as {"ghcr.io/acme/web:latest": f}
	v == {{"msg": "container \"web\" uses image \"ghcr.io/acme/web:latest\" tagged latest: the node runs whatever that tag points to when it pulls; name a release tag and pin its digest, for example image: ghcr.io/acme/web:<version>@sha256:... (latest is sha256:abc today)", "path": ["spec", "containers", 0, "image"]}}
}

test_passes_latest_pinned_by_digest if {
	ref := "nginx:latest@sha256:abc"
	count(latest_tag.violations) == 0 with input as pod(ref)
		with data.kubegate.images as {ref: fact(ref, "docker.io", "latest", "sha256:abc")}
}

test_passes_release_tag if {
	count(latest_tag.violations) == 0 with input as pod("nginx:1.27")
		with data.kubegate.images as {"nginx:1.27": fact("nginx:1.27", "docker.io", "1.27", "")}
}

test_fires_when_the_colon_is_a_port if {
	# localhost:5000/web has no tag: the colon belongs to the port. The
	# facts say so (tag ""), so the rule fires.
	ref := "localhost:5000/web"
	v := latest_tag.violations with input as pod(ref)
		with data.kubegate.images as {ref: fact(ref, "localhost:5000", "", "")}
	count(v) == 1
}

test_passes_image_without_facts if {
	count(latest_tag.violations) == 0 with input as pod("nginx") with data.kubegate.images as {}
}
