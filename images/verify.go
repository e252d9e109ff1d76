package images

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/cosign/v2/pkg/oci"
	"github.com/sigstore/cosign/v2/pkg/oci/static"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/tuf"
)

// VerifyOptions say whose signatures an image needs. An image passes when
// any key, or the keyless identity, verifies one of its signatures.
type VerifyOptions struct {
	// Keys are cosign public key files (PEM).
	Keys []string
	// Identity and Issuer are regular expressions for keyless signatures:
	// the certificate's subject (e-mail or URI, such as a workflow) and the
	// OIDC issuer that vouched for it. Both or neither.
	Identity, Issuer string
	// Roots is a PEM file of CA certificates that keyless certificates
	// must chain to (a private CA); "" means Sigstore's public Fulcio,
	// whose roots come from Sigstore's TUF repository.
	Roots string
	// IgnoreTlog verifies without a transparency log, as cosign's
	// --insecure-ignore-tlog: for air-gapped runs with key-signed images.
	IgnoreTlog bool
	// RekorKeys is a PEM file of transparency-log (Rekor) public keys,
	// for a private Rekor or an air-gapped run; "" means Sigstore's, from
	// TUF (or $SIGSTORE_REKOR_PUBLIC_KEY, as cosign reads it).
	RekorKeys string
	// ReadFile reads the files above (default os.ReadFile); Name is how
	// messages name them (default as given).
	ReadFile func(string) ([]byte, error)
	Name     func(string) string
}

// Enabled says whether any signature is required.
func (o *VerifyOptions) Enabled() bool {
	return o != nil && (len(o.Keys) > 0 || o.Identity != "" || o.Issuer != "")
}

// Signature is what verification found for one image.
type Signature struct {
	// Verified is true when a signature verified against the keys or the
	// keyless identity.
	Verified bool `json:"verified"`
	// Signers name what verified it: "key cosign.pub", or the
	// certificate's identity and issuer.
	Signers []string `json:"signers,omitempty"`
	// Reason says why nothing verified.
	Reason string `json:"reason,omitempty"`
}

// Attestation is one verified in-toto attestation attached to an image.
type Attestation struct {
	PredicateType string `json:"predicate_type"`
	Signer        string `json:"signer"`
	// Predicate is the attestation's predicate, for policies.
	Predicate any `json:"predicate,omitempty"`
}

// verifier checks signatures with every configured key and identity.
type verifier struct {
	opts   VerifyOptions
	checks []verifyCheck
	// hash identifies the trust configuration: a cached verdict is only
	// reused under the same keys, identities and roots.
	hash string

	trustOnce sync.Once
	trustErr  error
}

type verifyCheck struct {
	name string
	co   *cosign.CheckOpts
}

