// Command fixturedb writes the vulnerability database under fixtures/vulndb
// (vulntest.Fixtures, built at vulntest.FixturesBuilt) with grype's own v6
// writer: go generate ./vuln.
package main

import (
	"log"
	"os"

	"github.com/kubegate/kubegate/vuln/vulntest"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: fixturedb DIR")
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	if err := vulntest.WriteAt(dir, vulntest.Fixtures, vulntest.FixturesBuilt); err != nil {
		log.Fatal(err)
	}
}
