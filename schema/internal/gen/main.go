// Command gen writes schema/kubernetes.json.gz, the OpenAPI v3 schemas of
// the built-in kinds of every Kubernetes minor kubegate supports, from the
// k8s.io/kubernetes module zips the Go module proxy serves:
//
//	go generate ./schema   (runs: go run ./internal/gen -o kubernetes.json.gz)
//
// It is never run by the build or the tests; its output is committed.
//
// For each version it reads api/openapi-spec/v3/*.json (every group
// version's document; the definitions they share are the same) and keeps
// what validation reads: types, formats, properties, items,
// additionalProperties, required, references and the x-kubernetes
// extensions that change validation. Descriptions, defaults and the
// merge-strategy extensions go. The published documents carry no enum
// values, but the generated Go source they come from does
// (pkg/generated/openapi/zz_generated.openapi.go, Enum: of each +enum
// field): those are read from it with go/ast and put back.
//
// Definitions identical across versions are stored once: the file is
// {"versions": ["v1.29", ...], "schemas": [schema...], "definitions":
// {name: [[schema index, minor, minor, ...], ...]}}.
package main

import (
	"archive/zip"
	"bytes"
	"cmp"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
)

// releases are the newest patch of each supported minor on the day this
// was written; a new minor is one line here and a `go generate`.
var releases = []string{"v1.29.6", "v1.30.14", "v1.31.14", "v1.32.13", "v1.33.13", "v1.34.4", "v1.35.4", "v1.36.3", "v1.37.2"}

// kept are the schema keywords validation reads.
var kept = map[string]bool{
	"type": true, "format": true, "properties": true, "additionalProperties": true, "items": true,
	"required": true, "$ref": true, "allOf": true, "oneOf": true, "anyOf": true, "enum": true, "nullable": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true, "minLength": true, "maxLength": true,
	"minItems": true, "maxItems": true, "pattern": true, "maxProperties": true, "minProperties": true,
	"x-kubernetes-group-version-kind": true, "x-kubernetes-int-or-string": true, "x-kubernetes-preserve-unknown-fields": true,
	"x-kubernetes-embedded-resource": true, "x-kubernetes-validations": true,
}

func main() {
	out := flag.String("o", "kubernetes.json.gz", "output file of the schemas")
	apis := flag.String("apis", "apis.json", "output file of the API lifecycle table")
	flag.Parse()
	writeLifecycle(*apis)
	type variant struct {
		schema json.RawMessage
		minors []int
	}
	defs := map[string][]*variant{}
	var versions []string
	for _, rel := range releases {
		minor, zipPath := download(rel)
		versions = append(versions, fmt.Sprintf("v1.%d", minor))
		schemas, err := readVersion(zipPath)
		if err != nil {
			log.Fatalf("%s: %v", rel, err)
		}
		n := 0
		for name, s := range schemas {
			data, err := json.Marshal(s)
			if err != nil {
				log.Fatal(err)
			}
			i := slices.IndexFunc(defs[name], func(v *variant) bool { return bytes.Equal(v.schema, data) })
			if i < 0 {
				defs[name] = append(defs[name], &variant{schema: data})
				i = len(defs[name]) - 1
			}
			defs[name][i].minors = append(defs[name][i].minors, minor)
			n++
		}
		log.Printf("%s: %d definitions", rel, n)
	}
	// The file: unique schemas by content, each definition's variants.
	var file struct {
		Versions    []string           `json:"versions"`
		Schemas     []json.RawMessage  `json:"schemas"`
		Definitions map[string][][]int `json:"definitions"`
	}
	file.Versions = versions
	file.Definitions = map[string][][]int{}
	index := map[[32]byte]int{}
	names := make([]string, 0, len(defs))
	for name := range defs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range defs[name] {
			h := sha256.Sum256(v.schema)
			i, ok := index[h]
			if !ok {
				i = len(file.Schemas)
				index[h] = i
				file.Schemas = append(file.Schemas, v.schema)
			}
			file.Definitions[name] = append(file.Definitions[name], append([]int{i}, v.minors...))
		}
	}
	data, err := json.Marshal(file)
	if err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("%s: %d definitions, %d distinct schemas, %d bytes of JSON, %d gzipped", *out, len(names), len(file.Schemas), len(data), buf.Len())
}

