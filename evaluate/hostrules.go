package evaluate

import (
	"slices"
	"strings"

	"github.com/kubegate/kubegate/finding"
)

// Kubegate's own rules: findings about what kubegate could not check, and
// about the configuration's exceptions, which no policy evaluates because
// there is no resource to evaluate. Their
// metadata lives here, in the same form as the policies' METADATA, and
// reaches `kubegate rules`, SARIF and the job summary the same way.
var (
	// RuleChartDependencyMissing: a chart's dependency is not vendored.
	RuleChartDependencyMissing = Rule{
		ID: "charts.dependency-missing", Severity: finding.Notice, Title: "Chart dependency not vendored", Kinds: []string{"Chart"},
		Rationale: "A dependency named in Chart.yaml that is neither under charts/ (as a directory or an archive) nor a local file:// chart in the repository " +
			"cannot be rendered without downloading it, which kubegate never does while checking. The chart is rendered without it, as if it were disabled, " +
			"so the resources it would add are not checked; this notice says so, so that the run is not mistaken for a clean one.",
		Fix:  "Run helm dependency build on the chart before kubegate (in the same job), or commit the dependency's archive under charts/.",
		Docs: "https://helm.sh/docs/helm/helm_dependency_build/",
	}
	// RuleChartNotRendered: a rendering of a chart could not be made for a
	// reason outside the chart.
	RuleChartNotRendered = Rule{
		ID: "charts.not-rendered", Severity: finding.Notice, Title: "Chart rendering not checked", Kinds: []string{"Chart"},
		Rationale: "A chart whose own values leave a required value unset is meant to be installed with values that set it; chart-testing renders such a chart " +
			"with its ci/*-values.yaml files instead, and so does kubegate. A chart that needs a dependency kubegate could not render cannot be rendered at all. " +
			"Either way, a rendering was not checked, and this notice says which and why.",
		Fix:  "Vendor the chart's dependencies (helm dependency build), or give the values it needs in a charts: entry of .kubegate.yaml (valuesFiles or values).",
		Docs: "https://github.com/helm/chart-testing#chart-testing",
	}
)

// Schemas: what the API server would reject about an object's shape,
// checked against the target version's schemas of built-in kinds and the
// CRDs of the input and of --schema (package schema).
var (
	// RuleSchemaUnknownField: a field the kind does not have.
	RuleSchemaUnknownField = Rule{
		ID: "schema.unknown-field", Severity: finding.Error, Title: "Unknown field",
		Rationale: "The API server rejects an object with a field its kind does not have (kubectl apply and Helm ask for strict field validation), " +
			"or silently drops it. Either way the field never takes effect, and every policy checks the object as if it were not there: " +
			"resources: {limit: ...} sets no limit, and the findings about the missing limit point at a line that looks right.",
		Fix:  "Correct the field's name (the message suggests the nearest known one) or move it to where the kind has it; delete it if it belongs to another version of the kind.",
		Docs: "https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation",
	}
	// RuleSchemaInvalidValue: a value of the wrong type, or outside its
	// enum, format, range or pattern, or a required field missing.
	RuleSchemaInvalidValue = Rule{
		ID: "schema.invalid-value", Severity: finding.Error, Title: "Invalid value",
		Rationale: "The API server refuses an object whose field holds the wrong type (replicas: \"two\", an unquoted number where a string belongs), " +
			"a value outside the allowed ones (imagePullPolicy: Sometimes), a malformed quantity or date, or that lacks a required field. " +
			"The change would fail at deploy time; kubegate says so on the line in the pull request.",
		Fix:  "Write the value as the message says: the right type (quote numbers meant as strings), one of the allowed values, or add the required field.",
		Docs: "https://kubernetes.io/docs/reference/kubernetes-api/",
	}
	// RuleSchemaUnknownKind: no schema known for an apiVersion and kind.
	RuleSchemaUnknownKind = Rule{
		ID: "schema.unknown-kind", Severity: finding.Notice, Title: "No schema for this kind",
		Rationale: "kubegate validates built-in kinds against the schemas of the target Kubernetes version and custom resources against their CRDs. " +
			"A kind with neither (a custom resource whose CRD is installed by someone else, or a misspelt kind) is not validated; this notice says so once per kind.",
		Fix:  "Add the CRD or a JSON schema for the kind with --schema DIR (schemas: in .kubegate.yaml), or correct the kind's spelling.",
		Docs: "https://github.com/kubegate/kubegate/blob/main/docs/schemas.md",
	}
)

// RuleVulnerabilityDB: the vulnerability database is missing or old.
var RuleVulnerabilityDB = Rule{
	ID: "images.vulnerability-db", Severity: finding.Warning, OncePerRun: true, Title: "Vulnerability database missing or out of date", Kinds: []string{"workloads"},
	Rationale: "images.vulnerability matches the images' packages against a grype vulnerability database, a file kubegate reads but never downloads while checking. " +
		"Without one, the packages were not matched: this notice says so once, so that the run is not mistaken for a clean one. " +
		"A database older than --vuln-db-max-age (default 5 days) misses the advisories published since, which is a warning.",
	Fix:  "Give the database with --vuln-db (or vulnerabilities.db in .kubegate.yaml): grype's own (grype db update; --vuln-db ~/.cache/grype/db), refreshed in the job or by a scheduled one.",
	Docs: "https://github.com/kubegate/kubegate/blob/main/docs/images.md#known-vulnerabilities",
}

// The exceptions of .kubegate.yaml (package exceptions applies them).
var (
	// RuleExceptionExpired: an exception's expiry date has passed.
	RuleExceptionExpired = Rule{
		ID: "kubegate.exception-expired", Severity: finding.Warning, Title: "Exception expired", Kinds: []string{"Config"},
		Rationale: "An exception with an expiry date stops applying on that date, so waivers are revisited instead of forgotten.",
		Fix:       "Fix what the exception waived, or renew the exception with a new expiry date and an up-to-date reason.",
		Docs:      "https://github.com/kubegate/kubegate/blob/main/docs/policies.md#exceptions",
	}
	// RuleExceptionUnused: an exception waives no finding.
	RuleExceptionUnused = Rule{
		ID: "kubegate.exception-unused", Severity: finding.Notice, Title: "Exception matches nothing", Kinds: []string{"Config"},
		Rationale: "An exception that waives no finding is dead configuration; its selector may also be wrong and waive nothing it was meant to.",
		Fix:       "Remove the exception, or correct its rule, kind, namespace, name or path.",
		Docs:      "https://github.com/kubegate/kubegate/blob/main/docs/policies.md#exceptions",
	}
)

// OncePerRun says whether the rule id's finding is about the whole run
// (Rule.OncePerRun).
func OncePerRun(id string) bool {
	return slices.ContainsFunc(hostRules, func(r Rule) bool { return r.ID == id && r.OncePerRun })
}

// hostRules are every rule defined here.
var hostRules = []Rule{RuleChartDependencyMissing, RuleChartNotRendered, RuleExceptionExpired, RuleExceptionUnused, RuleSchemaUnknownField, RuleSchemaInvalidValue, RuleSchemaUnknownKind, RuleVulnerabilityDB}

// withHostRules adds kubegate's own rules to the policies', sorted by id.
func withHostRules(rules []Rule) []Rule {
	out := append(slices.Clip(rules), hostRules...)
	slices.SortFunc(out, func(a, b Rule) int { return strings.Compare(a.ID, b.ID) })
	return out
}
