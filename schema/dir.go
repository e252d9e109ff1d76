package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// WithFS is a catalog with the schemas of a directory (--schema DIR) added:
// every CustomResourceDefinition in its YAML and JSON files, and JSON
// schema files laid out as <group>/<kind>_<version>.json (the layout of
// the CRDs-catalog that kubeconform reads). name is how messages call the
// directory. Each unreadable file is an error; the rest are still added.
func (c *Catalog) WithFS(fsys fs.FS, name string) (*Catalog, []error) {
	d := *c
	d.custom = maps.Clone(c.custom)
	var errs []error
	err := fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path.Join(name, p), err))
			return nil
		}
		ext := path.Ext(p)
		if e.IsDir() || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path.Join(name, p), err))
			return nil
		}
		if err := d.addFile(p, data); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path.Join(name, p), err))
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return &d, errs
}

// addFile adds the CRDs of a YAML or JSON file, or the file as a JSON
// schema.
func (c *Catalog) addFile(p string, data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		var doc any
		if err := node.Decode(&doc); err != nil {
			return fmt.Errorf("line %d: %w", node.Line, err)
		}
		obj, err := jsonObject(doc)
		if err != nil {
			return fmt.Errorf("line %d: %w", node.Line, err)
		}
		if obj == nil {
			continue
		}
		kind, _ := obj["kind"].(string)
		apiVersion, _ := obj["apiVersion"].(string)
		switch {
		case kind == "CustomResourceDefinition" && strings.HasPrefix(apiVersion, "apiextensions.k8s.io/"):
			if err := c.addCRD(obj); err != nil {
				return fmt.Errorf("line %d: %w", node.Line, err)
			}
		case kind == "" && apiVersion == "" && path.Ext(p) == ".json":
			return c.AddSchemaFile(p, data)
		}
	}
	return nil
}

// jsonObject is a decoded YAML document as JSON would decode it (nil for
// an empty document).
func jsonObject(doc any) (map[string]any, error) {
	if doc == nil {
		return nil, nil
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("not a map of fields")
	}
	return obj, nil
}
