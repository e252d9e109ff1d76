package main

// The API lifecycle table: for every built-in group version and kind that
// carries the upstream prerelease-lifecycle markers (+k8s:prerelease-
// lifecycle-gen:introduced/deprecated/removed/replacement, generated into
// the APILifecycle* methods of zz_generated.prerelease-lifecycle.go), the
// minors that introduced, deprecated and removed it and its replacement.
// Types are deleted from k8s.io/api some releases after their removal, so
// every minor's module is read, the newest one's markers winning.

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
)

// lifecycleModules are read oldest first; the markers appeared in 1.19.
var lifecycleModules = []string{
	"k8s.io/api@v0.19.16", "k8s.io/api@v0.20.15", "k8s.io/api@v0.21.14", "k8s.io/api@v0.22.17",
	"k8s.io/api@v0.23.17", "k8s.io/api@v0.24.17", "k8s.io/api@v0.25.16", "k8s.io/api@v0.26.15",
	"k8s.io/api@v0.27.16", "k8s.io/api@v0.28.15", "k8s.io/api@v0.29.15", "k8s.io/api@v0.30.14",
	"k8s.io/api@v0.31.14", "k8s.io/api@v0.32.13", "k8s.io/api@v0.33.13", "k8s.io/api@v0.34.4",
	"k8s.io/api@v0.35.10", "k8s.io/api@v0.36.3", "k8s.io/api@v0.37.2",
	// CustomResourceDefinition and APIService live outside k8s.io/api.
	"k8s.io/apiextensions-apiserver@v0.21.14", "k8s.io/apiextensions-apiserver@v0.37.2",
	"k8s.io/kube-aggregator@v0.21.14", "k8s.io/kube-aggregator@v0.37.2",
}

// lifecycle is one kind's entry; minors of Kubernetes 1.x, 0 when unset.
type lifecycle struct {
	Introduced  int    `json:"introduced,omitempty"`
	Deprecated  int    `json:"deprecated,omitempty"`
	Removed     int    `json:"removed,omitempty"`
	Replacement string `json:"replacement,omitempty"` // apiVersion
}

func writeLifecycle(out string) {
	table := map[string]map[string]*lifecycle{} // apiVersion -> kind -> entry
	for _, mod := range lifecycleModules {
		zipPath := downloadModule(mod)
		n, err := readLifecycle(zipPath, table)
		if err != nil {
			log.Fatalf("%s: %v", mod, err)
		}
		log.Printf("%s: %d kinds with lifecycle markers", mod, n)
	}
	data, err := json.MarshalIndent(table, "", " ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(out, append(data, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("%s: %d group versions", out, len(table))
}

// downloadModule fetches a module through the module proxy and returns
// the path of its zip.
func downloadModule(mod string) string {
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	cmd.Stderr = os.Stderr
	data, err := cmd.Output()
	if err != nil {
		log.Fatalf("go mod download %s: %v", mod, err)
	}
	var m struct{ Zip, Error string }
	if err := json.Unmarshal(data, &m); err != nil || m.Error != "" || m.Zip == "" {
		log.Fatalf("go mod download %s: %v %s", mod, err, m.Error)
	}
	return m.Zip
}

// readLifecycle adds the markers of one module's packages to table.
func readLifecycle(zipPath string, table map[string]map[string]*lifecycle) (int, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return 0, err
	}
	defer zr.Close()
	groups := map[string]string{}   // package directory -> group name
	files := map[string]*zip.File{} // package directory -> lifecycle file
	for _, f := range zr.File {
		_, name, _ := strings.Cut(f.Name, "@")
		_, name, _ = strings.Cut(name, "/")
		dir := path.Dir(name)
		switch path.Base(name) {
		case "zz_generated.prerelease-lifecycle.go":
			files[dir] = f
		case "register.go":
			src, err := readZipFile(f)
			if err != nil {
				return 0, err
			}
			if g, ok := groupName(src); ok {
				groups[dir] = g
			}
		}
	}
	n := 0
	for dir, f := range files {
		group, ok := groups[dir]
		if !ok {
			return 0, fmt.Errorf("%s: no GroupName in register.go", dir)
		}
		apiVersion := path.Base(dir)
		if group != "" {
			apiVersion = group + "/" + apiVersion
		}
		src, err := readZipFile(f)
		if err != nil {
			return 0, err
		}
		kinds, err := parseLifecycle(src)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", f.Name, err)
		}
		for kind, lc := range kinds {
			if strings.HasSuffix(kind, "List") {
				continue
			}
			if table[apiVersion] == nil {
				table[apiVersion] = map[string]*lifecycle{}
			}
			table[apiVersion][kind] = lc
			n++
		}
	}
	return n, nil
}

