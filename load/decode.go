package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// document is one YAML document of a file: its root node, which keeps every
// position, and its value as JSON-compatible Go data.
type document struct {
	node  *yaml.Node
	pos   *posNode // instead of node: a chart's rendered resource's positions
	value any
	// A document a chart rendered (see kustomize_helm.go): where its
	// positions lead, and the file it names.
	chart *chartDoc
	file  string
}

// positions are the document's position tree.
func (d document) positions() *posNode {
	if d.pos != nil {
		return d.pos
	}
	return compact(d.node)
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
//
// A stream is decoded with one decoder when that cannot change the outcome;
// else, or when it fails, document by document (see splitDocuments), so that
// one broken document does not hide the others. One decoder for a whole
// file saves a parser and a walk over every node per document: the
// yardstick's 10,000 resources in 40 files load in 0.51 s instead of 0.61 s.
func decodeStream(data []byte, lim Limits) (docs []document, errs []docError) {
	if bytes.HasPrefix(data, []byte{0xfe, 0xff}) || bytes.HasPrefix(data, []byte{0xff, 0xfe}) {
		// yaml.v3 would decode it, with line numbers no editor shows.
		return nil, []docError{{line: 1, msg: "the file is UTF-16 encoded: kubegate reads UTF-8 manifests (save it as UTF-8)"}}
	}
	if wholeDecodable(data) {
		if docs, errs, ok := decodeChunk(data, 0, lim, nil, nil); ok {
			return docs, errs
		}
	}
	return decodeDocuments(data, lim)
}

// decodeDocuments decodes a stream document by document.
func decodeDocuments(data []byte, lim Limits) (docs []document, errs []docError) {
	chunks, firstLines := splitDocuments(data)
	for i, chunk := range chunks {
		docs, errs, _ = decodeChunk(chunk, firstLines[i]-1, lim, docs, errs)
	}
	return docs, errs
}

// wholeDecodable says whether one decoder over the whole stream reads what
// one per document would: yaml.v3's decoder keeps a stream's anchors from
// one document to the next (a document may not use another's), and a
// directive line (%YAML) belongs to the document after it, not to the chunk
// before. A stream with an "&" or a line starting with "%" anywhere, even in
// a string, or with line breaks other than LF and CRLF, is decoded document
// by document (yaml.v3 counts a lone CR as a line break, splitDocuments
// does not: FuzzDecodeWhole found "\r0\n--- 0").
func wholeDecodable(data []byte) bool {
	return bytes.IndexByte(data, '&') < 0 && !bytes.HasPrefix(data, []byte("%")) &&
		!bytes.Contains(data, []byte("\n%")) && !bytes.Contains(data, []byte("\r%")) && lineMap(data) == nil &&
		bytes.Count(data, []byte("\r")) == bytes.Count(data, []byte("\r\n"))
}

// decodeChunk decodes the documents of chunk, the text from line offset+1
// of the stream, appending them and their errors; ok is false when the
// YAML itself is broken (the documents before the error are kept).
func decodeChunk(chunk []byte, offset int, lim Limits, docs []document, errs []docError) (_ []document, _ []docError, ok bool) {
	lines := lineMap(chunk)
	dec := yaml.NewDecoder(bytes.NewReader(chunk))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, errs, true
		}
		if err != nil {
			return docs, append(errs, yamlError(err, chunk, offset, lines)), false
		}
		shiftLines(&n, offset, lines)
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
			msg := err.Error()
			if budget < 0 {
				msg += fmt.Sprintf(" (the limit is %d, --max-nodes)", lim.MaxNodes)
			}
			errs = append(errs, docError{line: line, msg: msg})
			continue
		}
		docs = append(docs, document{node: root, value: v})
	}
}

