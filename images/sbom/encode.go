package sbom

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // UUID version 5 is defined over SHA-1
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/anchore/syft/syft/format/cyclonedxjson"
	"github.com/anchore/syft/syft/format/spdxjson"
	"github.com/anchore/syft/syft/format/syftjson"
	"github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source"
)

// The SBOM formats Encode writes.
const (
	FormatCycloneDXJSON = "cyclonedx-json"
	FormatSPDXJSON      = "spdx-json"
	FormatSyftJSON      = "syft-json"
)

// Formats lists the formats Encode accepts, in a fixed order.
func Formats() []string {
	return []string{FormatCycloneDXJSON, FormatSPDXJSON, FormatSyftJSON}
}

var fileExtensions = map[string]string{
	FormatCycloneDXJSON: ".cdx.json",
	FormatSPDXJSON:      ".spdx.json",
	FormatSyftJSON:      ".syft.json",
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// FileName returns a stable file name for the SBOM of digest in format:
// "sha256:ab12..." and "cyclonedx-json" give "sha256-ab12....cdx.json"
// (".spdx.json", ".syft.json" for the others). Any character other than
// letters, digits, '.', '_' and '-' becomes '-', so the result is always a
// single path element. An unknown format gets ".<format>.json".
func FileName(digest, format string) string {
	ext, ok := fileExtensions[format]
	if !ok {
		ext = "." + unsafeFileChars.ReplaceAllString(format, "-") + ".json"
	}
	return unsafeFileChars.ReplaceAllString(digest, "-") + ext
}

// Encode writes s in format (one of Formats). The output is deterministic:
// the same SBOM gives the same bytes. syft fills CycloneDX's serialNumber
// and SPDX's documentNamespace with random UUIDs and both documents'
// creation times with the wall clock; Encode replaces the UUIDs with
// name-based (version 5) UUIDs derived from the image's manifest digest and
// the times with the image config's creation time (or the Unix epoch when
// the image has none), so re-encoding an image's SBOM, even after a
// syft-json round trip, gives identical documents.
func Encode(s *sbom.SBOM, format string) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("sbom: encode %s: nil SBOM", format)
	}
	enc, err := encoder(format)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := enc.Encode(&buf, *s); err != nil {
		return nil, fmt.Errorf("sbom: encode %s for %s: %w", format, subject(s), err)
	}
	out := buf.Bytes()
	switch format {
	case FormatCycloneDXJSON:
		out, err = fixCycloneDX(out, s)
	case FormatSPDXJSON:
		out, err = fixSPDX(out, s)
	}
	if err != nil {
		return nil, fmt.Errorf("sbom: encode %s for %s: making the output deterministic: %w", format, subject(s), err)
	}
	return out, nil
}

// Decode reads a syft-json document (as written by Encode with
// FormatSyftJSON) back into an SBOM.
func Decode(b []byte) (*sbom.SBOM, error) {
	s, id, _, err := syftjson.NewFormatDecoder().Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("sbom: decode syft-json: %w", err)
	}
	if id != syftjson.ID || s == nil {
		return nil, fmt.Errorf("sbom: decode syft-json: input is not a syft-json document")
	}
	return s, nil
}

func encoder(format string) (sbom.FormatEncoder, error) {
	switch format {
	case FormatCycloneDXJSON:
		return cyclonedxjson.NewFormatEncoderWithConfig(cyclonedxjson.DefaultEncoderConfig())
	case FormatSPDXJSON:
		return spdxjson.NewFormatEncoderWithConfig(spdxjson.DefaultEncoderConfig())
	case FormatSyftJSON:
		return syftjson.NewFormatEncoderWithConfig(syftjson.DefaultEncoderConfig())
	}
	return nil, fmt.Errorf("sbom: unknown SBOM format %q (want one of %s)", format, strings.Join(Formats(), ", "))
}

func subject(s *sbom.SBOM) string {
	if id := identity(s); id != "" {
		return id
	}
	return "unnamed source"
}

// identity is what the document identifiers are derived from: the image's
// manifest digest, else the source ID syft derived from the content.
func identity(s *sbom.SBOM) string {
	if md, ok := s.Source.Metadata.(source.ImageMetadata); ok && md.ManifestDigest != "" {
		return md.ManifestDigest
	}
	return s.Source.ID
}

// uuidNamespace is the namespace of kubegate's version-5 document UUIDs
// (itself uuid5(URL namespace, "https://github.com/kubegate/kubegate/sbom")).
var uuidNamespace = uuid5([16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}, "https://github.com/kubegate/kubegate/sbom")

