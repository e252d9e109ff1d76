package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kubegate/kubegate/images"
	"github.com/kubegate/kubegate/load"
)

const signUsage = `Usage: kubegate sign --key FILE [flags] PATH...

Signs every image that the manifests under PATH name, in its registry, with
the cosign private key FILE (its password in COSIGN_PASSWORD), and attaches
the image's CycloneDX SBOM as a signed in-toto attestation, and any
--attest TYPE=FILE predicate (a release's SLSA provenance, say): for release
pipelines, after the images are pushed, so that kubegate check --verify-key,
kubegate verify-self --verify-key and cosign verify pass. It refuses to run
without an explicit key and PATH: signing is never a default.

Flags:
`

func runSign(ctx context.Context, args []string, env Env) int {
	fs := pflag.NewFlagSet("kubegate sign", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	key := fs.String("key", "", "cosign private key `FILE` (as cosign generate-key-pair writes it; password in COSIGN_PASSWORD)")
	noSBOM := fs.Bool("no-sbom", false, "do not build and attest the SBOMs")
	attest := fs.StringArray("attest", nil, "also attest the predicate in `TYPE=FILE` (TYPE a URI or cosign's short name: slsaprovenance1, spdxjson, openvex...); repeatable")
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
	for _, a := range *attest {
		p, err := predicate(wd, a)
		if err != nil {
			return errorf(env, "sign: --attest %s: %v", a, err)
		}
		signer.Predicates = append(signer.Predicates, p)
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
		case len(r.Attested) > 0:
			fmt.Fprintf(env.Stdout, "signed %s (%s), attested %s\n", r.Ref, r.Digest, strings.Join(r.Attested, ", "))
		default:
			fmt.Fprintf(env.Stdout, "signed %s (%s)\n", r.Ref, r.Digest)
		}
	}
	return code
}

// predicate reads --attest TYPE=FILE: a JSON predicate and its type.
func predicate(wd, arg string) (images.Predicate, error) {
	typ, file, ok := strings.Cut(arg, "=")
	if !ok || typ == "" || file == "" {
		return images.Predicate{}, errors.New("want TYPE=FILE")
	}
	uri, err := images.PredicateType(typ)
	if err != nil {
		return images.Predicate{}, err
	}
	body, err := os.ReadFile(resolve(wd, file))
	if err != nil {
		return images.Predicate{}, err
	}
	if !json.Valid(body) {
		return images.Predicate{}, fmt.Errorf("%s is not JSON", file)
	}
	return images.Predicate{Type: uri, Body: body}, nil
}
