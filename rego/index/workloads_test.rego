package kubegate.index_test

import rego.v1

import data.kubegate.index

resources := {"HorizontalPodAutoscaler": {
	"shop": {
		"web": {"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}}},
		"web-too": {"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}}},
		"api": {"spec": {"scaleTargetRef": {"kind": "StatefulSet", "name": "api"}}},
	},
	"other": {"web": {"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}}}},
}}

test_hpas_by_target if {
	t := index.hpas_by_target with data.kubegate.resources as resources
	t == {
		"shop": {"Deployment": {"web": {"web", "web-too"}}, "StatefulSet": {"api": {"api"}}},
		"other": {"Deployment": {"web": {"web"}}},
	}
}

test_hpas_by_target_empty if {
	count(index.hpas_by_target) == 0 with data.kubegate.resources as {}
}
