package kubegate.rules.images.compromised_package_test

import rego.v1

import data.kubegate.rules.images.compromised_package

pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": "app:1"}]}}

facts(pkgs) := {"app:1": {"ref": "app:1", "registry": "docker.io", "repository": "library/app", "tag": "1", "digest": "", "resolved": "sha256:ab", "packages": pkgs}}

test_fires_debian_liblzma if {
	v := compromised_package.violations with input as pod
		with data.kubegate.images as facts([{"name": "liblzma5", "version": "5.6.1-1", "type": "deb"}, {"name": "bash", "version": "5.2-1", "type": "deb"}])
	v == {{"msg": "container \"app\" uses image \"app:1\" (from docker.io) (sha256:ab), which holds liblzma5 5.6.1-1: CVE-2024-3094, a backdoor in liblzma reachable through sshd; rebuild it with 5.4.6, or 5.6.2 and later", "path": ["spec", "containers", 0, "image"]}}
}

test_fires_alpine_and_rpm_revisions if {
	count(compromised_package.violations) == 1 with input as pod with data.kubegate.images as facts([{"name": "xz-libs", "version": "5.6.1-r0"}])
	count(compromised_package.violations) == 1 with input as pod with data.kubegate.images as facts([{"name": "xz", "version": "0:5.6.0-1.fc40"}])
}

test_passes_debian_revert if {
	# 5.6.1+really5.4.5 is Debian's rebuild of 5.4.5.
	count(compromised_package.violations) == 0 with input as pod with data.kubegate.images as facts([{"name": "liblzma5", "version": "5.6.1+really5.4.5-1"}])
}

test_passes_fixed_versions if {
	count(compromised_package.violations) == 0 with input as pod with data.kubegate.images as facts([{"name": "liblzma5", "version": "5.4.5-0.3"}, {"name": "xz-libs", "version": "5.6.2-r0"}])
}

test_fires_user_list if {
	v := compromised_package.violations with input as pod
		with data.kubegate.images as facts([{"name": "event-stream", "version": "3.3.6", "type": "npm"}])
		with data.kubegate.image_policy as {"compromised": [{"name": "event-stream", "versions": ["3.3.6"], "advisory": "flatmap-stream stole wallets"}]}
	v == {{"msg": "container \"app\" uses image \"app:1\" (from docker.io) (sha256:ab), which holds event-stream 3.3.6: flatmap-stream stole wallets; rebuild it with a release not on the list", "path": ["spec", "containers", 0, "image"]}}
}

test_passes_without_sbom if {
	count(compromised_package.violations) == 0 with input as pod with data.kubegate.images as {"app:1": {"ref": "app:1", "registry": "docker.io"}}
}
