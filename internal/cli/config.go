package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"go.yaml.in/yaml/v3"

	"github.com/kubegate/kubegate/exceptions"
)

// ConfigName is the configuration file kubegate finds at the repository
// root (or in the working directory outside a repository).
const ConfigName = ".kubegate.yaml"

// config is .kubegate.yaml. Flags override it.
type config struct {
	file string // as messages name it

	PSS struct {
		Enforce              string   `yaml:"enforce"`
		Warn                 string   `yaml:"warn"`
		Audit                string   `yaml:"audit"`
		ExemptNamespaces     []string `yaml:"exemptNamespaces"`
		ExemptRuntimeClasses []string `yaml:"exemptRuntimeClasses"`
	} `yaml:"pss"`
	FailOn      string   `yaml:"failOn"`
	Outputs     []string `yaml:"outputs"`
	Policies    []string `yaml:"policies"`
	Schemas     []string `yaml:"schemas"`
	Data        []string `yaml:"data"`
	Namespaces  []string `yaml:"namespaces"`
	RegoVersion string   `yaml:"regoVersion"`

	Rules      map[string]exceptions.Setting `yaml:"rules"`
	Exceptions []exceptions.Exception        `yaml:"exceptions"`
	// Images are the image checks' settings.
	Images imagesConfig `yaml:"images"`
	// Vulnerabilities are images.vulnerability's settings.
	Vulnerabilities vulnerabilitiesConfig `yaml:"vulnerabilities"`
	// Charts say how charts render; KubeVersion is the target cluster.
	Charts      []chartConfig `yaml:"charts"`
	KubeVersion string        `yaml:"kubeVersion"`
	// Exclude are globs of files and directories scans leave out,
	// relative to the file.
	Exclude []string `yaml:"exclude"`

	// ruleLines and the exceptions' lines, for messages.
	ruleLines  map[string]int
	imagesLine int
}

// chartConfig is one charts: entry: a rendering of the chart at Path
// (relative to the file). Values files too are relative to the file.
type chartConfig struct {
	Path        string    `yaml:"path"`
	Variant     string    `yaml:"variant"`
	ReleaseName string    `yaml:"releaseName"`
	Namespace   string    `yaml:"namespace"`
	ValuesFiles []string  `yaml:"valuesFiles"`
	Values      yaml.Node `yaml:"values"`
	CIValues    *bool     `yaml:"ciValues"`

	line int
}

// configSchema lists the keys of each mapping of the file, by path ("" is
// the top level; "*" stands for any key of a mapping of user-chosen names,
// such as rule ids).
var configSchema = map[string][]string{
	"":                             {"pss", "failOn", "outputs", "policies", "schemas", "data", "namespaces", "regoVersion", "rules", "exceptions", "images", "vulnerabilities", "charts", "kubeVersion", "exclude"},
	"charts[]":                     {"path", "variant", "releaseName", "namespace", "valuesFiles", "values", "ciValues"},
	"pss":                          {"enforce", "warn", "audit", "exemptNamespaces", "exemptRuntimeClasses"},
	"rules.*":                      {"severity", "disabled"},
	"exceptions[]":                 {"rule", "kind", "namespace", "name", "path", "vulnerability", "reason", "expires"},
	"vulnerabilities":              {"db", "failSeverity", "onlyFixed", "maxAge", "vex"},
	"images":                       {"allowedRegistries", "compromisedPackages", "verify", "sbomFormat"},
	"images.compromisedPackages[]": {"name", "versions", "advisory", "fixed"},
	"images.verify":                {"keys", "identity", "issuer", "roots", "rekorPublicKey", "ignoreTlog"},
}

// imagesConfig is the images: section. Paths are relative to the file.
type imagesConfig struct {
	AllowedRegistries   []string             `yaml:"allowedRegistries"`
	CompromisedPackages []compromisedPackage `yaml:"compromisedPackages"`
	SBOMFormat          string               `yaml:"sbomFormat"`
	Verify              struct {
		Keys           []string `yaml:"keys"`
		Identity       string   `yaml:"identity"`
		Issuer         string   `yaml:"issuer"`
		Roots          string   `yaml:"roots"`
		RekorPublicKey string   `yaml:"rekorPublicKey"`
		IgnoreTlog     bool     `yaml:"ignoreTlog"`
	} `yaml:"verify"`
}

type vulnerabilitiesConfig struct {
	DB           string   `yaml:"db"`
	FailSeverity string   `yaml:"failSeverity"`
	OnlyFixed    *bool    `yaml:"onlyFixed"`
	MaxAge       string   `yaml:"maxAge"`
	VEX          []string `yaml:"vex"`
}

type compromisedPackage struct {
	Name     string   `yaml:"name" json:"name"`
	Versions []string `yaml:"versions" json:"versions"`
	Advisory string   `yaml:"advisory" json:"advisory,omitempty"`
	Fixed    string   `yaml:"fixed" json:"fixed,omitempty"`
}

