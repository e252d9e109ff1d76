package load

import (
	"fmt"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// posDocs are documents whose fields are reached through anchors,
// aliases, merge keys, flow and block style, and lists found by their
// merge key or index.
var posDocs = []string{
	fuzzSeeds[0],
	`base: &base
  image: nginx:1.27
  name: &n web
  ports: [{containerPort: 80, name: http}]
spec:
  containers:
    - <<: *base
      resources: {limits: {memory: 64Mi}}
    - name: sidecar
      image: *n
      <<: [{env: [{name: A, value: "1"}]}, *base]
  alias: *base
  scalar: &s plain
  again: *s
  flow: {a: 1, b: [x, {name: y, v: 2}]}
`,
	"a: &x [1, 2]\nb: *x\nc: {<<: {d: 1}}\n",
}

// TestPositionTreeMatchesNodes: walkPos over a compact tree finds what
// walk over the YAML nodes finds (the same position, as deep), for every
// path into the documents and one step beyond.
func TestPositionTreeMatchesNodes(t *testing.T) {
	for i, doc := range posDocs {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
		tree := compact(&n)
		var paths [][]segment
		var gather func(v *yaml.Node, p []segment, depth int)
		gather = func(v *yaml.Node, p []segment, depth int) {
			paths = append(paths, p, append(p[:len(p):len(p)], segment{key: "missing"}))
			v = deref(v)
			if v == nil || depth > 6 {
				return
			}
			switch v.Kind {
			case yaml.MappingNode:
				for j := 0; j+1 < len(v.Content); j += 2 {
					gather(v.Content[j+1], append(p[:len(p):len(p)], segment{key: v.Content[j].Value}), depth+1)
				}
			case yaml.SequenceNode:
				for j, item := range v.Content {
					gather(item, append(p[:len(p):len(p)], segment{index: j, isIndex: true}), depth+1)
					if _, name := mapValue(deref(item), "name"); name != nil && name.Kind == yaml.ScalarNode {
						gather(item, append(p[:len(p):len(p)], segment{index: j, isIndex: true, mergeKey: "name", mergeValue: name.Value}), depth+1)
					}
				}
			}
		}
		gather(&n, nil, 0)
		for _, p := range paths {
			mark, _, found := walk(&n, p)
			got, gotFound := walkPos(tree, p)
			if found != gotFound || got != (posMark{int32(mark.Line), int32(mark.Column)}) {
				t.Errorf("doc %d, path %s: tree %v (%d found), nodes %d:%d (%d found)", i, fmt.Sprint(p), got, gotFound, mark.Line, mark.Column, found)
			}
		}
		if len(paths) < 20 {
			t.Errorf("doc %d: only %d paths", i, len(paths))
		}
	}
}