// newVerifier reads the keys and roots; network-bound trust material
// (Sigstore's TUF root) is fetched only when a signature is first checked.
func newVerifier(o VerifyOptions) (*verifier, error) {
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	if o.Name == nil {
		o.Name = func(p string) string { return p }
	}
	v := &verifier{opts: o}
	h := sha256.New()
	fmt.Fprintf(h, "tlog=%v\x00identity=%s\x00issuer=%s\x00", !o.IgnoreTlog, o.Identity, o.Issuer)
	for _, k := range o.Keys {
		if strings.Contains(k, "://") {
			return nil, fmt.Errorf("--verify-key %s: key management (KMS) and Kubernetes secret URIs are not supported, since they need cloud credentials at check time; export the public key once with `cosign public-key --key %s > cosign.pub` and pass that file", k, k)
		}
		raw, err := o.ReadFile(k)
		if err != nil {
			return nil, fmt.Errorf("--verify-key: %v", err)
		}
		pub, err := cryptoutils.UnmarshalPEMToPublicKey(raw)
		if err != nil {
			return nil, fmt.Errorf("--verify-key %s: not a PEM public key (as `cosign generate-key-pair` writes cosign.pub): %v", k, err)
		}
		sv, err := signature.LoadVerifier(pub, crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("--verify-key %s: %v", k, err)
		}
		// The name too: a cached verdict lists the signers by name.
		fmt.Fprintf(h, "key=%s\x00", o.Name(k))
		h.Write(raw)
		v.checks = append(v.checks, verifyCheck{name: "key " + o.Name(k), co: &cosign.CheckOpts{SigVerifier: sv}})
	}
	if (o.Identity == "") != (o.Issuer == "") {
		// An empty identity would accept any certificate the root signed.
		return nil, errors.New("keyless verification needs both --verify-identity and --verify-issuer: with only one, any identity that chains to the root would pass")
	}
	if o.Identity != "" {
		for _, re := range []struct{ flag, v string }{{"--verify-identity", o.Identity}, {"--verify-issuer", o.Issuer}} {
			if _, err := regexp.Compile(re.v); err != nil {
				return nil, fmt.Errorf("%s: %v", re.flag, err)
			}
		}
		co := &cosign.CheckOpts{Identities: []cosign.Identity{{SubjectRegExp: anchored(o.Identity), IssuerRegExp: anchored(o.Issuer)}}}
		if o.Roots != "" {
			raw, err := o.ReadFile(o.Roots)
			if err != nil {
				return nil, fmt.Errorf("--verify-root: %v", err)
			}
			certs, err := cryptoutils.UnmarshalCertificatesFromPEM(raw)
			if err != nil || len(certs) == 0 {
				return nil, fmt.Errorf("--verify-root %s: no PEM certificate in it", o.Roots)
			}
			co.RootCerts = x509.NewCertPool()
			co.IntermediateCerts = x509.NewCertPool()
			for _, c := range certs {
				if isSelfSigned(c) {
					co.RootCerts.AddCert(c)
				} else {
					co.IntermediateCerts.AddCert(c)
				}
			}
			// A private CA has no certificate transparency log.
			co.IgnoreSCT = true
			h.Write(raw)
		}
		v.checks = append(v.checks, verifyCheck{name: "keyless", co: co})
	}
	if o.RekorKeys != "" {
		raw, err := o.ReadFile(o.RekorKeys)
		if err != nil {
			return nil, fmt.Errorf("--rekor-public-key: %v", err)
		}
		h.Write(raw)
	}
	for _, c := range v.checks {
		c.co.IgnoreTlog = o.IgnoreTlog
		// Log entries are checked from the bundle attached to the
		// signature, never looked up online.
		c.co.Offline = true
	}
	v.hash = hex.EncodeToString(h.Sum(nil))[:16]
	return v, nil
}

// anchored makes a user's regular expression match the whole value, as
// cosign's --certificate-identity-regexp users expect from an identity
// such as https://github.com/org/repo/.* (an unanchored one would also
// accept https://evil.example/https://github.com/org/repo/).
func anchored(re string) string {
	return "^(?:" + re + ")$"
}

func isSelfSigned(c *x509.Certificate) bool {
	return c.CheckSignatureFrom(c) == nil
}

// trust loads the transparency-log keys and Sigstore's roots, once.
func (v *verifier) trust(ctx context.Context) error {
	v.trustOnce.Do(func() {
		needTUF := false
		var rekor *cosign.TrustedTransparencyLogPubKeys
		if !v.opts.IgnoreTlog {
			if v.opts.RekorKeys != "" {
				raw, _ := v.opts.ReadFile(v.opts.RekorKeys)
				keys := cosign.NewTrustedTransparencyLogPubKeys()
				if err := keys.AddTransparencyLogPubKey(raw, tuf.Active); err != nil {
					v.trustErr = fmt.Errorf("--rekor-public-key %s: %v", v.opts.RekorKeys, err)
					return
				}
				rekor = &keys
			} else if os.Getenv("SIGSTORE_REKOR_PUBLIC_KEY") != "" {
				keys, err := cosign.GetRekorPubs(ctx)
				if err != nil {
					v.trustErr = fmt.Errorf("SIGSTORE_REKOR_PUBLIC_KEY: %v", err)
					return
				}
				rekor = keys
			} else {
				needTUF = true
			}
		}
		keyless := v.opts.Identity != "" && v.opts.Roots == ""
		if needTUF || keyless {
			tm, err := cosign.TrustedRoot()
			if err != nil {
				v.trustErr = fmt.Errorf("fetching Sigstore's trusted root (transparency-log keys and Fulcio roots) from its TUF repository: %v; without network access, pass --rekor-public-key and --verify-root, or --insecure-ignore-tlog for key-signed images", err)
				return
			}
			for _, c := range v.checks {
				if c.co.RootCerts == nil {
					c.co.TrustedMaterial = tm
				}
			}
		}
		if rekor != nil {
			for _, c := range v.checks {
				if c.co.TrustedMaterial == nil {
					c.co.RekorPubKeys = rekor
				}
			}
		}
	})
	return v.trustErr
}

