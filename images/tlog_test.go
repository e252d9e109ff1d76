package images

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	cbundle "github.com/sigstore/cosign/v2/pkg/cosign/bundle"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/kubegate/kubegate/images/internal/testimage"
)

// testLog is a throwaway transparency log: it makes the bundle that Rekor
// would return for a hashedrekord entry, signed with its own key, so that
// verification with the log on (the default) is tested offline.
type testLog struct {
	key    *ecdsa.PrivateKey
	pubPEM string // file
	logID  string
}

func newTestLog(t *testing.T) *testLog {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	p := filepath.Join(t.TempDir(), "rekor.pub")
	os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644)
	id, err := cosign.GetTransparencyLogID(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return &testLog{key: key, pubPEM: p, logID: id}
}

// entry logs a signature made by signer's key.
func (l *testLog) entry(signer *Signer) func(payload, sig []byte) (*cbundle.RekorBundle, error) {
	return func(payload, sig []byte) (*cbundle.RekorBundle, error) {
		pub, err := signer.SV.PublicKey()
		if err != nil {
			return nil, err
		}
		pubPEM, err := cryptoutils.MarshalPublicKeyToPEM(pub)
		if err != nil {
			return nil, err
		}
		h := sha256.Sum256(payload)
		body, _ := json.Marshal(map[string]any{
			"apiVersion": "0.0.1",
			"kind":       "hashedrekord",
			"spec": map[string]any{
				"data":      map[string]any{"hash": map[string]string{"algorithm": "sha256", "value": hex.EncodeToString(h[:])}},
				"signature": map[string]any{"content": base64.StdEncoding.EncodeToString(sig), "publicKey": map[string]string{"content": base64.StdEncoding.EncodeToString(pubPEM)}},
			},
		})
		p := cbundle.RekorPayload{Body: base64.StdEncoding.EncodeToString(body), IntegratedTime: 1764201600, LogIndex: 7, LogID: l.logID}
		raw, _ := json.Marshal(p)
		canon, err := jsoncanonicalizer.Transform(raw)
		if err != nil {
			return nil, err
		}
		d := sha256.Sum256(canon)
		set, err := ecdsa.SignASN1(rand.Reader, l.key, d[:])
		if err != nil {
			return nil, err
		}
		return &cbundle.RekorBundle{SignedEntryTimestamp: set, Payload: p}, nil
	}
}

// With the transparency log on (the default), a signature counts only
// with a log entry that the log's key vouches for.
func TestTransparencyLog(t *testing.T) {
	reg := newTestRegistry(t)
	pub, signer := keyPair(t)
	log := newTestLog(t)
	logged := &Signer{SV: signer.SV, logEntry: log.entry(signer)}
	ref, h := reg.push("shop/logged", "1", debian(t, testimage.Pkg{Name: "a", Version: "1"}))
	reg.sign(logged, ref, h)
	unloggedRef, uh := reg.push("shop/unlogged", "1", debian(t, testimage.Pkg{Name: "b", Version: "1"}))
	reg.sign(signer, unloggedRef, uh)

	withLog := Options{Verify: &VerifyOptions{Keys: []string{pub}, RekorKeys: log.pubPEM}, Sleep: (&noSleep{}).sleep}
	if got := checkOne(t, withLog, ref); got.Error != "" || !got.Signature.Verified {
		t.Fatalf("a logged signature: %+v %+v", got, got.Signature)
	}
	if got := checkOne(t, withLog, unloggedRef); got.Signature.Verified {
		t.Errorf("a signature without a log entry passed with the log on: %+v", got.Signature)
	} else if !strings.Contains(got.Signature.Reason, "the signature has no transparency-log entry") {
		t.Errorf("reason: %s", got.Signature.Reason)
	}
	// Another log's key does not vouch for the entry.
	other := newTestLog(t)
	if got := checkOne(t, Options{Verify: &VerifyOptions{Keys: []string{pub}, RekorKeys: other.pubPEM}, Sleep: (&noSleep{}).sleep}, ref); got.Signature.Verified || !strings.Contains(got.Signature.Reason, "rekor log public key not found") {
		t.Errorf("another log's key: %+v", got.Signature)
	}
	// --insecure-ignore-tlog accepts the unlogged one.
	if got := checkOne(t, Options{Verify: &VerifyOptions{Keys: []string{pub}, IgnoreTlog: true}, Sleep: (&noSleep{}).sleep}, unloggedRef); !got.Signature.Verified {
		t.Errorf("--insecure-ignore-tlog: %+v", got.Signature)
	}
}
