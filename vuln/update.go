package vuln

import (
	"fmt"

	"github.com/anchore/clio"
	v6dist "github.com/anchore/grype/grype/db/v6/distribution"
	v6inst "github.com/anchore/grype/grype/db/v6/installation"
)

// Update downloads the current grype vulnerability database into root, in
// grype's layout (root/6/vulnerability.db), with grype's own distribution
// client and installer (the archive's checksum is verified), and opens it.
// url is the listing to read ("" for grype's, https://grype.anchore.io/databases);
// updated is false when the database there was already the current one.
// kubegate db update runs it; checking never does.
func Update(root, url, version string) (db *DB, updated bool, err error) {
	dist := v6dist.DefaultConfig()
	dist.ID = clio.Identification{Name: "kubegate", Version: version}
	dist.RequireUpdateCheck = true
	if url != "" {
		dist.LatestURL = url
	}
	client, err := v6dist.NewClient(dist)
	if err != nil {
		return nil, false, err
	}
	inst := v6inst.DefaultConfig(dist.ID)
	inst.DBRootDir = root
	inst.UpdateCheckMaxFrequency = 0 // asked for: always ask
	curator, err := v6inst.NewCurator(inst, client)
	if err != nil {
		return nil, false, err
	}
	if updated, err = curator.Update(); err != nil {
		return nil, false, fmt.Errorf("updating the vulnerability database from %s: %v", dist.LatestURL, oneLine(err))
	}
	db, err = Open(root)
	return db, updated, err
}