func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// groupName reads `const GroupName = "apps"` of a register.go.
func groupName(src []byte) (string, bool) {
	f, err := parser.ParseFile(token.NewFileSet(), "register.go", src, parser.SkipObjectResolution)
	if err != nil {
		return "", false
	}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, sp := range gd.Specs {
			vs := sp.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if n.Name == "GroupName" && i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
						g, err := strconv.Unquote(lit.Value)
						return g, err == nil
					}
				}
			}
		}
	}
	return "", false
}

// parseLifecycle reads the APILifecycle* methods of one package.
func parseLifecycle(src []byte) (map[string]*lifecycle, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "lifecycle.go", src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	out := map[string]*lifecycle{}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 || fd.Body == nil || len(fd.Body.List) != 1 {
			continue
		}
		star, ok := fd.Recv.List[0].Type.(*ast.StarExpr)
		if !ok {
			continue
		}
		recv, ok := star.X.(*ast.Ident)
		ret, ok2 := fd.Body.List[0].(*ast.ReturnStmt)
		if !ok || !ok2 {
			continue
		}
		lc := out[recv.Name]
		if lc == nil {
			lc = &lifecycle{}
		}
		switch fd.Name.Name {
		case "APILifecycleIntroduced", "APILifecycleDeprecated", "APILifecycleRemoved":
			if len(ret.Results) != 2 {
				return nil, fmt.Errorf("%s.%s: want return major, minor", recv.Name, fd.Name.Name)
			}
			major, minor := intLit(ret.Results[0]), intLit(ret.Results[1])
			if major != 1 || minor < 0 {
				return nil, fmt.Errorf("%s.%s: version %d.%d", recv.Name, fd.Name.Name, major, minor)
			}
			switch fd.Name.Name {
			case "APILifecycleIntroduced":
				lc.Introduced = minor
			case "APILifecycleDeprecated":
				lc.Deprecated = minor
			default:
				lc.Removed = minor
			}
		case "APILifecycleReplacement":
			cl, ok := ret.Results[0].(*ast.CompositeLit)
			if !ok {
				return nil, fmt.Errorf("%s.%s: want a GroupVersionKind literal", recv.Name, fd.Name.Name)
			}
			fields := map[string]string{}
			for _, e := range cl.Elts {
				kv := e.(*ast.KeyValueExpr)
				if lit, ok := kv.Value.(*ast.BasicLit); ok {
					fields[kv.Key.(*ast.Ident).Name], _ = strconv.Unquote(lit.Value)
				}
			}
			lc.Replacement = fields["Version"]
			if fields["Group"] != "" {
				lc.Replacement = fields["Group"] + "/" + fields["Version"]
			}
			// 1.19's networking.k8s.io/v1beta1 IngressClass names its
			// list as its replacement: the kind is the same.
			if k := fields["Kind"]; k != "" && k != recv.Name && k != recv.Name+"List" {
				lc.Replacement += " " + fields["Kind"]
			}
		default:
			continue
		}
		out[recv.Name] = lc
	}
	return out, nil
}

func intLit(e ast.Expr) int {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.INT {
		return -1
	}
	n, err := strconv.Atoi(lit.Value)
	if err != nil {
		return -1
	}
	return n
}
