# METADATA
# title: PodDisruptionBudget blocks evictions at the HPA's minimum
# description: >-
#   A PodDisruptionBudget that allows no disruption of an autoscaled
#   workload's pods when the HPA has scaled it down to minReplicas stalls
#   every node drain, cluster upgrade and cluster-autoscaler scale-down that
#   would evict one of them, until the HPA happens to scale up: with
#   maxUnavailable 0 (or 0%) always; with minAvailable when it is at or above
#   the number of pods at minimum scale (a percentage rounds up, so 50% of one
#   pod is one pod). The budget is checked against every workload whose pod
#   template its selector matches.
# related_resources:
#   - ref: https://kubernetes.io/docs/tasks/run-application/configure-pdb/#think-about-how-your-application-reacts-to-disruptions
# custom:
#   kinds: [PodDisruptionBudget]
#   id: hpa.pdb-blocks-eviction
#   severity: warning
#   fix: Use spec.maxUnavailable 1 (or a percentage such as 25%) instead of minAvailable, or raise the HPA's minReplicas above the budget's minAvailable.
package kubegate.rules.hpa.pdb_blocks_eviction

import rego.v1

import data.kubegate.lib.hpa as hpa_lib
import data.kubegate.lib.kubernetes as k8s

ns := hpa_lib.namespace

is_pdb if {
	input.kind == "PodDisruptionBudget"
	startswith(input.apiVersion, "policy/")
}

selector := s if {
	is_pdb
	s := input.spec.selector
	is_object(s)
}

match_labels := object.get(selector, "matchLabels", {})

match_expressions := object.get(selector, "matchExpressions", [])

# Candidate workloads [kind, name], from the table of pod labels: the
# workloads with the rarest of the selector's matchLabels pairs (none when a
# pair is on no workload), else with the values of its rarest In
# expression; a selector with neither (only NotIn, Exists, DoesNotExist, or
# empty, which in policy/v1 selects every pod of the namespace) falls back
# to every workload of the namespace. Ground references into the table
# only: a whole namespace of it is never read. A single matchLabels pair
# (the usual selector) is one lookup; when no workload has it, the general
# case below finds none.
candidates := c if {
	count(match_labels) == 1
	some k, v in match_labels
	c := data.kubegate.cache.workloads_by_pod_label[ns][k][v]
} else := c if {
	count(match_labels) > 0
	sized := [[count(refs), k, v] |
		some k, v in match_labels
		refs := data.kubegate.cache.workloads_by_pod_label[ns][k][v]
	]
	c := [ref |
		count(sized) == count(match_labels)
		best := min(sized)
		some ref in data.kubegate.cache.workloads_by_pod_label[ns][best[1]][best[2]]
	]
} else := c if {
	some e in match_expressions
	e.operator == "In"
	best := min([[n, i] |
		some i, e in match_expressions
		e.operator == "In"
		n := sum([count(refs) | some v in e.values; refs := data.kubegate.cache.workloads_by_pod_label[ns][e.key][v]])
	])
	key := match_expressions[best[1]].key
	c := {ref | some v in match_expressions[best[1]].values; some ref in data.kubegate.cache.workloads_by_pod_label[ns][key][v]}
} else := [[kind, name] |
	not selects_nothing
	some kind, _ in pod_labels_paths
	some name in object.keys(data.kubegate.resources[kind][ns])
]

# policy/v1beta1 read an empty selector as selecting no pod.
selects_nothing if {
	input.apiVersion == "policy/v1beta1"
	count(match_labels) == 0
	count(match_expressions) == 0
}

# Where the labels of a workload's pods are, for every kind that makes pods
# (the kinds of data.kubegate.lib.kubernetes.pod_spec_paths but PodTemplate).
# A literal: a comprehension here would be evaluated for every budget.
pod_labels_paths := {
	"Pod": ["metadata", "labels"],
	"Deployment": ["spec", "template", "metadata", "labels"],
	"StatefulSet": ["spec", "template", "metadata", "labels"],
	"DaemonSet": ["spec", "template", "metadata", "labels"],
	"ReplicaSet": ["spec", "template", "metadata", "labels"],
	"ReplicationController": ["spec", "template", "metadata", "labels"],
	"Job": ["spec", "template", "metadata", "labels"],
	"CronJob": ["spec", "jobTemplate", "spec", "template", "metadata", "labels"],
}

# The selected workloads, each [kind, name, the HPAs that scale it (sorted,
# maybe none), the pods it runs at minimum scale (-1 when unknown)].
selected := [[kind, name, hpas, minimum(kind, replicas, hpas)] |
	is_object(selector)
	some [kind, name] in candidates
	w := data.kubegate.resources[kind][ns][name]
	matches(object.get(w, pod_labels_paths[kind], {}))
	hpas := [h | kind in scalable_kinds; some h in data.kubegate.cache.hpas_by_target[ns][kind][name]]
	replicas := object.get(w, ["spec", "replicas"], 1)
]

