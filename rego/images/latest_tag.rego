# METADATA
# title: Image uses the latest tag
# description: >-
#   An image without a tag, or tagged latest, and without a digest runs
#   whatever the tag points to when a node pulls it: two replicas can run
#   different code, a rollback re-deploys the new release, and nobody can
#   tell from the manifest what is running. Kubernetes also pulls such
#   images on every start (imagePullPolicy defaults to Always), so a
#   registry outage stops pods from starting.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/containers/images/#image-names
# custom:
#   kinds: [workloads]
#   id: images.latest-tag
#   severity: error
#   fix: >-
#     Name a release tag and pin its digest, for example image: registry.example.com/web:1.4.2@sha256:<digest>.
package kubegate.rules.images.latest_tag

import rego.v1

import data.kubegate.lib.images

violations contains {"msg": msg, "path": c.path} if {
	some c in images.containers
	c.fact.digest == ""
	c.fact.tag in {"", "latest"}
	msg := sprintf("%s uses image %s %s: the node runs whatever that tag points to when it pulls; name a release tag and pin its digest, for example image: %s:<version>@sha256:...%s", [c.label, images.describe(c.fact), what(c.fact), base(c.fact), current(c.fact)])
}

what(f) := "with no tag, which means latest" if f.tag == ""

what(f) := "tagged latest" if f.tag == "latest"

base(f) := trim_suffix(f.ref, ":latest")

current(f) := sprintf(" (latest is %s today)", [f.resolved]) if {
	f.resolved
} else := ""