// verify checks the signatures and attestations attached to se, whose
// digest is h.
func (v *verifier) verify(ctx context.Context, se oci.SignedEntity, h v1.Hash) (*Signature, []Attestation, error) {
	if err := v.trust(ctx); err != nil {
		return nil, nil, err
	}
	sigs, err := se.Signatures()
	if err != nil {
		return nil, nil, fmt.Errorf("reading signatures: %w", err)
	}
	var list []oci.Signature
	if sigs != nil {
		if list, err = sigs.Get(); err != nil {
			return nil, nil, fmt.Errorf("reading signatures: %w", err)
		}
	}
	out := &Signature{}
	var reasons []string
	for _, c := range v.checks {
		co := *c.co
		co.ClaimVerifier = cosign.SimpleClaimVerifier
		for _, sig := range list {
			sig, err := static.Copy(sig)
			if err != nil {
				return nil, nil, err
			}
			if _, err := cosign.VerifyImageSignature(ctx, sig, h, &co); err != nil {
				reasons = append(reasons, c.name+": "+whyNot(sig, &co, err))
				continue
			}
			out.Verified = true
			out.Signers = append(out.Signers, signerName(c.name, sig))
		}
	}
	switch {
	case out.Verified:
	case len(list) == 0:
		out.Reason = "no cosign signature is attached to " + h.String()
	default:
		slices.Sort(reasons)
		out.Reason = "no attached signature verifies (" + strings.Join(slices.Compact(reasons), "; ") + ")"
	}
	slices.Sort(out.Signers)
	out.Signers = slices.Compact(out.Signers)
	atts, err := v.attestations(ctx, se, h)
	return out, atts, err
}

// attestations reads back the in-toto attestations that verify.
func (v *verifier) attestations(ctx context.Context, se oci.SignedEntity, h v1.Hash) ([]Attestation, error) {
	atts, err := se.Attestations()
	if err != nil {
		return nil, fmt.Errorf("reading attestations: %w", err)
	}
	if atts == nil {
		return nil, nil
	}
	list, err := atts.Get()
	if err != nil || len(list) == 0 {
		return nil, nil
	}
	var out []Attestation
	for _, c := range v.checks {
		co := *c.co
		co.ClaimVerifier = cosign.IntotoSubjectClaimVerifier
		checked, _, err := cosign.VerifyImageAttestation(ctx, atts, h, &co)
		if err != nil {
			continue
		}
		for _, a := range checked {
			pt, pred, err := statement(a)
			if err != nil {
				continue
			}
			out = append(out, Attestation{PredicateType: pt, Signer: signerName(c.name, a), Predicate: pred})
		}
	}
	slices.SortFunc(out, func(a, b Attestation) int { return strings.Compare(a.PredicateType+a.Signer, b.PredicateType+b.Signer) })
	return out, nil
}

// statement reads the in-toto statement out of a DSSE attestation.
func statement(a oci.Signature) (string, any, error) {
	raw, err := a.Payload()
	if err != nil {
		return "", nil, err
	}
	var env struct {
		Payload string `json:"payload"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return "", nil, err
	}
	body, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return "", nil, err
	}
	var st struct {
		PredicateType string `json:"predicateType"`
		Predicate     any    `json:"predicate"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return "", nil, err
	}
	return st.PredicateType, st.Predicate, nil
}

// signerName is what verified a signature: the key, or the certificate's
// identity and issuer.
func signerName(check string, sig oci.Signature) string {
	cert, err := sig.Cert()
	if err != nil || cert == nil {
		return check
	}
	id := strings.Join(cryptoutils.GetSubjectAlternateNames(cert), ",")
	ce := cosign.CertExtensions{Cert: cert}
	return fmt.Sprintf("%s (issuer %s)", id, ce.GetIssuer())
}

// whyNot explains a failed verification; cosign's words for a signature
// without a log entry ("offline verification failed") say nothing a
// pull-request author can act on.
func whyNot(sig oci.Signature, co *cosign.CheckOpts, err error) string {
	if !co.IgnoreTlog {
		if b, berr := sig.Bundle(); berr == nil && b == nil {
			return "the signature has no transparency-log entry (sign with cosign, which logs it in Rekor; for air-gapped key-signed images verify with --insecure-ignore-tlog)"
		}
	}
	return oneLine(err)
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
