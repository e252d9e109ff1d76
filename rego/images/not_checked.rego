# METADATA
# title: Image not checked
# description: >-
#   With --offline, kubegate contacts no registry, so it cannot resolve an
#   image's tag to its digest, verify its signatures or read its packages:
#   the image checks that need the image itself did not run. This notice
#   says so, so that an offline run is never mistaken for a clean one.
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
	msg := sprintf("%s uses image %s, which was not resolved, verified or scanned (%s)", [c.label, images.describe(c.fact), c.fact.skipped])
}
