package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/kubegate/kubegate/vuln"
)

const dbUsage = `Usage: kubegate db update [flags]

Downloads the current grype vulnerability database (online; the archive's
checksum is verified) into the cache directory, for kubegate check
--vuln-db. Checking never downloads one.

Flags:
`

func runDB(args []string, env Env) int {
	if len(args) == 0 || args[0] != "update" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(env.Stdout, dbUsage)
			return ExitOK
		}
		return errorf(env, "db: want kubegate db update (see kubegate db update --help)")
	}
	fs := pflag.NewFlagSet("kubegate db update", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cacheFlag := fs.String("cache-dir", "", "the cache `DIR` (default kubegate under the user cache directory); the database goes to DIR/grype-db")
	url := fs.String("url", "", "the database listing `URL` (a mirror; default grype's, https://grype.anchore.io/databases)")
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args[1:]); err != nil {
		return errorf(env, "db update: %v (see kubegate db update --help)", err)
	}
	if *help {
		fmt.Fprintf(env.Stdout, "%s%s", dbUsage, fs.FlagUsages())
		return ExitOK
	}
	root := filepath.Join(cacheDir(*cacheFlag, env.workDir()), "grype-db")
	db, updated, err := vuln.Update(root, *url, Version)
	if err != nil {
		return errorf(env, "db update: %v", err)
	}
	defer db.Close()
	state := "already current"
	if updated {
		state = "downloaded"
	}
	fmt.Fprintf(env.Stdout, "vulnerability database %s (%s), built %s: check with --vuln-db %s\n", db.Path, state, db.Built.Format(time.RFC3339), root)
	return ExitOK
}
