# METADATA
# title: Image not checked
# description: >-
#   With --offline, kubegate contacts no registry, so it cannot resolve an
#   image's tag to its digest, verify its signatures or read its packages:
#   the image checks that need the image itself did not run. This notice
#   says so, so that an offline run is never mistaken for a clean one. It is
#   made once per image, on the first field that names it.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/containers/images/
# custom:
#   kinds: [workloads]
#   id: images.not-checked
#   severity: notice
#   fix: Run without --offline where the registry is reachable, or give the images as OCI layouts with --image-layout.
package kubegate.rules.images.not_checked

import rego.v1

import data.kubegate.lib.images

violations contains {"msg": msg, "path": c.path} if {
	some c in images.containers
	c.fact.skipped
	first_use(c)
	msg := sprintf("%s uses image %s, which was not resolved, verified or scanned (%s)%s", [c.label, images.describe(c.fact), c.fact.skipped, others(c.fact)])
}

first_use(c) if {
	f := c.fact.first_use
	f.kind == input.kind
	f.name == input.metadata.name
	f.namespace == object.get(input.metadata, "namespace", "")
	f.path == c.path
}

# Without the inventory's first use, every use.
first_use(c) if not c.fact.first_use

others(f) := sprintf("; %d more containers name it", [f.uses - 1]) if {
	f.uses > 1
} else := ""
