# METADATA
# title: Runtime heap at or above the memory limit
# description: >-
#   A runtime told that it may use as much memory as the container's limit,
#   or more, does not collect garbage before the kernel OOM-kills the
#   container: the heap is only part of a process's memory (JVM metaspace,
#   thread stacks and buffers, V8's young generation and code, Go's stacks).
#   Checked settings: JVM -Xmx and -XX:MaxHeapSize (in JAVA_TOOL_OPTIONS,
#   JDK_JAVA_OPTIONS, JAVA_OPTS, _JAVA_OPTIONS, command or args), -XX:MaxRAMPercentage of
#   100 or more and -XX:MaxRAMFraction=1, Node --max-old-space-size (in
#   NODE_OPTIONS, command or args) and Go's GOMEMLIMIT, against the memory
#   limit after LimitRange defaults. When a setting is given more than once,
#   the one the runtime uses counts (the command line overrides the
#   environment, and -Xmx overrides -XX:MaxRAMPercentage).
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#memory-units
# custom:
#   kinds: [workloads]
#   id: resources.heap-exceeds-limit
#   severity: error
#   fix: Keep the heap setting well below the memory limit (about 75% of it for the JVM and Node, 90% for GOMEMLIMIT), or raise the limit.
package kubegate.rules.resources.heap_exceeds_limit

import rego.v1

import data.kubegate.lib.kubernetes as k8s
import data.kubegate.lib.resources as lib

violations contains {"msg": msg, "path": s.path, "related": lib.limit_related(c, "memory")} if {
	some c in lib.containers
	c.limits.memory
	found := settings(c)
	some s in found
	used(found, s)
	limit := lib.amount(c.limits.memory)
	exceeds(s, limit)
	msg := message(c, s, limit)
}

# Environment variables read for heap settings: the families of settings
# each holds, and its rank in the order in which later settings override
# earlier ones (the JVM reads JAVA_TOOL_OPTIONS first, the java launcher
# then prepends JDK_JAVA_OPTIONS to the command line, start scripts put
# JAVA_OPTS on it, then come command and args, and the JVM reads
# _JAVA_OPTIONS last of all).
env_sources := {
	"JAVA_TOOL_OPTIONS": {"families": jvm, "rank": 0},
	"JDK_JAVA_OPTIONS": {"families": jvm, "rank": 1},
	"JAVA_OPTS": {"families": jvm, "rank": 2},
	"_JAVA_OPTIONS": {"families": jvm, "rank": 5},
	"NODE_OPTIONS": {"families": {"node"}, "rank": 0},
}

jvm := {"jvm-heap", "jvm-ram"}

command_ranks := {"command": 3, "args": 4}

# Every heap setting of a container, each with its family, value, text,
# where it is written (for the message), path and order.
settings(c) := array.concat(env_settings(c), command_settings(c))

env_settings(c) := [s |
	env := c.container.env
	some i, e in env
	read_env[e.name]
	not redefined(env, i, e.name)
	is_string(e.value)
	some s in env_value_settings(e.name, e.value, array.concat(c.path, ["env", i, "value"]), i)
]

