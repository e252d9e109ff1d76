package load

import "slices"

// Images lists the unique container images the resources reference, sorted.
func Images(resources []*Resource) []string {
	seen := map[string]bool{}
	for _, r := range resources {
		kind, _ := r.Object["kind"].(string)
		spec, _ := Lookup(r.Object, podSpecPaths[kind]).(map[string]any)
		if podSpecPaths[kind] == nil || spec == nil {
			continue
		}
		for _, t := range []string{"containers", "initContainers", "ephemeralContainers"} {
			list, _ := spec[t].([]any)
			for _, c := range list {
				m, _ := c.(map[string]any)
				if img, _ := m["image"].(string); img != "" {
					seen[img] = true
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for img := range seen {
		out = append(out, img)
	}
	slices.Sort(out)
	return out
}
