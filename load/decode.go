package load

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// document is one YAML document of a file: its root node, which keeps every
// position, and its value as JSON-compatible Go data.
type document struct {
	node  *yaml.Node
	value any
}

// docError is a document that could not be decoded, with its 1-based line.
type docError struct {
	line int
	msg  string
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// splitDocuments cuts a YAML stream into documents at "---" separator lines,
// so that one broken document does not hide the ones after it. Each chunk
// keeps its separator line, so positions inside it only need the chunk's
// starting line added.
func splitDocuments(data []byte) (chunks [][]byte, firstLines []int) {
	start, startLine := 0, 1
	line := 1
	for i := 0; i < len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		next := len(data)
		if end >= 0 {
			next = i + end + 1
		}
		text := strings.TrimRight(string(data[i:next]), "\r\n")
		if i > start && (text == "---" || strings.HasPrefix(text, "--- ") || strings.HasPrefix(text, "---\t")) {
			chunks, firstLines = append(chunks, data[start:i]), append(firstLines, startLine)
			start, startLine = i, line
		}
		i = next
		line++
	}
	chunks, firstLines = append(chunks, data[start:]), append(firstLines, startLine)
	return chunks, firstLines
}

// decodeStream decodes every document of a YAML (or JSON) stream. Node
// positions are shifted to be positions in the whole stream. limits bound
// the work an alias bomb or a huge document can cause.
func decodeStream(data []byte, lim Limits) (docs []document, errs []docError) {
	chunks, firstLines := splitDocuments(data)
	for i, chunk := range chunks {
		offset := firstLines[i] - 1
		dec := yaml.NewDecoder(bytes.NewReader(chunk))
		for {
			var n yaml.Node
			err := dec.Decode(&n)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				errs = append(errs, yamlError(err, chunk, offset))
				break
			}
			shiftLines(&n, offset)
			root := &n
			if root.Kind == yaml.DocumentNode {
				if len(root.Content) == 0 {
					continue
				}
				root = root.Content[0]
			}
			if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
				continue // an empty document
			}
			budget := lim.MaxNodes
			v, err := toValue(root, &budget, 0)
			if err != nil {
				line := root.Line
				var ne *nodeError
				if errors.As(err, &ne) {
					line = ne.line
				}
				errs = append(errs, docError{line: line, msg: err.Error()})
				continue
			}
			docs = append(docs, document{node: root, value: v})
		}
	}
	return docs, errs
}

var unknownAnchorRE = regexp.MustCompile(`^yaml: unknown anchor '([^']*)' referenced$`)

// yamlError turns a decoder error into a message and a line in the whole
// stream. chunk is the text the error is about, starting at line offset+1.
func yamlError(err error, chunk []byte, offset int) docError {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		if strings.HasPrefix(m[2], "did not find expected") {
			// yaml.v3 reports parser errors (unlike scanner errors) with
			// a 0-based line; at the end of the input that is the last.
			n = min(n+1, bytes.Count(bytes.TrimRight(chunk, "\n"), []byte("\n"))+1)
		}
		return docError{line: n + offset, msg: "yaml: " + m[2]}
	}
	if m := unknownAnchorRE.FindStringSubmatch(msg); m != nil {
		// The decoder does not say where: find the alias (anchors do not
		// reach across documents).
		for i, line := range bytes.Split(chunk, []byte("\n")) {
			if bytes.Contains(line, []byte("*"+m[1])) {
				return docError{line: offset + i + 1, msg: msg + " (anchors are defined per document)"}
			}
		}
	}
	return docError{line: offset + 1, msg: msg}
}

func shiftLines(n *yaml.Node, offset int) {
	if offset == 0 || n == nil {
		return
	}
	stack := []*yaml.Node{n}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x.Line += offset
		stack = append(stack, x.Content...)
	}
}

// nodeError is a problem with one node of an otherwise well-formed
// document.
type nodeError struct {
	line int
	msg  string
}

func (e *nodeError) Error() string { return e.msg }

func nodeErrorf(n *yaml.Node, format string, args ...any) error {
	return &nodeError{line: n.Line, msg: fmt.Sprintf(format, args...)}
}

// ErrTooLarge reports a document that exceeds the node budget, typically an
// alias-expansion bomb.
var ErrTooLarge = errors.New("document too large")

// toValue converts a node to JSON-compatible data: map[string]any, []any,
// string, int64, float64, bool or nil. Aliases are expanded and merge keys
// ("<<") applied, both counted against budget.
func toValue(n *yaml.Node, budget *int, depth int) (any, error) {
	*budget--
	if *budget < 0 {
		return nil, fmt.Errorf("%w: more than the allowed number of YAML nodes (aliases expanded)", ErrTooLarge)
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested more than %d levels deep", ErrTooLarge, maxDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return toValue(n.Content[0], budget, depth+1)
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, nodeErrorf(n, "unknown alias")
		}
		return toValue(n.Alias, budget, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := toValue(c, budget, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
				merges = append(merges, v)
				continue
			}
			if k.Kind != yaml.ScalarNode {
				return nil, nodeErrorf(k, "mapping keys must be strings")
			}
			if _, dup := out[k.Value]; dup {
				return nil, nodeErrorf(k, "mapping key %q is defined twice", k.Value)
			}
			val, err := toValue(v, budget, depth+1)
			if err != nil {
				return nil, err
			}
			out[k.Value] = val
		}
		for _, m := range merges {
			if err := mergeInto(out, m, budget, depth); err != nil {
				return nil, err
			}
		}
		return out, nil
	case yaml.ScalarNode:
		return scalarValue(n)
	}
	return nil, nodeErrorf(n, "unsupported YAML node")
}

func mergeInto(out map[string]any, m *yaml.Node, budget *int, depth int) error {
	srcs := []*yaml.Node{m}
	if m.Kind == yaml.SequenceNode {
		srcs = m.Content
	}
	for _, s := range srcs {
		v, err := toValue(s, budget, depth+1)
		if err != nil {
			return err
		}
		mv, ok := v.(map[string]any)
		if !ok {
			return nodeErrorf(s, "merge key (<<) needs a mapping")
		}
		for k, x := range mv {
			if _, set := out[k]; !set {
				out[k] = x
			}
		}
	}
	return nil
}

func scalarValue(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		switch strings.ToLower(n.Value) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return i, nil
		}
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f, nil // beyond int64: keep the magnitude
		}
	case "!!float":
		if f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f, nil
		}
		return n.Value, nil // .inf and .nan have no JSON form
	case "!!binary", "!!timestamp", "!!str":
		return n.Value, nil
	}
	return n.Value, nil
}

const maxDepth = 10000
