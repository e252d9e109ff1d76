package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/pflag"

	"github.com/kubegate/kubegate/images"
)

// The release identity: images published by the release workflow of
// github.com/kubegate/kubegate, run for a release tag, signed keyless with
// the workflow's GitHub OIDC token (.github/workflows/release.yml).
const (
	releaseIdentity = `https://github\.com/kubegate/kubegate/\.github/workflows/release\.yml@refs/tags/release/v.+`
	releaseIssuer   = `https://token\.actions\.githubusercontent\.com`
	// imageBinary is where the images keep kubegate (Dockerfile).
	imageBinary = "/usr/local/bin/kubegate"
)

const verifySelfUsage = `Usage: kubegate verify-self [flags]

Checks that this kubegate is a signed release: resolves its image (--image,
else $KUBEGATE_IMAGE, which the released action.yml and images set), verifies
the image's cosign signature and its SBOM and SLSA provenance attestations
against kubegate's release identity (the release workflow's keyless
signature; --verify-key for a key instead), and compares the image's
` + imageBinary + ` with this very binary. Exit 0 when everything holds, 1
when something does not, 2 when it could not be checked.

The same check with cosign:
  cosign verify ghcr.io/kubegate/kubegate@sha256:... \
    --certificate-identity-regexp '^` + releaseIdentity + `$' \
    --certificate-oidc-issuer https://token.actions.githubusercontent.com

Flags:
`

func runVerifySelf(ctx context.Context, args []string, env Env) int {
	fs := pflag.NewFlagSet("kubegate verify-self", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	image := fs.String("image", "", "the image `REF` this kubegate came from (default $KUBEGATE_IMAGE); by digest, or a tag to resolve")
	vf := addVerifyFlags(fs)
	attest := fs.StringArray("attestation", []string{"cyclonedx", "slsaprovenance1"}, "require a verified attestation of predicate `TYPE` (a URI or cosign's short name); repeatable")
	binary := fs.String("binary", "", "the kubegate binary `FILE` to compare with the image's (default this one)")
	platform := fs.String("platform", runtime.GOOS+"/"+runtime.GOARCH, "the `OS/ARCH[/VARIANT]` of a multi-platform image to compare with")
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		return errorf(env, "verify-self: %v (see kubegate verify-self --help)", err)
	}
	if *help {
		fmt.Fprintf(env.Stdout, "%s%s", verifySelfUsage, fs.FlagUsages())
		return ExitOK
	}
	if fs.NArg() > 0 {
		return errorf(env, "verify-self: unexpected argument %q (the image is --image REF)", fs.Arg(0))
	}
	ref := *image
	if ref == "" {
		ref = env.getenv("KUBEGATE_IMAGE")
	}
	if ref == "" {
		return errorf(env, "verify-self: name the image this kubegate came from (--image REF, or KUBEGATE_IMAGE)")
	}
	wd := env.workDir()
	verify := &images.VerifyOptions{Identity: releaseIdentity, Issuer: releaseIssuer}
	if vf.changed(fs) {
		verify = vf.options(wd)
		verify.Name = func(p string) string { return display(env, p) }
	}
	if !verify.Enabled() {
		return errorf(env, "verify-self: --insecure-ignore-tlog, --verify-root and --rekor-public-key need --verify-key or --verify-identity and --verify-issuer")
	}
	var want []string
	for _, a := range *attest {
		uri, err := images.PredicateType(a)
		if err != nil {
			return errorf(env, "verify-self: --attestation: %v", err)
		}
		want = append(want, uri)
	}
	p, err := v1.ParsePlatform(*platform)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return errorf(env, "verify-self: --platform %q: want OS/ARCH[/VARIANT]", *platform)
	}
	self, shown := *binary, *binary
	if self == "" {
		if self, err = os.Executable(); err != nil {
			return errorf(env, "verify-self: finding this binary: %v", err)
		}
		shown = self
	} else {
		self = resolve(wd, self)
	}
	mine, err := fileSHA256(self)
	if err != nil {
		return errorf(env, "verify-self: %v", err)
	}
	c, err := images.New(images.Options{Verify: verify, Platform: *p})
	if err != nil {
		return errorf(env, "verify-self: %v", err)
	}
	img := c.Check(ctx, []string{ref})[0]
	if img.Error != "" {
		return errorf(env, "verify-self: %s", img.Error)
	}
	pinned := img.Pinned
	fmt.Fprintf(env.Stdout, "%-7s %s\n", "image", pinned)
	ok := true
	check := func(holds bool, what, detail string) {
		mark := "ok"
		if !holds {
			mark, ok = "FAILED", false
		}
		fmt.Fprintf(env.Stdout, "%-7s %s: %s\n", mark, what, detail)
	}
	sig := img.Signature
	check(sig != nil && sig.Verified, "signature", signatureDetail(sig))
	for _, uri := range want {
		var by []string
		for _, a := range img.Attestations {
			if a.PredicateType == uri {
				by = append(by, a.Signer)
			}
		}
		detail := "none verifies"
		if len(by) > 0 {
			detail = "signed by " + strings.Join(slices.Compact(by), ", ")
		}
		check(len(by) > 0, "attestation "+uri, detail)
	}
	theirs, err := c.FileDigest(ctx, pinned, imageBinary)
	switch {
	case err != nil:
		check(false, "binary", err.Error())
	case theirs != mine:
		check(false, "binary", fmt.Sprintf("%s is %s, the image's %s is %s: this kubegate is not the image's", shown, mine, imageBinary, theirs))
	default:
		check(true, "binary", fmt.Sprintf("%s is the image's %s (%s)", shown, imageBinary, mine))
	}
	if !ok {
		fmt.Fprintln(env.Stdout, "kubegate verify-self: this kubegate is NOT a verified release")
		return ExitFindings
	}
	fmt.Fprintln(env.Stdout, "kubegate verify-self: this kubegate is the signed release image above")
	return ExitOK
}

func signatureDetail(sig *images.Signature) string {
	switch {
	case sig == nil:
		return "not checked"
	case sig.Verified:
		return "signed by " + strings.Join(sig.Signers, ", ")
	default:
		return sig.Reason
	}
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %v", p, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