read_env := {"JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "JAVA_OPTS", "_JAVA_OPTIONS", "NODE_OPTIONS", "GOMEMLIMIT"}

# Kubernetes uses the last of several env entries with the same name.
redefined(env, i, name) if {
	some j, e in env
	j > i
	e.name == name
}

env_value_settings(name, value, path, i) := [s |
	relevant(value)
	some j, token in regex.split(`\s+`, trim_space(value))
	t := token_setting(token)
	t.family in source.families
	s := object.union(t, {"text": token, "where": sprintf(" in %s", [name]), "path": path, "order": ((source.rank * 1000000) + (i * 1000)) + j})
] if {
	source := env_sources[name]
}

env_value_settings("GOMEMLIMIT", value, path, i) := [{
	"family": "go",
	"bytes": integer(m[1]) * go_units[m[2]],
	"text": sprintf("GOMEMLIMIT=%s", [value]),
	"where": "",
	"path": path,
	"order": i,
}] if {
	m := regex.find_all_string_submatch_n(`^([0-9]+)((?:[KMGT]i)?B)?$`, value, 1)[0]
}

command_settings(c) := [s |
	some field, rank in command_ranks
	some i, entry in c.container[field]
	is_string(entry)
	relevant(entry)
	some j, token in regex.split(`\s+`, trim_space(entry))
	t := token_setting(token)
	s := object.union(t, {"text": token, "where": sprintf(" in its %s", [field]), "path": array.concat(c.path, [field, i]), "order": ((rank * 1000000) + (i * 1000)) + j})
]

# A cheap test before splitting a string into words.
relevant(s) if contains(s, "-X")

relevant(s) if contains(s, "space")

# One word of a command line or an options variable: one regular
# expression for every setting, then the group that matched.
token_setting(token) := setting(m) if {
	startswith(token, "-")
	m := regex.find_all_string_submatch_n(token_pattern, token, 1)[0]
}

token_pattern := `^(?:(-Xmx|-XX:MaxHeapSize=)([0-9]+)([kKmMgGtT]?)|-XX:MaxRAMPercentage=([0-9]+(?:\.[0-9]*)?)|-XX:MaxRAMFraction=([0-9]+)|--max[-_]old[-_]space[-_]size=([0-9]+))$`

setting(m) := {"family": "jvm-heap", "bytes": integer(m[2]) * jvm_units[m[3]], "flag": m[1]} if {
	m[1] != ""
} else := {"family": "jvm-ram", "percent": to_number(m[4])} if {
	m[4] != ""
} else := {"family": "jvm-ram", "percent": 100 / n} if {
	m[5] != ""
	n := integer(m[5])
	n > 0
} else := {"family": "node", "bytes": mib * 1048576, "mib": mib} if {
	m[6] != ""
	mib := integer(m[6])
}

# A string of decimal digits as an integer.
integer(digits) := to_number(t) if {
	t := trim_left(digits, "0")
	t != ""
} else := 0

jvm_units := {"": 1, "k": 1024, "K": 1024, "m": 1048576, "M": 1048576, "g": 1073741824, "G": 1073741824, "t": 1099511627776, "T": 1099511627776}

go_units := {"": 1, "B": 1, "KiB": 1024, "MiB": 1048576, "GiB": 1073741824, "TiB": 1099511627776}

# The setting the runtime uses: the last of its family, and a
# -XX:MaxRAMPercentage only without -Xmx or -XX:MaxHeapSize.
used(found, s) if {
	not overridden(found, s)
	not ignored(found, s)
}

overridden(found, s) if {
	some t in found
	t.family == s.family
	t.order > s.order
}

ignored(found, s) if {
	s.family == "jvm-ram"
	some t in found
	t.family == "jvm-heap"
}

exceeds(s, limit) if s.bytes >= limit

exceeds(s, limit) if s.percent >= 100

# A share of the limit in whole MiB, for the suggested value.
mib_share(limit, percent) := floor((limit * percent) / (100 * 1048576))

message(c, s, limit) := sprintf(
	"%s sets %s%s but its memory limit is %s%s: the JVM will be OOM-killed before it uses its heap; lower %s below the limit (about 75%% of it, for example %s%vm) or raise the limit",
	[c.label, s.text, s.where, lib.text(c.limits.memory), lib.origin(c, "limits", "memory"), trim_suffix(s.flag, "="), s.flag, mib_share(limit, 75)],
) if {
	s.family == "jvm-heap"
}

message(c, s, limit) := sprintf(
	"%s sets %s%s: the heap may grow to the whole memory limit of %s%s, leaving no room for metaspace, thread stacks and other native memory, so the JVM will be OOM-killed; use -XX:MaxRAMPercentage=75 or less",
	[c.label, s.text, s.where, lib.text(c.limits.memory), lib.origin(c, "limits", "memory")],
) if {
	s.family == "jvm-ram"
}

message(c, s, limit) := sprintf(
	"%s sets %s%s (%v MiB) but its memory limit is %s%s: V8 will grow its heap past the limit and be OOM-killed instead of collecting garbage; lower --max-old-space-size below the limit (about 75%% of it, for example --max-old-space-size=%v) or raise the limit",
	[c.label, s.text, s.where, s.mib, lib.text(c.limits.memory), lib.origin(c, "limits", "memory"), mib_share(limit, 75)],
) if {
	s.family == "node"
}

message(c, s, limit) := sprintf(
	"%s sets %s but its memory limit is %s%s: the Go runtime will not collect garbage harder before the container is OOM-killed; set GOMEMLIMIT below the limit (about 90%% of it, for example GOMEMLIMIT=%vMiB) or raise the limit",
	[c.label, s.text, lib.text(c.limits.memory), lib.origin(c, "limits", "memory"), mib_share(limit, 90)],
) if {
	s.family == "go"
}
