# METADATA
# title: Image from a registry that is not allowed
# description: >-
#   Images from anywhere but the organisation's own registries (or the
#   mirrors it vets) bypass its scanning, signing and retention, and can
#   vanish or change without notice. This rule applies when an allow-list
#   is configured (images.allowedRegistries in .kubegate.yaml, or
#   --allowed-registry): an entry is a registry host (ghcr.io), or a host
#   and a repository prefix (ghcr.io/acme); Docker Hub is docker.io.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/containers/images/#image-names
# custom:
#   kinds: [workloads]
#   id: images.registry-not-allowed
#   severity: error
#   fix: Use the image from an allowed registry (mirror it there first), or add its registry to images.allowedRegistries.
package kubegate.rules.images.registry_not_allowed

import rego.v1

import data.kubegate.lib.images

allowed := object.get(images.policy, "allowed_registries", [])

violations contains {"msg": msg, "path": c.path} if {
	count(allowed) > 0
	some c in images.containers
	not permitted(c.fact)
	msg := sprintf("%s uses image %s from %s, which is not an allowed registry (allowed: %s); use an image from an allowed registry", [c.label, images.describe(c.fact), c.fact.registry, concat(", ", allowed)])
}

permitted(f) if {
	some a in allowed
	name := concat("/", [f.registry, f.repository])
	prefix_of(trim_suffix(a, "/"), name)
}

prefix_of(a, name) if a == name

prefix_of(a, name) if startswith(name, concat("", [a, "/"]))
