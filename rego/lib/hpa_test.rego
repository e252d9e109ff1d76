package kubegate.lib.hpa_test

import rego.v1

import data.kubegate.lib.hpa
import data.kubegate.test.hpa_fixtures as f

with_api_version(v) := object.union(f.hpa("web", {}), {"spec": {"scaleTargetRef": {"apiVersion": v}}})

test_target_group if {
	hpa.target_group == "apps" with input as with_api_version("apps/v1")
	hpa.target_group == "" with input as with_api_version("v1")
	hpa.target_group == "a" with input as with_api_version("a/b/c")
	hpa.target_group == "" with input as with_api_version("/v1")
	not hpa.target_group with input as with_api_version("")
	not hpa.target_group with input as with_api_version(1)
	not hpa.target_group with input as json.remove(f.hpa("web", {}), ["spec/scaleTargetRef/apiVersion"])
}

test_target_not_scalable if {
	not hpa.target_not_scalable with input as with_api_version("apps/v1")
	hpa.target_not_scalable with input as object.union(f.hpa("web", {}), {"spec": {"scaleTargetRef": {"kind": "DaemonSet"}}})
	not hpa.target_not_scalable with input as with_api_version("example.com/v1")
}

# target_found: the HPA's namespace, else no namespace, else the only
# namespace holding a workload of that kind and name.
found(h, objs) := v if {
	v := [hpa.target_found[0], hpa.target_ref, hpa.target.metadata.name] with input as h
		with data.kubegate.resources as f.resources(objs)
}

test_target_found if {
	h := f.hpa("web", {})
	web := f.deployment("web", {})
	found(h, [h, web]) == ["shop", {"kind": "Deployment", "namespace": "shop", "name": "web"}, "web"]
	unset := json.remove(web, ["metadata/namespace"])
	found(h, [h, unset]) == ["", {"kind": "Deployment", "namespace": "", "name": "web"}, "web"]
	bare := json.remove(h, ["metadata/namespace"])
	found(bare, [bare, f.in_namespace(web, "prod")]) == ["prod", {"kind": "Deployment", "namespace": "prod", "name": "web"}, "web"]
	not hpa.target_found with input as bare
		with data.kubegate.resources as f.resources([bare, f.in_namespace(web, "prod"), f.in_namespace(web, "dev")])
	not hpa.target_found with input as h
		with data.kubegate.resources as f.resources([h, f.in_namespace(web, "prod")])
}
