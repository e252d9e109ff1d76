package kubegate.workloads_index_test

import rego.v1

import data.kubegate.index

hpa(api_version, kind, name) := {"apiVersion": api_version, "kind": "HorizontalPodAutoscaler", "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": name}}}

vpa(api_version, kind, name) := {"apiVersion": api_version, "kind": "VerticalPodAutoscaler", "spec": {"targetRef": {"apiVersion": "apps/v1", "kind": kind, "name": name}}}

test_hpas_by_target if {
	resources := {"HorizontalPodAutoscaler": {
		"shop": {
			"web-cpu": hpa("autoscaling/v2", "Deployment", "web"),
			"web-memory": hpa("autoscaling/v2", "Deployment", "web"),
			"web-v1": hpa("autoscaling/v1", "Deployment", "web"),
			"db": hpa("autoscaling/v2beta2", "StatefulSet", "db"),
			# Not an HPA of the autoscaling group, and malformed references.
			"other": hpa("example.com/v1", "Deployment", "web"),
			"no-name": {"apiVersion": "autoscaling/v2", "spec": {"scaleTargetRef": {"kind": "Deployment"}}},
			"no-ref": {"apiVersion": "autoscaling/v2", "spec": {}},
		},
		"": {"web": hpa("autoscaling/v2", "Deployment", "web")},
	}}
	index.hpas_by_target == {
		"shop": {
			"Deployment": {"web": ["web-cpu", "web-memory", "web-v1"]},
			"StatefulSet": {"db": ["db"]},
		},
		"": {"Deployment": {"web": ["web"]}},
	} with data.kubegate.resources as resources
}

test_hpas_by_target_empty if {
	index.hpas_by_target == {} with data.kubegate.resources as {}
}

test_vpas_by_target if {
	resources := {"VerticalPodAutoscaler": {"shop": {
		"web": vpa("autoscaling.k8s.io/v1", "Deployment", "web"),
		"web-old": vpa("autoscaling.k8s.io/v1beta2", "Deployment", "web"),
		"other": vpa("example.com/v1", "Deployment", "web"),
	}}}
	index.vpas_by_target == {"shop": {"Deployment": {"web": ["web", "web-old"]}}} with data.kubegate.resources as resources
}

template(labels) := {"metadata": {"labels": labels}, "spec": {"containers": []}}

test_workloads_by_pod_label if {
	resources := {
		"Deployment": {"shop": {
			"web": {"spec": {"template": template({"app": "web", "tier": "frontend"})}},
			"api": {"spec": {"template": template({"app": "api", "tier": "frontend"})}},
			"bare": {"spec": {}},
		}},
		"CronJob": {"shop": {"report": {"spec": {"jobTemplate": {"spec": {"template": template({"app": "report"})}}}}}},
		"Pod": {"": {"debug": {"metadata": {"labels": {"app": "web", "bad": 1}}}}},
		# PodTemplates make no pods.
		"PodTemplate": {"shop": {"t": {"template": template({"app": "web"})}}},
	}
	index.workloads_by_pod_label == {
		"shop": {
			"app": {
				"web": [["Deployment", "web"]],
				"api": [["Deployment", "api"]],
				"report": [["CronJob", "report"]],
			},
			"tier": {"frontend": [["Deployment", "api"], ["Deployment", "web"]]},
		},
		"": {"app": {"web": [["Pod", "debug"]]}},
	} with data.kubegate.resources as resources
}
