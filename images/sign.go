package images

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"

	syftsbom "github.com/anchore/syft/syft/sbom"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	cbundle "github.com/sigstore/cosign/v2/pkg/cosign/bundle"
	"github.com/sigstore/cosign/v2/pkg/oci"
	"github.com/sigstore/cosign/v2/pkg/oci/mutate"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"github.com/sigstore/cosign/v2/pkg/oci/static"
	"github.com/sigstore/cosign/v2/pkg/types"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/dsse"
	"github.com/sigstore/sigstore/pkg/signature/payload"

	"github.com/kubegate/kubegate/images/sbom"
)

// Signer signs images as cosign sign and cosign attest do: with a key, and
// for certificates from a CA, with that certificate and its chain (PEM).
type Signer struct {
	SV          signature.SignerVerifier
	Cert, Chain []byte

	// Predicates are attested besides the SBOM (kubegate sign --attest):
	// a release's SLSA provenance, say.
	Predicates []Predicate

	// logEntry makes the transparency-log bundle of a signature: a
	// test-made log's, since kubegate sign uploads to none.
	logEntry func(payload, sig []byte) (*cbundle.RekorBundle, error)
}

// Predicate is an in-toto predicate to attest: its type (a URI) and its
// JSON.
type Predicate struct {
	Type string
	Body []byte
}

// predicateTypes are the short names of predicate types, as cosign attest
// --type takes them.
var predicateTypes = map[string]string{
	"cyclonedx":       SBOMPredicateType,
	"spdxjson":        "https://spdx.dev/Document",
	"slsaprovenance":  "https://slsa.dev/provenance/v0.2",
	"slsaprovenance1": "https://slsa.dev/provenance/v1",
	"openvex":         "https://openvex.dev/ns",
}

// PredicateType is the URI of a predicate type given by cosign's short name
// (cyclonedx, spdxjson, slsaprovenance, slsaprovenance1, openvex) or as a
// URI.
func PredicateType(s string) (string, error) {
	if uri, ok := predicateTypes[s]; ok {
		return uri, nil
	}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" {
		return s, nil
	}
	names := slices.Sorted(maps.Keys(predicateTypes))
	return "", fmt.Errorf("predicate type %q: want a URI or one of %s", s, strings.Join(names, ", "))
}

// LoadKey reads a cosign private key (the encrypted PEM that cosign
// generate-key-pair writes) with its password.
func LoadKey(path string, password []byte) (*Signer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sv, err := cosign.LoadPrivateKey(raw, password, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %v (is COSIGN_PASSWORD set to the key's password?)", path, err)
	}
	return &Signer{SV: sv}, nil
}

// Sign attaches a signature over the image (or index) h of repo, in
// cosign's simple-signing format.
func (s *Signer) Sign(ctx context.Context, se oci.SignedEntity, repo name.Repository, h v1.Hash) (oci.SignedEntity, error) {
	body, err := (&payload.Cosign{Image: repo.Digest(h.String())}).MarshalJSON()
	if err != nil {
		return nil, err
	}
	raw, err := s.SV.SignMessage(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	var opts []static.Option
	if s.Cert != nil {
		opts = append(opts, static.WithCertChain(s.Cert, s.Chain))
	}
	if s.logEntry != nil {
		b, err := s.logEntry(body, raw)
		if err != nil {
			return nil, err
		}
		opts = append(opts, static.WithBundle(b))
	}
	sig, err := static.NewSignature(body, base64.StdEncoding.EncodeToString(raw), opts...)
	if err != nil {
		return nil, err
	}
	return mutate.AttachSignatureToEntity(se, sig)
}

// Attest attaches an in-toto attestation with predicate (JSON) about h,
// signed in a DSSE envelope.
func (s *Signer) Attest(ctx context.Context, se oci.SignedEntity, repo name.Repository, h v1.Hash, predicateType string, predicate []byte) (oci.SignedEntity, error) {
	st := map[string]any{
		"_type":         "https://in-toto.io/Statement/v0.1",
		"predicateType": predicateType,
		"subject":       []any{map[string]any{"name": repo.Name(), "digest": map[string]string{h.Algorithm: h.Hex}}},
		"predicate":     json.RawMessage(predicate),
	}
	body, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	env, err := dsse.WrapSigner(s.SV, types.IntotoPayloadType).SignMessage(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	opts := []static.Option{static.WithLayerMediaType(types.DssePayloadType), static.WithAnnotations(map[string]string{"predicateType": predicateType})}
	if s.Cert != nil {
		opts = append(opts, static.WithCertChain(s.Cert, s.Chain))
	}
	att, err := static.NewAttestation(env, opts...)
	if err != nil {
		return nil, err
	}
	return mutate.AttachAttestationToEntity(se, att)
}

// Signed is what SignAll did for one image.
type Signed struct {
	Ref, Digest string
	// Attested are the predicate types attached as attestations (the
	// SBOM's, unless SBOMs are off, and the Signer's Predicates).
	Attested []string
	Error    string
}

// SBOMPredicateType is the in-toto predicate type of CycloneDX SBOM
// attestations, as cosign attest --type cyclonedx writes it.
const SBOMPredicateType = "https://cyclonedx.org/bom"

// SignAll signs every image in its registry with s and, unless SBOMs are
// off, attaches its CycloneDX SBOM as a signed attestation: what a
// release pipeline runs after pushing, so that check --verify-key passes.
func (c *Checker) SignAll(ctx context.Context, refs []string, s *Signer) []Signed {
	out := make([]Signed, len(refs))
	for i, ref := range refs {
		out[i] = c.signOne(ctx, ref, s)
		out[i].Error = c.secrets.Redact(out[i].Error)
	}
	return out
}

func (c *Checker) signOne(ctx context.Context, ref string, s *Signer) Signed {
	res := Signed{Ref: ref}
	reg, ok := c.src.(*remoteSource)
	if !ok {
		res.Error = "kubegate sign writes signatures to registries; it cannot sign offline or into an image layout"
		return res
	}
	r, err := ParseRef(ref)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	h, err := reg.resolve(ctx, r)
	if err != nil {
		res.Error = explain(r, err)
		return res
	}
	res.Digest = h.String()
	se, err := reg.entity(ctx, r, h)
	if err == nil {
		se, err = s.Sign(ctx, se, r.repo, h)
	}
	var attested []string
	if err == nil && c.opts.SBOM {
		var doc *syftsbom.SBOM
		if doc, err = c.sbomDoc(ctx, r, h); err == nil {
			var b []byte
			if b, err = sbom.Encode(doc, "cyclonedx-json"); err == nil {
				se, err = s.Attest(ctx, se, r.repo, h, SBOMPredicateType, b)
				attested = append(attested, SBOMPredicateType)
			}
		}
	}
	for _, p := range s.Predicates {
		if err == nil {
			se, err = s.Attest(ctx, se, r.repo, h, p.Type, p.Body)
			attested = append(attested, p.Type)
		}
	}
	if err == nil {
		err = ociremote.WriteSignatures(r.repo, se, ociremote.WithRemoteOptions(reg.with(ctx)...))
	}
	if err == nil && len(attested) > 0 {
		if err = ociremote.WriteAttestations(r.repo, se, ociremote.WithRemoteOptions(reg.with(ctx)...)); err == nil {
			res.Attested = attested
		}
	}
	if err != nil {
		res.Error = fmt.Sprintf("signing %s: %s", ref, explain(r, err))
	}
	return res
}