matches(labels) if {
	every k, v in match_labels {
		labels[k] == v
	}
	every e in match_expressions {
		expression_matches(e, labels)
	}
}

expression_matches(e, labels) if {
	e.operator == "In"
	labels[e.key] in e.values
}

expression_matches(e, labels) if {
	e.operator == "NotIn"
	not labels[e.key] in e.values
}

expression_matches(e, labels) if {
	e.operator == "Exists"
	labels[e.key]
}

expression_matches(e, labels) if {
	e.operator == "DoesNotExist"
	not labels[e.key]
}

# The kinds an HPA can scale (see hpa.target-not-scalable): an HPA on any
# other selected workload does not change its pod count.
scalable_kinds := {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}

# How many pods a workload runs at its minimum scale: the smallest
# minReplicas of its HPAs; spec.replicas (default 1) without an HPA; 1 for a
# Pod; -1 for kinds whose pod count the manifest does not say (DaemonSet,
# Job, CronJob).
minimum(kind, replicas, hpas) := min([hpa_min(h) | some h in hpas]) if {
	count(hpas) > 0
} else := replicas if {
	kind in scalable_kinds
	is_number(replicas)
} else := 1 if {
	kind == "Pod"
} else := -1

hpa_min(h) := n if {
	n := data.kubegate.resources.HorizontalPodAutoscaler[ns][h].spec.minReplicas
	is_number(n)
} else := 1

# The selected workloads that an HPA scales.
autoscaled := [s | some s in selected; count(s[2]) > 0]

autoscaled_words := concat(", ", sort([sprintf("%s %q (HorizontalPodAutoscaler %s)", [s[0], s[1], concat(", ", [sprintf("%q", [h]) | some h in s[2]])]) |
	some s in autoscaled
]))

# Pods selected at minimum scale, when the count of every workload is known.
total := sum([s[3] | some s in selected]) if {
	every s in selected {
		s[3] >= 0
	}
}

violations contains {"msg": msg, "path": ["spec", "maxUnavailable"]} if {
	mu := input.spec.maxUnavailable
	zero(mu)
	count(autoscaled) > 0
	msg := sprintf("spec.maxUnavailable is %v, so no pod of %s may ever be evicted: node drains, cluster upgrades and cluster-autoscaler scale-downs stall on them at any scale; set spec.maxUnavailable: 1 (or a percentage such as 25%%)", [
		value_text(mu), autoscaled_words,
	])
}

violations contains {"msg": msg, "path": ["spec", "minAvailable"]} if {
	ma := input.spec.minAvailable
	not zero(ma)
	count(autoscaled) > 0
	total > 0
	need := required(ma, total)
	need >= total
	msg := sprintf("spec.minAvailable is %v%s, but at minimum scale %s, so none may be evicted then: node drains, cluster upgrades and cluster-autoscaler scale-downs stall until the HPA scales up; set spec.maxUnavailable: 1 instead of minAvailable%s", [
		value_text(ma), rounding(ma, need, total), scale_words, raise_words(ma),
	])
}

zero(0)

zero(s) if hpa_lib.percent(s) == 0

required(ma, _) := ma if is_number(ma)

required(ma, total) := ceil((hpa_lib.percent(ma) * total) / 100)

rounding(ma, need, total) := sprintf(" (%d of %d pod%s, rounded up)", [need, total, plural(total)]) if hpa_lib.percent(ma)

else := ""

# "Deployment "web" runs 2 pods (minReplicas of HorizontalPodAutoscaler "web")".
scale_words := concat(" and ", sort([describe_minimum(s) | some s in selected]))

describe_minimum([kind, name, hpas, n]) := sprintf("%s %q runs %d pod%s (minReplicas of HorizontalPodAutoscaler %q)", [kind, name, n, plural(n), h]) if {
	count(hpas) > 0
	h := min({h | some h in hpas; hpa_min(h) == n})
} else := sprintf("%s %q runs %d pod%s", [kind, name, n, plural(n)])

plural(1) := ""

plural(n) := "s" if n != 1

# Raising minReplicas helps unless the budget asks for 100%.
raise_words(ma) := sprintf(", or raise the HPA's minReplicas so that more than %v pods run at minimum scale", [ma]) if is_number(ma)

else := "" if hpa_lib.percent(ma) >= 100

else := ", or raise the HPA's minReplicas"

value_text(v) := sprintf("%q", [v]) if is_string(v)

else := sprintf("%v", [v])