// findConfig returns the configuration file to read: explicit (from
// --config; it must exist), else .kubegate.yaml at the repository root
// above the working directory, else none.
func findConfig(explicit, workDir string, src source) (string, error) {
	if explicit != "" {
		p := explicit
		if !filepath.IsAbs(p) {
			p = filepath.Join(workDir, p)
		}
		if _, err := src.readFile(p); err != nil {
			if u := errors.Unwrap(err); u != nil {
				err = u
			}
			return "", fmt.Errorf("--config %s: %v", explicit, err)
		}
		return p, nil
	}
	dir := workDir
	for {
		if _, err := src.readFile(filepath.Join(dir, ConfigName)); err == nil {
			return filepath.Join(dir, ConfigName), nil
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return "", nil // the repository root has none
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

// readConfig reads and validates a configuration file; every error names
// the file and line.
func readConfig(from source, path, display string) (*config, error) {
	src, err := from.readFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", display, err)
	}
	c := &config{file: display, ruleLines: map[string]int{}}
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, fmt.Errorf("%s: %v", display, err)
	}
	if len(root.Content) == 0 {
		return c, nil // an empty file configures nothing
	}
	doc := root.Content[0]
	var errs []string
	bad := func(n *yaml.Node, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("%s:%d: %s", display, n.Line, fmt.Sprintf(format, args...)))
	}
	checkKeys(doc, "", bad)
	if len(errs) == 0 {
		if err := doc.Decode(c); err != nil {
			var te *yaml.TypeError
			if errors.As(err, &te) {
				for _, e := range te.Errors {
					errs = append(errs, fmt.Sprintf("%s:%s", display, strings.TrimPrefix(e, "line ")))
				}
			} else {
				errs = append(errs, fmt.Sprintf("%s: %v", display, err))
			}
		}
	}
	if len(errs) == 0 {
		c.lines(doc)
		errs = append(errs, c.validate()...)
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "\n"))
	}
	return c, nil
}

// checkKeys reports every key the schema does not know, with its line.
func checkKeys(n *yaml.Node, at string, bad func(*yaml.Node, string, ...any)) {
	switch n.Kind {
	case yaml.MappingNode:
		allowed, known := configSchema[at]
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			child := strings.TrimPrefix(at+"."+k.Value, ".")
			if _, wild := configSchema[at+".*"]; wild {
				child = at + ".*"
			} else if known && !slices.Contains(allowed, k.Value) {
				where := "at the top level"
				if at != "" {
					where = "in " + at
				}
				bad(k, "unknown key %q %s (want one of %s)", k.Value, where, strings.Join(allowed, ", "))
				continue
			}
			checkKeys(v, child, bad)
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			checkKeys(item, at+"[]", bad)
		}
	}
}

// lines records where each rule entry and exception is written.
func (c *config) lines(doc *yaml.Node) {
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		switch k.Value {
		case "rules":
			for j := 0; j+1 < len(v.Content); j += 2 {
				c.ruleLines[v.Content[j].Value] = v.Content[j].Line
			}
		case "images":
			c.imagesLine = k.Line
		case "charts":
			for j, item := range v.Content {
				if j < len(c.Charts) {
					c.Charts[j].line = item.Line
				}
			}
		case "exceptions":
			for j, item := range v.Content {
				if j < len(c.Exceptions) {
					c.Exceptions[j].Line, c.Exceptions[j].Column = item.Line, item.Column
				}
			}
		}
	}
}

// validate checks values that decoding alone does not.
func (c *config) validate() []string {
	var errs []string
	at := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("%s:%d: %s", c.file, line, fmt.Sprintf(format, args...)))
	}
	for id, r := range c.Rules {
		if r.Severity != "" && !slices.Contains([]string{"error", "warning", "notice"}, r.Severity) {
			at(c.ruleLines[id], "rules.%s.severity: %q is not error, warning or notice", id, r.Severity)
		}
	}
	for i := range c.Exceptions {
		x := &c.Exceptions[i]
		for _, msg := range x.Validate() {
			at(x.Line, "%s", msg)
		}
	}
	for _, p := range c.Images.CompromisedPackages {
		if p.Name == "" || len(p.Versions) == 0 {
			at(c.imagesLine, "images.compromisedPackages: every entry needs a name and a list of versions")
		}
	}
	seen := map[[2]string]int{}
	for i, ch := range c.Charts {
		if ch.Path == "" {
			at(ch.line, "charts[%d]: path is required (the chart's directory, relative to this file)", i)
		}
		if ch.Values.Kind != 0 && ch.Values.Kind != yaml.MappingNode && ch.Values.ShortTag() != "!!null" {
			at(ch.Values.Line, "charts[%d].values must be a mapping of values", i)
		}
		key := [2]string{filepath.Clean(ch.Path), ch.Variant}
		if first, dup := seen[key]; dup {
			at(ch.line, "charts[%d] renders %s with the same variant name as the entry at line %d: give each rendering of a chart its own variant", i, ch.Path, first)
		}
		seen[key] = ch.line
	}
	for _, g := range c.Exclude {
		if !doublestar.ValidatePattern(g) {
			errs = append(errs, fmt.Sprintf("%s: exclude: %q is not a valid glob", c.file, g))
		}
	}
	if c.KubeVersion != "" {
		if _, err := parseKubeVersion(c.KubeVersion); err != nil {
			errs = append(errs, fmt.Sprintf("%s: kubeVersion: %v", c.file, err))
		}
	}
	if c.RegoVersion != "" && !slices.Contains([]string{"v0", "v1", "auto"}, c.RegoVersion) {
		errs = append(errs, fmt.Sprintf("%s: regoVersion %q is not v0, v1 or auto", c.file, c.RegoVersion))
	}
	return errs
}
