# METADATA
# title: API version deprecated
# description: >-
#   The target cluster (--kube-version) still serves this apiVersion of the
#   kind, but Kubernetes has deprecated it and names the release that stops
#   serving it: the manifest breaks on the upgrade to that release. The
#   versions come from the upstream prerelease-lifecycle markers of
#   k8s.io/api.
# related_resources:
#   - ref: https://kubernetes.io/docs/reference/using-api/deprecation-guide/
# custom:
#   id: api.deprecated
#   severity: warning
#   fix: Move to the apiVersion the message names before the cluster is upgraded to the release that removes this one.
package kubegate.rules.api.deprecated

import rego.v1

import data.kubegate.lib.apis

violations contains {"msg": msg, "path": ["apiVersion"]} if {
	apis.deprecated
	msg := sprintf("%s %s is deprecated since Kubernetes 1.%d%s; %s", [input.apiVersion, input.kind, apis.lifecycle.deprecated, until, apis.instead])
}

until := sprintf(" and no longer served from 1.%d", [apis.lifecycle.removed]) if apis.lifecycle.removed > 0

else := ""
