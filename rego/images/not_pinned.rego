# METADATA
# title: Image not pinned by digest
# description: >-
#   A tag is a name that anyone who can push to the repository can move to
#   other content, so the same manifest can deploy different code tomorrow,
#   and a signature checked today says nothing about what a node pulls next
#   week. A digest names the content itself. The tag can stay beside it for
#   people to read (image: web:1.4.2@sha256:...); the runtime pulls by the
#   digest.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/containers/images/#image-names
# custom:
#   kinds: [workloads]
#   id: images.not-pinned
#   severity: warning
#   fix: >-
#     Append the digest the tag resolves to, for example image: registry.example.com/web:1.4.2@sha256:<digest> (kubegate's message gives it; crane digest prints it).
package kubegate.rules.images.not_pinned

import rego.v1

import data.kubegate.lib.images

# A missing or latest tag is images.latest-tag's.
violations contains {"msg": msg, "path": c.path} if {
	some c in images.containers
	c.fact.digest == ""
	not c.fact.tag in {"", "latest"}
	msg := sprintf("%s uses image %s by tag only, and a tag can be moved to other content; pin its digest: %s", [c.label, images.describe(c.fact), suggestion(c.fact)])
}

suggestion(f) := sprintf("image: %s", [f.pinned]) if {
	f.pinned
} else := sprintf("image: %s@sha256:<digest> (crane digest %s prints it)", [f.ref, f.ref])
