# METADATA
# title: Image holds a known-compromised package
# description: >-
#   Some releases of widely used packages were deliberately backdoored, such
#   as xz-utils 5.6.0 and 5.6.1, whose liblzma lets its author run code
#   through sshd (CVE-2024-3094). An image that holds one must not ship,
#   whatever else its vulnerability scan says. kubegate reads the packages
#   from the image's SBOM, built with syft, and compares them with its
#   built-in list and the configured one (images.compromisedPackages).
# related_resources:
#   - ref: https://nvd.nist.gov/vuln/detail/CVE-2024-3094
# custom:
#   kinds: [workloads]
#   id: images.compromised-package
#   severity: error
#   fix: Rebuild the image on a base that holds a fixed release (for xz, 5.4.6, or 5.6.2 and later) and deploy the new digest.
package kubegate.rules.images.compromised_package

import rego.v1

import data.kubegate.lib.images

# Known-backdoored releases: package names as distributions and ecosystems
# spell them, upstream versions, and what happened.
builtin := [{
	"names": {"xz", "xz-utils", "xz-libs", "xz-devel", "xz-lzma-compat", "liblzma", "liblzma5", "liblzma-dev", "lzma"},
	"versions": {"5.6.0", "5.6.1"},
	"advisory": "CVE-2024-3094, a backdoor in liblzma reachable through sshd",
	"fixed": "5.4.6, or 5.6.2 and later",
}]

# The user's list: [{"name": ..., "versions": [...], "advisory": ...}].
configured := [{
	"names": {e.name},
	"versions": {v | some v in e.versions},
	"advisory": object.get(e, "advisory", "listed as compromised in the configuration"),
	"fixed": object.get(e, "fixed", "a release not on the list"),
} |
	some e in object.get(images.policy, "compromised", [])
]

violations contains {"msg": msg, "path": c.path} if {
	some c in images.containers
	some p in c.fact.packages
	some bad in array.concat(builtin, configured)
	p.name in bad.names
	upstream(p.version) in bad.versions
	msg := sprintf("%s uses image %s (%s), which holds %s %s: %s; rebuild it with %s", [c.label, images.describe(c.fact), c.fact.resolved, p.name, p.version, bad.advisory, bad.fixed])
}

# upstream is a package version without its distribution's parts: an epoch
# (1:), a Debian or RPM revision (-1, -1.fc40) or an Alpine one (-r0). A
# "+really" version (Debian's 5.6.1+really5.4.5) names the older release it
# actually is, and so is not matched.
upstream(v) := regex.replace(regex.replace(v, `^[0-9]+:`, ""), `-[^-]*$`, "")