// download fetches k8s.io/kubernetes at rel through the module proxy and
// returns its minor and the path of its zip.
func download(rel string) (int, string) {
	zip := downloadModule("k8s.io/kubernetes@" + rel)
	minor, err := strconv.Atoi(strings.Split(rel, ".")[1])
	if err != nil {
		log.Fatal(err)
	}
	return minor, zip
}

// readVersion reads one release's definitions, trimmed, with enums.
func readVersion(zipPath string) (map[string]map[string]any, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	defs := map[string]map[string]any{}
	var enums map[string]map[string][]any
	for _, f := range zr.File {
		// k8s.io/kubernetes@v1.37.2/api/... -> api/...
		_, name, _ := strings.Cut(f.Name, "@")
		_, name, _ = strings.Cut(name, "/")
		switch {
		case path.Dir(name) == "api/openapi-spec/v3" && strings.HasSuffix(name, ".json"):
			var doc struct {
				Components struct {
					Schemas map[string]map[string]any `json:"schemas"`
				} `json:"components"`
			}
			if err := readJSON(f, &doc); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			for n, s := range doc.Components.Schemas {
				defs[n] = s
			}
		case name == "pkg/generated/openapi/zz_generated.openapi.go":
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			src, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return nil, err
			}
			if enums, err = readEnums(src); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	if len(defs) == 0 || enums == nil {
		return nil, fmt.Errorf("no OpenAPI v3 documents or no generated OpenAPI source")
	}
	placed := 0
	for n, s := range defs {
		for at, values := range enums[n] {
			if placeEnum(s, strings.Split(at, "/"), values) {
				placed++
			} else if os.Getenv("GEN_DEBUG") != "" {
				log.Printf("enum not placed: %s %s", n, at)
			}
		}
		defs[n] = trim(s).(map[string]any)
	}
	log.Printf("%d enums placed", placed)
	return defs, nil
}

func readJSON(f *zip.File, v any) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return json.NewDecoder(rc).Decode(v)
}

// placeEnum sets enum on the schema at the path of property names, "[]"
// (an array's items) and "{}" (a map's values).
func placeEnum(s map[string]any, at []string, values []any) bool {
	for _, step := range at {
		var next any
		switch step {
		case "[]":
			next = s["items"]
		case "{}":
			next = s["additionalProperties"]
		default:
			props, _ := s["properties"].(map[string]any)
			next = props[step]
		}
		m, ok := next.(map[string]any)
		if !ok {
			return false
		}
		s = m
	}
	s["enum"] = values
	return true
}

// trim keeps the keywords validation reads, and writes a reference as
// {"$ref": name}: the published form {"allOf": [{"$ref":
// "#/components/schemas/name"}]} exists only to carry a description or
// default beside the reference.
func trim(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if all, ok := v["allOf"].([]any); ok && len(all) == 1 {
			if ref, ok := all[0].(map[string]any)["$ref"].(string); ok {
				v["$ref"] = ref
				delete(v, "allOf")
			}
		}
		out := map[string]any{}
		for k, x := range v {
			switch {
			case !kept[k]:
			case k == "$ref":
				out[k] = path.Base(x.(string))
			case strings.HasPrefix(k, "x-kubernetes-"):
				out[k] = x // an extension's value is data, not a schema
			case k == "properties":
				props := map[string]any{}
				for p, s := range x.(map[string]any) {
					props[p] = trim(s)
				}
				out[k] = props
			default:
				out[k] = trim(x)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = trim(x)
		}
		return out
	}
	return v
}

