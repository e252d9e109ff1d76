package kubegate.rules.images.unsigned_test

import rego.v1

import data.kubegate.rules.images.unsigned

pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "web", "image": "ghcr.io/acme/web:1"}]}}

fact(sig) := {"ghcr.io/acme/web:1": {"ref": "ghcr.io/acme/web:1", "registry": "ghcr.io", "repository": "acme/web", "tag": "1", "digest": "", "resolved": "sha256:aa", "signature": sig}}

test_fires_unsigned if {
	v := unsigned.violations with input as pod with data.kubegate.images as fact({"verified": false, "reason": "no cosign signature is attached to sha256:aa"})
	v == {{"msg": "container \"web\" uses image \"ghcr.io/acme/web:1\" (sha256:aa), which has no signature from a trusted signer: no cosign signature is attached to sha256:aa; sign it in its release pipeline (cosign sign, or kubegate sign) or deploy a signed image", "path": ["spec", "containers", 0, "image"]}}
}

test_passes_verified if {
	count(unsigned.violations) == 0 with input as pod with data.kubegate.images as fact({"verified": true, "signers": ["key cosign.pub"]})
}

test_passes_when_not_required if {
	# Without keys or an identity there is no signature verdict.
	f := json.remove(fact({}), ["ghcr.io~1acme~1web:1/signature"])
	count(unsigned.violations) == 0 with input as pod with data.kubegate.images as f
}
