# METADATA
# title: Image not signed by a trusted signer
# description: >-
#   A signature made in the release pipeline proves that the image came
#   from that pipeline and was not replaced in the registry afterwards.
#   This rule applies when kubegate is told whom to trust (--verify-key, or
#   --verify-identity with --verify-issuer for keyless signatures): an
#   image passes when one of its cosign signatures verifies against a key
#   or the identity, for the exact digest the manifest deploys.
# related_resources:
#   - ref: https://docs.sigstore.dev/cosign/verifying/verify/
# custom:
#   kinds: [workloads]
#   id: images.unsigned
#   severity: error
#   fix: Sign the image in its release pipeline (cosign sign, or kubegate sign --key) with a trusted key or identity, or deploy an image that is signed.
package kubegate.rules.images.unsigned

import rego.v1

import data.kubegate.lib.images

violations contains {"msg": msg, "path": c.path} if {
	some c in images.containers
	sig := c.fact.signature
	not sig.verified
	msg := sprintf("%s uses image %s (%s), which has no signature from a trusted signer: %s; sign it in its release pipeline (cosign sign, or kubegate sign) or deploy a signed image", [c.label, images.describe(c.fact), c.fact.resolved, sig.reason])
}
