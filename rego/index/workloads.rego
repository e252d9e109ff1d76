# Lookup tables over every rendered resource, built once per run and stored
# as data.kubegate.cache (see evaluate/engine.go): rules evaluated for one
# resource look their neighbours up here instead of scanning a namespace.
# Rules in this package must not read input.
package kubegate.index

import rego.v1

# HorizontalPodAutoscalers by the workload they scale:
# hpas_by_target[namespace][kind][name] = [hpa name, ...], sorted.
hpas_by_target[ns][kind][name] := sort([hpa |
	some hpa, h in data.kubegate.resources.HorizontalPodAutoscaler[ns]
	h.spec.scaleTargetRef.kind == kind
	h.spec.scaleTargetRef.name == name
]) if {
	some ns, byName in data.kubegate.resources.HorizontalPodAutoscaler
	some _, x in byName
	kind := x.spec.scaleTargetRef.kind
	name := x.spec.scaleTargetRef.name
}