// checkJSON reports the first syntax error of a stream of JSON values, at
// the line of the offending character; nil when the stream is valid.
func checkJSON(data []byte) *docError {
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var v json.RawMessage
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err == nil {
			continue
		}
		off := len(data)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = int(min(max(se.Offset-1, 0), int64(len(data))))
		} else if !errors.Is(err, io.ErrUnexpectedEOF) {
			off = int(min(max(dec.InputOffset(), 0), int64(len(data))))
		}
		line := bytes.Count(data[:off], []byte("\n")) + 1
		if off == len(data) && off > 0 && data[off-1] == '\n' {
			line-- // the end of the input is on its last line
		}
		return &docError{line: line, msg: "invalid JSON: " + err.Error()}
	}
}

var unknownAnchorRE = regexp.MustCompile(`^yaml: unknown anchor '([^']*)' referenced$`)

// yamlError turns a decoder error into a message and a line in the whole
// stream. chunk is the text the error is about, starting at line offset+1.
func yamlError(err error, chunk []byte, offset int, lines []int) docError {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		if strings.HasPrefix(m[2], "did not find expected") {
			// yaml.v3 reports parser errors (unlike scanner errors) with
			// a 0-based line; at the end of the input that is the last.
			n = min(n+1, bytes.Count(bytes.TrimRight(chunk, "\n"), []byte("\n"))+1)
		}
		if strings.HasPrefix(m[2], "found character that cannot start any token") {
			if lines := bytes.Split(chunk, []byte("\n")); n >= 1 && n <= len(lines) && bytes.HasPrefix(bytes.TrimLeft(lines[n-1], " "), []byte("\t")) {
				m[2] += " (a tab: YAML indents with spaces only)"
			}
		}
		return docError{line: realLine(n, lines) + offset, msg: "yaml: " + m[2]}
	}
	if strings.Contains(msg, "UTF-8") || strings.Contains(msg, "control characters") || strings.Contains(msg, "UTF-16") {
		// Reader errors come without a line: find the first byte YAML
		// does not allow.
		return docError{line: offset + badByteLine(chunk), msg: msg}
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

// badByteLine is the 1-based line of the first byte of data that is not
// valid UTF-8 or is a control character YAML refuses; 1 when there is none.
func badByteLine(data []byte) int {
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if (r == utf8.RuneError && size <= 1) || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r <= 0x9f && r != 0x85) {
			return line
		}
		if r == '\n' {
			line++
		}
		i += size
	}
	return 1
}

// shiftLines makes the lines of a chunk's nodes lines of the stream:
// mapped through lines (see lineMap), then moved by offset.
func shiftLines(n *yaml.Node, offset int, lines []int) {
	if (offset == 0 && lines == nil) || n == nil {
		return
	}
	stack := []*yaml.Node{n}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x.Line = realLine(x.Line, lines) + offset
		stack = append(stack, x.Content...)
	}
}

var unicodeBreaks = [][]byte{[]byte("\u0085"), []byte("\u2028"), []byte("\u2029")}

// lineMap maps the lines yaml.v3 counts in data, which YAML 1.1 also ends
// at NEL, LS and PS, to the lines editors and GitHub show (ended by LF, CR
// or CRLF): lineMap(data)[yamlLine] is the line. nil when they agree.
func lineMap(data []byte) []int {
	if !slices.ContainsFunc(unicodeBreaks, func(b []byte) bool { return bytes.Contains(data, b) }) {
		return nil
	}
	m := []int{0, 1}
	line := 1
	for i := 0; i < len(data); {
		switch {
		case data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n':
			line++
			m = append(m, line)
			i += 2
		case data[i] == '\n' || data[i] == '\r':
			line++
			m = append(m, line)
			i++
		case slices.ContainsFunc(unicodeBreaks, func(b []byte) bool { return bytes.HasPrefix(data[i:], b) }):
			m = append(m, line)
			_, size := utf8.DecodeRune(data[i:])
			i += size
		default:
			i++
		}
	}
	return m
}

// realLine maps a line yaml.v3 gives through a lineMap.
func realLine(n int, lines []int) int {
	switch {
	case lines == nil || n < 0:
		return n
	case n >= len(lines):
		return lines[len(lines)-1]
	}
	return lines[n]
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
