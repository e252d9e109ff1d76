package images

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"github.com/sigstore/sigstore/pkg/signature"
)

// testRegistry is go-containerregistry's registry on loopback, with a
// request log and an optional fault injected in front of it.
type testRegistry struct {
	t    testing.TB
	host string
	mu   sync.Mutex
	log  []string
	// fault, when set, answers a request instead of the registry (return
	// false to pass it on).
	fault func(w http.ResponseWriter, r *http.Request) bool
}

func newTestRegistry(t testing.TB) *testRegistry {
	t.Helper()
	// No credential helper or config of the machine's may be used.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	tr := &testRegistry{t: t}
	reg := registry.New(registry.Logger(nopLogger()))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.mu.Lock()
		tr.log = append(tr.log, r.Method+" "+r.URL.Path)
		fault := tr.fault
		tr.mu.Unlock()
		if fault != nil && fault(w, r) {
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	tr.host = u.Host
	return tr
}

func (tr *testRegistry) setFault(f func(w http.ResponseWriter, r *http.Request) bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.fault = f
}

// requests returns and clears the request log.
func (tr *testRegistry) requests() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := tr.log
	tr.log = nil
	return out
}

// push writes img at repo:tag and returns the reference and digest.
func (tr *testRegistry) push(repo, tag string, img v1.Image) (string, v1.Hash) {
	tr.t.Helper()
	ref := tr.host + "/" + repo + ":" + tag
	if err := remote.Write(mustRef(ref), img); err != nil {
		tr.t.Fatal(err)
	}
	h, err := img.Digest()
	if err != nil {
		tr.t.Fatal(err)
	}
	return ref, h
}

// sign signs the image at ref (by digest) and pushes the signature, as
// cosign sign does.
func (tr *testRegistry) sign(s *Signer, ref string, h v1.Hash) {
	tr.t.Helper()
	r := mustRef(ref)
	d := r.Context().Digest(h.String())
	se, err := ociremote.SignedEntity(d)
	if err != nil {
		tr.t.Fatal(err)
	}
	se, err = s.Sign(context.Background(), se, r.Context(), h)
	if err != nil {
		tr.t.Fatal(err)
	}
	if err := ociremote.WriteSignatures(r.Context(), se); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *testRegistry) attest(s *Signer, ref string, h v1.Hash, predicateType, predicate string) {
	tr.t.Helper()
	r := mustRef(ref)
	se, err := ociremote.SignedEntity(r.Context().Digest(h.String()))
	if err != nil {
		tr.t.Fatal(err)
	}
	se, err = s.Attest(context.Background(), se, r.Context(), h, predicateType, []byte(predicate))
	if err != nil {
		tr.t.Fatal(err)
	}
	if err := ociremote.WriteAttestations(r.Context(), se); err != nil {
		tr.t.Fatal(err)
	}
}

// keyPair makes a cosign key pair, writes the public key and returns its
// path with a signer.
func keyPair(t testing.TB) (string, *Signer) {
	t.Helper()
	kb, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return []byte("pw"), nil })
	if err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(t.TempDir(), "cosign.pub")
	if err := os.WriteFile(pub, kb.PublicBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	sv, err := cosign.LoadPrivateKey(kb.PrivateBytes, []byte("pw"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return pub, &Signer{SV: sv}
}

// testCA is a throwaway keyless CA: a root and a code-signing leaf for an
// identity and an OIDC issuer, with the extensions Fulcio sets.
type testCA struct {
	rootPEM string // path of the root certificate
	root    *x509.Certificate
	key     *ecdsa.PrivateKey
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kubegate test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(der)
	p := filepath.Join(t.TempDir(), "root.pem")
	os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	return &testCA{rootPEM: p, root: root, key: key}
}

// signer issues a leaf for identity (an e-mail or a URI) and issuer.
func (ca *testCA) signer(t *testing.T, identity, issuer string) *Signer {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	// 1.1 holds the issuer as raw bytes, 1.8 as a DER UTF8String.
	issuerV2, _ := asn1.MarshalWithParams(issuer, "utf8")
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: []pkix.Extension{
			{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}, Value: []byte(issuer)},
			{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}, Value: issuerV2},
		},
	}
	if u, err := url.Parse(identity); err == nil && u.Scheme != "" {
		tmpl.URIs = []*url.URL{u}
	} else {
		tmpl.EmailAddresses = []string{identity}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.root, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := signature.LoadECDSASignerVerifier(key, cryptoHash)
	if err != nil {
		t.Fatal(err)
	}
	return &Signer{SV: sv, Cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), Chain: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.root.Raw})}
}

// checkOne checks a single reference.
func checkOne(t *testing.T, o Options, ref string) *Image {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c.Check(context.Background(), []string{ref})[0]
}

// noSleep records the waits instead of sleeping: no test depends on the
// clock.
type noSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (n *noSleep) sleep(_ context.Context, d time.Duration) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.waits = append(n.waits, d)
	return nil
}

func contains(list []string, sub string) int {
	n := 0
	for _, s := range list {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}

func nopLogger() *log.Logger { return log.New(io.Discard, "", 0) }

const cryptoHash = crypto.SHA256

func mustRef(s string) name.Reference {
	r, err := name.ParseReference(s)
	if err != nil {
		panic(err)
	}
	return r
}
