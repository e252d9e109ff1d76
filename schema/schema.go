// Package schema knows the shape of Kubernetes objects: the OpenAPI v3
// schemas of the built-in kinds of every supported Kubernetes minor
// (embedded, generated from the k8s.io/kubernetes sources) and of custom
// resources (from CRDs), and validates objects against them as the API
// server's strict field validation would: unknown fields (with the
// apiextensions-apiserver's own pruning walk), and types, enums, formats,
// ranges, patterns and required fields (with kube-openapi's validator,
// which the API server runs for custom resources), and for custom
// resources their CEL rules.
package schema

//go:generate go run ./internal/gen -o kubernetes.json.gz

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

//go:embed kubernetes.json.gz
var embedded []byte

// GVK names a kind at one API version.
type GVK struct{ Group, Version, Kind string }

// ParseGVK reads an object's apiVersion and kind.
func ParseGVK(apiVersion, kind string) GVK {
	g, v, ok := strings.Cut(apiVersion, "/")
	if !ok {
		g, v = "", apiVersion
	}
	return GVK{Group: g, Version: v, Kind: kind}
}

// APIVersion is group/version, or version for the core group.
func (k GVK) APIVersion() string {
	if k.Group == "" {
		return k.Version
	}
	return k.Group + "/" + k.Version
}

func (k GVK) String() string { return k.APIVersion() + " " + k.Kind }

// builtins is the embedded file, decoded once.
type builtins struct {
	versions    []int                  // minors, oldest first
	schemas     []map[string]any       // distinct schemas
	definitions map[string][][]int     // name -> [schema index, minor...]
	kinds       map[int]map[GVK]string // minor -> kind -> definition name
	defs        map[int]map[string]int // minor -> definition name -> schema index
}

var (
	loadOnce sync.Once
	loaded   *builtins
	loadErr  error
)

func embeddedBuiltins() (*builtins, error) {
	loadOnce.Do(func() { loaded, loadErr = decodeBuiltins(embedded) })
	return loaded, loadErr
}

func decodeBuiltins(data []byte) (*builtins, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("embedded schemas: %w", err)
	}
	var file struct {
		Versions    []string           `json:"versions"`
		Schemas     []map[string]any   `json:"schemas"`
		Definitions map[string][][]int `json:"definitions"`
	}
	if err := json.NewDecoder(zr).Decode(&file); err != nil {
		return nil, fmt.Errorf("embedded schemas: %w", err)
	}
	b := &builtins{schemas: file.Schemas, definitions: file.Definitions, kinds: map[int]map[GVK]string{}, defs: map[int]map[string]int{}}
	for _, v := range file.Versions {
		minor, err := strconv.Atoi(strings.TrimPrefix(v, "v1."))
		if err != nil {
			return nil, fmt.Errorf("embedded schemas: version %q", v)
		}
		b.versions = append(b.versions, minor)
		b.kinds[minor] = map[GVK]string{}
		b.defs[minor] = map[string]int{}
	}
	for name, variants := range file.Definitions {
		for _, v := range variants {
			for _, minor := range v[1:] {
				b.defs[minor][name] = v[0]
				gvks, _ := file.Schemas[v[0]]["x-kubernetes-group-version-kind"].([]any)
				for _, x := range gvks {
					m, _ := x.(map[string]any)
					k := GVK{Group: str(m["group"]), Version: str(m["version"]), Kind: str(m["kind"])}
					if k.Kind != "" && k.Version != "" {
						b.kinds[minor][k] = name
					}
				}
			}
		}
	}
	return b, nil
}

func str(v any) string { s, _ := v.(string); return s }

// Versions are the Kubernetes minors whose built-in schemas are embedded,
// oldest first.
func Versions() []int {
	b, err := embeddedBuiltins()
	if err != nil {
		return nil
	}
	return b.versions
}

// schemaMinor is the embedded minor used for a target minor: the target's
// own, the oldest embedded for an older target, the newest for a newer.
func (b *builtins) schemaMinor(target int) int {
	if target <= b.versions[0] {
		return b.versions[0]
	}
	if last := b.versions[len(b.versions)-1]; target >= last {
		return last
	}
	return target
}
