package cli

import (
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/cosign/v2/pkg/cosign"
)

// kubegate sign signs and attests a release image on a registry on
// loopback; kubegate verify-self then holds a binary to it: the image's
// signature, its SBOM and provenance attestations, and the binary's bytes.
func TestSignThenVerifySelf(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credential of the machine's
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	push := func(repo, binary string) string {
		img, err := crane.Image(map[string][]byte{"usr/local/bin/kubegate": []byte(binary)})
		if err != nil {
			t.Fatal(err)
		}
		ref := u.Host + "/" + repo + ":v1.2.3-shell"
		r, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(r, img); err != nil {
			t.Fatal(err)
		}
		h, _ := img.Digest()
		return u.Host + "/" + repo + "@" + h.String()
	}
	release := push("kubegate/kubegate", "the released kubegate")
	unsigned := push("other/kubegate", "the released kubegate")
	keys, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return []byte("pw"), nil })
	if err != nil {
		t.Fatal(err)
	}
	write("cosign.key", string(keys.PrivateBytes))
	write("cosign.pub", string(keys.PublicBytes))
	write("provenance.json", `{"buildDefinition": {"buildType": "https://github.com/kubegate/kubegate/release"}}`)
	write("release.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: kubegate}\nspec:\n  containers:\n    - name: kubegate\n      image: "+release+"\n")
	write("kubegate", "the released kubegate")
	write("kubegate-tampered", "a kubegate with a backdoor")

	env := map[string]string{"COSIGN_PASSWORD": "pw"}
	stdout, stderr, code := run(t, dir, env, "", "sign", "--key", "cosign.key", "--attest", "slsaprovenance1=provenance.json", "release.yaml")
	if code != ExitOK || !strings.Contains(stdout, "attested https://cyclonedx.org/bom, https://slsa.dev/provenance/v1") {
		t.Fatalf("sign: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code := run(t, dir, env, "", "sign", "--key", "cosign.key", "--attest", "provenance.json", "release.yaml"); code != ExitError || !strings.Contains(stderr, "want TYPE=FILE") {
		t.Errorf("--attest without a type: exit %d, %s", code, stderr)
	}

	verify := []string{"verify-self", "--verify-key", "cosign.pub", "--insecure-ignore-tlog"}
	stdout, stderr, code = run(t, dir, nil, "", append(verify, "--image", release, "--binary", "kubegate")...)
	for _, want := range []string{
		"image   " + release,
		"ok      signature: signed by key cosign.pub",
		"ok      attestation https://cyclonedx.org/bom: signed by key cosign.pub",
		"ok      attestation https://slsa.dev/provenance/v1: signed by key cosign.pub",
		"ok      binary: kubegate is the image's /usr/local/bin/kubegate (sha256:",
		"this kubegate is the signed release image above",
	} {
		if code != ExitOK || !strings.Contains(stdout, want) {
			t.Errorf("verify-self of the release: exit %d, want %q in\n%s%s", code, want, stdout, stderr)
		}
	}
	// The image named by KUBEGATE_IMAGE, as the released action.yml sets it.
	if stdout, _, code := run(t, dir, map[string]string{"KUBEGATE_IMAGE": release}, "", append(verify, "--binary", "kubegate")...); code != ExitOK {
		t.Errorf("KUBEGATE_IMAGE: exit %d\n%s", code, stdout)
	}
	// Another binary than the image's fails, and says which.
	stdout, _, code = run(t, dir, nil, "", append(verify, "--image", release, "--binary", "kubegate-tampered")...)
	if code != ExitFindings || !strings.Contains(stdout, "FAILED  binary: kubegate-tampered is sha256:") || !strings.Contains(stdout, "this kubegate is not the image's") || !strings.Contains(stdout, "NOT a verified release") {
		t.Errorf("a tampered binary: exit %d\n%s", code, stdout)
	}
	// The same bytes in an unsigned image fail on the signature and the
	// attestations.
	stdout, _, code = run(t, dir, nil, "", append(verify, "--image", unsigned, "--binary", "kubegate")...)
	if code != ExitFindings || !strings.Contains(stdout, "FAILED  signature: no cosign signature is attached") || !strings.Contains(stdout, "FAILED  attestation https://slsa.dev/provenance/v1: none verifies") {
		t.Errorf("an unsigned image: exit %d\n%s", code, stdout)
	}
	// Without an image there is nothing to check against.
	if _, stderr, code := run(t, dir, nil, "", "verify-self"); code != ExitError || !strings.Contains(stderr, "--image REF, or KUBEGATE_IMAGE") {
		t.Errorf("no image: exit %d, %s", code, stderr)
	}
}
