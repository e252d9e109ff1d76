// Package rego holds kubegate's built-in policies. Every rule is one Rego
// module under <area>/<rule>.rego whose package-scoped METADATA block carries
// the rule's id, severity, rationale and fix; its tests sit beside it in
// <rule>_test.rego. Everything here is embedded into the binary.
package rego

import "embed"

// FS holds every policy, library and test module.
//
//go:embed index lib api hpa images pss resources
var FS embed.FS