// readEnums reads the Enum of every field of the generated OpenAPI
// source: definition name -> path (see placeEnum) -> values.
func readEnums(src []byte) (map[string]map[string][]any, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "zz_generated.openapi.go", src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	// GetOpenAPIDefinitions maps "k8s.io/api/core/v1.Container" to the
	// function schema_k8sio_api_core_v1_Container.
	defOf := map[string]string{}
	imports := map[string]string{}
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		name := path.Base(p)
		if im.Name != nil {
			name = im.Name.Name
		}
		imports[name] = p
	}
	funcs := map[string]*ast.FuncDecl{}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		funcs[fd.Name.Name] = fd
		if fd.Name.Name != "GetOpenAPIDefinitions" {
			continue
		}
		ast.Inspect(fd, func(n ast.Node) bool {
			kv, ok := n.(*ast.KeyValueExpr)
			if !ok {
				return true
			}
			call, ok := kv.Value.(*ast.CallExpr)
			if !ok {
				return false
			}
			fn, ok := call.Fun.(*ast.Ident)
			if !ok {
				return false
			}
			switch key := kv.Key.(type) {
			case *ast.BasicLit: // "k8s.io/api/core/v1.Container" (to v1.34)
				goName, _ := strconv.Unquote(key.Value)
				defOf[fn.Name] = openAPIName(goName)
			case *ast.CallExpr: // v1.Container{}.OpenAPIModelName() (from v1.35)
				sel, _ := key.Fun.(*ast.SelectorExpr)
				if sel == nil || sel.Sel.Name != "OpenAPIModelName" {
					return false
				}
				lit, _ := sel.X.(*ast.CompositeLit)
				if lit == nil {
					return false
				}
				if t, ok := lit.Type.(*ast.SelectorExpr); ok {
					if pkg, ok := t.X.(*ast.Ident); ok && imports[pkg.Name] != "" {
						defOf[fn.Name] = openAPIName(imports[pkg.Name] + "." + t.Sel.Name)
					}
				}
			}
			return false
		})
	}
	if len(defOf) == 0 {
		return nil, fmt.Errorf("no GetOpenAPIDefinitions")
	}
	out := map[string]map[string][]any{}
	for fn, def := range defOf {
		fd := funcs[fn]
		if fd == nil {
			continue
		}
		var walk func(n ast.Node, at []string)
		walk = func(n ast.Node, at []string) {
			ast.Inspect(n, func(n ast.Node) bool {
				kv, ok := n.(*ast.KeyValueExpr)
				if !ok || n == nil {
					return true
				}
				id, _ := kv.Key.(*ast.Ident)
				switch {
				case id != nil && id.Name == "Properties":
					lit, ok := kv.Value.(*ast.CompositeLit)
					if !ok {
						return false
					}
					for _, e := range lit.Elts {
						p, ok := e.(*ast.KeyValueExpr)
						if !ok {
							continue
						}
						if k, ok := p.Key.(*ast.BasicLit); ok {
							name, _ := strconv.Unquote(k.Value)
							walk(p.Value, append(slices.Clip(at), name))
						}
					}
					return false
				case id != nil && id.Name == "Items":
					walk(kv.Value, append(slices.Clip(at), "[]"))
					return false
				case id != nil && id.Name == "AdditionalProperties":
					walk(kv.Value, append(slices.Clip(at), "{}"))
					return false
				case id != nil && id.Name == "Enum":
					lit, ok := kv.Value.(*ast.CompositeLit)
					if !ok {
						return false
					}
					var values []any
					for _, e := range lit.Elts {
						if b, ok := e.(*ast.BasicLit); ok && b.Kind == token.STRING {
							s, _ := strconv.Unquote(b.Value)
							values = append(values, s)
						}
					}
					if len(values) > 0 && len(at) > 0 {
						if out[def] == nil {
							out[def] = map[string][]any{}
						}
						out[def][strings.Join(at, "/")] = values
					}
					return false
				}
				return true
			})
		}
		walk(fd.Body, nil)
	}
	return out, nil
}

// openAPIName is the published name of a Go type:
// k8s.io/api/core/v1.Container -> io.k8s.api.core.v1.Container.
func openAPIName(goName string) string {
	host, rest, _ := strings.Cut(goName, "/")
	parts := strings.Split(host, ".")
	slices.Reverse(parts)
	return cmp.Or(strings.Join(parts, ".")+"."+strings.ReplaceAll(rest, "/", "."), goName)
}
