# What the image checks learnt about each container's image: one entry per
# container whose image kubegate inventoried, as
# {"label": `container "web"`, "path": [..., "image"], "image": <reference>,
#  "fact": data.kubegate.images[<reference>]}.
# The facts come from kubegate itself (package images): the reference taken
# apart (registry, repository, tag, digest), the digest it resolves to
# (resolved, pinned), the signature verdict, attestations and the SBOM's
# packages. A container whose image has no facts (an empty image) is left
# out.
package kubegate.lib.images

import rego.v1

import data.kubegate.lib.kubernetes as k8s

containers := [{"label": c.label, "path": array.concat(c.path, ["image"]), "image": img, "fact": fact} |
	some c in k8s.containers
	img := c.container.image
	fact := data.kubegate.images[img]
]

# The settings of the image rules (allowed registries, the user's list of
# compromised packages, whether signatures are required).
policy := p if {
	p := data.kubegate.image_policy
} else := {}

# How a message names an image: as written, plus the registry it comes
# from when the reference leaves it implicit (Docker Hub).
describe(f) := sprintf("%q", [f.ref]) if {
	startswith(f.ref, f.registry)
} else := sprintf("%q (from %s)", [f.ref, f.registry])