// documentUUID is the UUID of the SBOM document of s (RFC 9562 version 5).
func documentUUID(s *sbom.SBOM) string {
	u := uuid5(uuidNamespace, "sbom:"+identity(s))
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func uuid5(ns [16]byte, name string) [16]byte {
	h := sha1.New() //nolint:gosec // see import
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = (u[6] & 0x0f) | 0x50 // version 5
	u[8] = (u[8] & 0x3f) | 0x80 // RFC 4122 variant
	return u
}

// documentTime is the creation time written into CycloneDX and SPDX: the
// image config's "created", else the Unix epoch.
func documentTime(s *sbom.SBOM) string {
	t := time.Unix(0, 0).UTC()
	if md, ok := s.Source.Metadata.(source.ImageMetadata); ok && len(md.RawConfig) > 0 {
		var cfg struct {
			Created time.Time `json:"created"`
		}
		if json.Unmarshal(md.RawConfig, &cfg) == nil && cfg.Created.Unix() > 0 {
			t = cfg.Created.UTC()
		}
	}
	return t.Format(time.RFC3339)
}

// fixCycloneDX replaces the random serialNumber and the wall-clock
// metadata.timestamp of a compact CycloneDX JSON document.
func fixCycloneDX(doc []byte, s *sbom.SBOM) ([]byte, error) {
	var head struct {
		SerialNumber json.RawMessage `json:"serialNumber"`
		Metadata     struct {
			Timestamp json.RawMessage `json:"timestamp"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return nil, err
	}
	serial := "urn:uuid:" + documentUUID(s)
	ts := documentTime(s)
	var err error
	if len(head.SerialNumber) > 0 {
		// the old value is a random UUID: it occurs nowhere else
		doc = bytes.ReplaceAll(doc, head.SerialNumber, jsonString(serial))
	}
	if len(head.Metadata.Timestamp) > 0 {
		if doc, err = replaceFirstField(doc, "timestamp", head.Metadata.Timestamp, ts); err != nil {
			return nil, err
		}
	}
	var check struct {
		SerialNumber string `json:"serialNumber"`
		Metadata     struct {
			Timestamp string `json:"timestamp"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(doc, &check); err != nil {
		return nil, err
	}
	if (len(head.SerialNumber) > 0 && check.SerialNumber != serial) ||
		(len(head.Metadata.Timestamp) > 0 && check.Metadata.Timestamp != ts) {
		return nil, fmt.Errorf("unexpected CycloneDX layout")
	}
	return doc, nil
}

var trailingUUID = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// fixSPDX replaces the random UUID ending documentNamespace and the
// wall-clock creationInfo.created of a compact SPDX JSON document.
func fixSPDX(doc []byte, s *sbom.SBOM) ([]byte, error) {
	var head struct {
		DocumentNamespace json.RawMessage `json:"documentNamespace"`
		CreationInfo      struct {
			Created json.RawMessage `json:"created"`
		} `json:"creationInfo"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return nil, err
	}
	var ns string
	if len(head.DocumentNamespace) > 0 {
		var old string
		if err := json.Unmarshal(head.DocumentNamespace, &old); err != nil {
			return nil, err
		}
		if !trailingUUID.MatchString(old) {
			return nil, fmt.Errorf("documentNamespace %q does not end in a UUID", old)
		}
		ns = trailingUUID.ReplaceAllLiteralString(old, documentUUID(s))
		doc = bytes.ReplaceAll(doc, head.DocumentNamespace, jsonString(ns))
	}
	ts := documentTime(s)
	var err error
	if len(head.CreationInfo.Created) > 0 {
		if doc, err = replaceFirstField(doc, "created", head.CreationInfo.Created, ts); err != nil {
			return nil, err
		}
	}
	var check struct {
		DocumentNamespace string `json:"documentNamespace"`
		CreationInfo      struct {
			Created string `json:"created"`
		} `json:"creationInfo"`
	}
	if err := json.Unmarshal(doc, &check); err != nil {
		return nil, err
	}
	if (ns != "" && check.DocumentNamespace != ns) ||
		(len(head.CreationInfo.Created) > 0 && check.CreationInfo.Created != ts) {
		return nil, fmt.Errorf("unexpected SPDX layout")
	}
	return doc, nil
}

// replaceFirstField replaces the first `"key":old` in doc with the JSON
// string value. The documents are compact and put the field meant (the
// document's own timestamp) before any package data; the caller re-parses
// the result to make sure the intended field changed.
func replaceFirstField(doc []byte, key string, old json.RawMessage, value string) ([]byte, error) {
	from := append([]byte(`"`+key+`":`), old...)
	if !bytes.Contains(doc, from) {
		return nil, fmt.Errorf("field %q not found", key)
	}
	to := append([]byte(`"`+key+`":`), jsonString(value)...)
	return bytes.Replace(doc, from, to, 1), nil
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}
