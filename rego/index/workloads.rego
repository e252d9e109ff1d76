# Lookup tables over every rendered resource, built once per run and stored
# as data.kubegate.cache (see evaluate/engine.go): rules evaluated for one
# resource look their neighbours up here instead of scanning a namespace.
# Rules in this package must not read input.
package kubegate.index

import rego.v1

# HorizontalPodAutoscalers by the workload they scale:
# hpas_by_target[namespace][kind][name] = {hpa name, ...}. One pass over the
# HPAs (a comprehension per HPA would be quadratic in a namespace).
hpas_by_target[ns][kind][name] contains hpa if {
	some ns, byName in data.kubegate.resources.HorizontalPodAutoscaler
	some hpa, h in byName
	kind := h.spec.scaleTargetRef.kind
	name := h.spec.scaleTargetRef.name
}
