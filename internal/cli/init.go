package cli

// kubegate init: a working start. It writes a commented .kubegate.yaml
// and, asked, a pipeline for GitHub Actions or GitLab CI, and never
// overwrites a file.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"
)

const initConfig = `# kubegate's configuration: https://github.com/kubegate/kubegate/blob/main/docs/policies.md#the-configuration-file
# Flags override it; paths in it are relative to this file.

# Pod Security Standards, as the admission controller applies them:
# LEVEL:VERSION, LEVEL privileged, baseline or restricted.
pss:
  enforce: baseline:latest     # failures are errors
  warn: restricted:latest      # failures are warnings
  # exemptNamespaces: [kube-system]

# The gate fails (exit 1) on a finding at or above this severity; in a pull
# request with a baseline, on what the pull request introduces.
failOn: error

# The cluster the change goes to: its schemas and the API versions it serves.
# kubeVersion: v1.33

# Your own Rego policies and their data, beside the built-in rules.
# policies: [policy]
# data: [policy/org.yaml]

# CRDs and JSON schemas of custom resources installed by others.
# schemas: [schemas]

# Per-rule settings: severity (error, warning, notice) or disabled.
rules:
  resources.cpu-limit-missing: {severity: notice}
  # hpa.single-replica: {disabled: true}

# How charts render when their own values are not enough.
# charts:
#   - path: charts/web
#     valuesFiles: [deploy/prod-values.yaml]

# Left out of directory scans.
# exclude: [hack/**]

# Waivers, each with a reason and, best, an expiry date.
exceptions: []
#  - rule: pss.hostNamespaces
#    kind: DaemonSet
#    name: node-exporter*
#    reason: reads the node's network statistics
#    expires: 2027-03-31
`

const initGitHub = `# kubegate: https://github.com/kubegate/kubegate/blob/main/docs/reports.md#github-action
name: kubegate
on: pull_request
permissions:
  contents: read
  checks: write          # the check run that carries every finding
  pull-requests: write   # the pull-request comment
jobs:
  kubegate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0
        with:
          fetch-depth: 0   # the base commit too: the gate judges what the pull request introduces
      # v0 follows the latest v0 release; pin one (@vX.Y.Z, or its commit SHA) for an
      # immutable gate: https://github.com/kubegate/kubegate/blob/main/docs/releases.md
      - uses: kubegate/kubegate@v0
        with:
          paths: .
          fail-on: error
`

const initGitLab = `# kubegate: https://github.com/kubegate/kubegate/blob/main/docs/reports.md#gitlab-ci
# Add to .gitlab-ci.yml:
#   include:
#     - local: .gitlab/kubegate.gitlab-ci.yml
kubegate:
  stage: test
  image: ghcr.io/kubegate/kubegate:v0-shell
  script:
    - kubegate check -o text -o gitlab=gl-code-quality-report.json -o junit=kubegate-junit.xml .
  artifacts:
    when: always
    reports:
      codequality: gl-code-quality-report.json
      junit: kubegate-junit.xml
`

func runInit(args []string, env Env) int {
	flags := pflag.NewFlagSet("kubegate init", pflag.ContinueOnError)
	flags.SetOutput(io.Discard)
	github := flags.Bool("github", false, "also write .github/workflows/kubegate.yml, a pull-request workflow")
	gitlab := flags.Bool("gitlab", false, "also write .gitlab/kubegate.gitlab-ci.yml, a job to include in .gitlab-ci.yml")
	help := flags.BoolP("help", "h", false, "show this help")
	if err := flags.Parse(args); err != nil {
		return errorf(env, "init: %v (see kubegate init --help)", err)
	}
	if *help {
		fmt.Fprintf(env.Stdout, "Usage: kubegate init [flags]\n\nWrites a commented .kubegate.yaml in the working directory and, asked, a pipeline; never overwrites a file.\n\nFlags:\n%s", flags.FlagUsages())
		return ExitOK
	}
	files := [][2]string{{".kubegate.yaml", initConfig}}
	if *github {
		files = append(files, [2]string{filepath.Join(".github", "workflows", "kubegate.yml"), initGitHub})
	}
	if *gitlab {
		files = append(files, [2]string{filepath.Join(".gitlab", "kubegate.gitlab-ci.yml"), initGitLab})
	}
	// Nothing is written when any file is there already.
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(env.workDir(), f[0])); !errors.Is(err, fs.ErrNotExist) {
			return errorf(env, "init: %s exists; kubegate init never overwrites a file (move it away, or edit it)", f[0])
		}
	}
	for _, f := range files {
		p := filepath.Join(env.workDir(), f[0])
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return errorf(env, "init: %v", err)
		}
		if err := os.WriteFile(p, []byte(f[1]), 0o644); err != nil {
			return errorf(env, "init: %v", err)
		}
		fmt.Fprintf(env.Stdout, "wrote %s\n", f[0])
	}
	return ExitOK
}
