// Command oci is what .ci/e2e needs for the release path without the
// internet: a real OCI registry (go-containerregistry's) on a loopback
// address, which dockerd pushes to and kubegate signs in, and a cosign key
// pair for kubegate sign (keyless signing needs Sigstore's public services).
//
//	oci -addr 127.0.0.1:0          serve; prints "listening on HOST:PORT"
//	oci -keygen DIR                write DIR/cosign.key and DIR/cosign.pub,
//	                               the key encrypted with $COSIGN_PASSWORD
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/sigstore/cosign/v2/pkg/cosign"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	keygen := flag.String("keygen", "", "write a cosign key pair to `DIR` instead of serving")
	flag.Parse()
	if *keygen != "" {
		keys, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return []byte(os.Getenv("COSIGN_PASSWORD")), nil })
		if err != nil {
			log.Fatal(err)
		}
		if err := os.MkdirAll(*keygen, 0o700); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*keygen, "cosign.key"), keys.PrivateBytes, 0o600); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*keygen, "cosign.pub"), keys.PublicBytes, 0o644); err != nil {
			log.Fatal(err)
		}
		return
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		log.Fatalf("%s is not a loopback address", ln.Addr())
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	log.Fatal(http.Serve(ln, registry.New(registry.Logger(log.New(io.Discard, "", 0)))))
}
