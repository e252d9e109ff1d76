package load

import (
	"maps"
	"slices"
)

// ImageUse is one container field that names an image.
type ImageUse struct {
	Resource *Resource
	// Path leads to the image field: spec.template.spec.containers[0].image.
	Path Path
}

// Images lists the unique images the resources' containers, init
// containers and ephemeral containers name (after kustomize's images
// transformer), sorted, with every field that names each one, in input
// order.
func Images(resources []*Resource) ([]string, map[string][]ImageUse) {
	uses := map[string][]ImageUse{}
	for _, r := range resources {
		kind, _ := r.Object["kind"].(string)
		base := PodSpecPath(kind)
		spec, _ := Lookup(r.Object, base).(map[string]any)
		if base == nil || spec == nil {
			continue
		}
		for _, t := range []string{"containers", "initContainers", "ephemeralContainers"} {
			list, _ := spec[t].([]any)
			for i, c := range list {
				m, _ := c.(map[string]any)
				if img, _ := m["image"].(string); img != "" {
					p := append(slices.Clone(base), t, i, "image")
					uses[img] = append(uses[img], ImageUse{Resource: r, Path: p})
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(uses)), uses
}
