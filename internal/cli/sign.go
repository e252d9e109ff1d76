package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/kubegate/kubegate/images"
	"github.com/kubegate/kubegate/load"
)

const signUsage = `Usage: kubegate sign --key FILE [flags] PATH...

Signs every image that the manifests under PATH name, in its registry, with
the cosign private key FILE (its password in COSIGN_PASSWORD), and attaches
the image's CycloneDX SBOM as a signed in-toto attestation: for release
pipelines, after the images are pushed, so that kubegate check --verify-key
(and cosign verify) pass. It refuses to run without an explicit key and
PATH: signing is never a default.

Flags:
`

func runSign(ctx context.Context, args []string, env Env) int {
	fs := pflag.NewFlagSet("kubegate sign", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	key := fs.String("key", "", "cosign private key `FILE` (as cosign generate-key-pair writes it; password in COSIGN_PASSWORD)")
	noSBOM := fs.Bool("no-sbom", false, "sign only: do not build and attest the SBOMs")
	cacheFlag := fs.String("cache-dir", "", "SBOM cache `DIR` (default kubegate under the user cache directory)")
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		return errorf(env, "sign: %v (see kubegate sign --help)", err)
	}
	if *help {
		fmt.Fprintf(env.Stdout, "%s%s", signUsage, fs.FlagUsages())
		return ExitOK
	}
	if *key == "" || fs.NArg() == 0 {
		return errorf(env, "sign: name the key (--key FILE) and the manifests (PATH...) explicitly; kubegate signs nothing by default")
	}
	wd := env.workDir()
	signer, err := images.LoadKey(resolve(wd, *key), []byte(env.getenv("COSIGN_PASSWORD")))
	if err != nil {
		return errorf(env, "sign: --key %v", err)
	}
	loaded := load.Load(fs.Args(), load.Options{WorkDir: env.WorkDir, Stdin: env.Stdin})
	for _, e := range loaded.Errors {
		fmt.Fprintf(env.Stderr, "kubegate: %s\n", e.Error())
	}
	refs, _ := load.Images(loaded.Resources)
	if len(refs) == 0 {
		return errorf(env, "sign: the manifests under %v name no image", fs.Args())
	}
	c, err := images.New(images.Options{SBOM: !*noSBOM, CacheDir: cacheDir(*cacheFlag, wd)})
	if err != nil {
		return errorf(env, "sign: %v", err)
	}
	code := ExitOK
	if len(loaded.Errors) > 0 {
		code = ExitError
	}
	for _, r := range c.SignAll(ctx, refs, signer) {
		switch {
		case r.Error != "":
			fmt.Fprintf(env.Stderr, "kubegate: %s\n", r.Error)
			code = ExitError
		case r.Attested:
			fmt.Fprintf(env.Stdout, "signed %s (%s), SBOM attested\n", r.Ref, r.Digest)
		default:
			fmt.Fprintf(env.Stdout, "signed %s (%s)\n", r.Ref, r.Digest)
		}
	}
	return code
}
