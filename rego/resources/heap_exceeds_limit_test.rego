package kubegate.rules.resources.heap_exceeds_limit_test

import rego.v1

import data.kubegate.rules.resources.heap_exceeds_limit

# A Deployment with one container "api" with a memory limit, env, command
# and args.
deployment(limit, container) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {"template": {"spec": {"containers": [object.union(
		{"name": "api", "image": "eclipse-temurin:21", "resources": {"limits": {"memory": limit}}},
		container,
	)]}}},
}

env(pairs) := {"env": [{"name": n, "value": v} | some [n, v] in pairs]}

container_field := ["spec", "template", "spec", "containers", 0]

paths(v) := {f.path | some f in v}

# Each finding relates the memory limit it is measured against.
memory_limit := [{"path": array.concat(container_field, ["resources", "limits", "memory"])}]

test_fires_on_xmx_above_limit if {
	v := heap_exceeds_limit.violations with input as deployment("512Mi", env([["JAVA_TOOL_OPTIONS", "-XX:+UseG1GC -Xmx1g"]]))
	v == {{
		"msg": "container \"api\" sets -Xmx1g in JAVA_TOOL_OPTIONS but its memory limit is 512Mi: the JVM will be OOM-killed before it uses its heap; lower -Xmx below the limit (about 75% of it, for example -Xmx384m) or raise the limit",
		"path": array.concat(container_field, ["env", 0, "value"]),
		"related": memory_limit,
	}}
}

test_fires_on_xmx_at_the_limit if {
	# 512m is 512Mi, and 536870912 bytes too.
	count(heap_exceeds_limit.violations) == 1 with input as deployment("512Mi", env([["JAVA_OPTS", "-Xmx512m"]]))
	count(heap_exceeds_limit.violations) == 1 with input as deployment("0.5Gi", env([["JDK_JAVA_OPTIONS", "-Xmx536870912"]]))
	count(heap_exceeds_limit.violations) == 1 with input as deployment("1.5Gi", env([["JAVA_OPTS", "-Xmx1536M"]]))
}

test_fires_on_max_heap_size_in_args if {
	v := heap_exceeds_limit.violations with input as deployment("1G", {"args": ["-jar", "app.jar", "-XX:MaxHeapSize=1g"]})
	v == {{
		"msg": "container \"api\" sets -XX:MaxHeapSize=1g in its args but its memory limit is 1G: the JVM will be OOM-killed before it uses its heap; lower -XX:MaxHeapSize below the limit (about 75% of it, for example -XX:MaxHeapSize=715m) or raise the limit",
		"path": array.concat(container_field, ["args", 2]),
		"related": memory_limit,
	}}
}

test_fires_on_xmx_inside_a_shell_command if {
	c := {"command": ["sh", "-c", "exec java\n  -Xmx2g -jar /app.jar"]}
	v := heap_exceeds_limit.violations with input as deployment("2Gi", c)
	paths(v) == {array.concat(container_field, ["command", 2])}
}

test_fires_on_the_setting_the_jvm_uses if {
	# The command line overrides JAVA_TOOL_OPTIONS.
	c := object.union(env([["JAVA_TOOL_OPTIONS", "-Xmx256m"]]), {"args": ["-Xmx1g"]})
	v := heap_exceeds_limit.violations with input as deployment("1Gi", c)
	paths(v) == {array.concat(container_field, ["args", 0])}
}

test_fires_on_java_options_over_the_command_line if {
	# The JVM reads _JAVA_OPTIONS after its command line.
	c := object.union(env([["_JAVA_OPTIONS", "-Xmx4g"]]), {"args": ["-Xmx256m"]})
	v := heap_exceeds_limit.violations with input as deployment("1Gi", c)
	paths(v) == {array.concat(container_field, ["env", 0, "value"])}
}

test_fires_on_max_ram_percentage_of_100 if {
	v := heap_exceeds_limit.violations with input as deployment("2Gi", env([["JAVA_TOOL_OPTIONS", "-XX:MaxRAMPercentage=100.0"]]))
	v == {{
		"msg": "container \"api\" sets -XX:MaxRAMPercentage=100.0 in JAVA_TOOL_OPTIONS: the heap may grow to the whole memory limit of 2Gi, leaving no room for metaspace, thread stacks and other native memory, so the JVM will be OOM-killed; use -XX:MaxRAMPercentage=75 or less",
		"path": array.concat(container_field, ["env", 0, "value"]),
		"related": memory_limit,
	}}
	count(heap_exceeds_limit.violations) == 1 with input as deployment("2Gi", env([["JAVA_OPTS", "-XX:MaxRAMFraction=1"]]))
}

test_fires_on_node_max_old_space_size if {
	v := heap_exceeds_limit.violations with input as deployment("1Gi", env([["NODE_OPTIONS", "--max-old-space-size=1024"]]))
	v == {{
		"msg": "container \"api\" sets --max-old-space-size=1024 in NODE_OPTIONS (1024 MiB) but its memory limit is 1Gi: V8 will grow its heap past the limit and be OOM-killed instead of collecting garbage; lower --max-old-space-size below the limit (about 75% of it, for example --max-old-space-size=768) or raise the limit",
		"path": array.concat(container_field, ["env", 0, "value"]),
		"related": memory_limit,
	}}
}

test_fires_on_node_flag_in_command if {
	c := {"command": ["node", "--max_old_space_size=4096", "server.js"]}
	v := heap_exceeds_limit.violations with input as deployment("4000Mi", c)
	paths(v) == {array.concat(container_field, ["command", 1])}
}

test_fires_on_gomemlimit if {
	v := heap_exceeds_limit.violations with input as deployment("1Gi", env([["GOGC", "100"], ["GOMEMLIMIT", "1GiB"]]))
	v == {{
		"msg": "container \"api\" sets GOMEMLIMIT=1GiB but its memory limit is 1Gi: the Go runtime will not collect garbage harder before the container is OOM-killed; set GOMEMLIMIT below the limit (about 90% of it, for example GOMEMLIMIT=921MiB) or raise the limit",
		"path": array.concat(container_field, ["env", 1, "value"]),
		"related": memory_limit,
	}}
	count(heap_exceeds_limit.violations) == 1 with input as deployment("1G", env([["GOMEMLIMIT", "1000000000"]]))
}

test_fires_against_the_limit_range_default_limit if {
	lr := {"shop": {"requests": {"memory": "512Mi"}, "limits": {"memory": "512Mi"}, "from": {"requests": {"memory": "mem"}, "limits": {"memory": "mem"}}}}
	d := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "shop"}, "spec": {"template": {"spec": {
		"containers": [{"name": "api", "env": [{"name": "JAVA_TOOL_OPTIONS", "value": "-Xmx1g"}]}],
	}}}}
	v := heap_exceeds_limit.violations with input as d with data.kubegate.cache.limit_range_defaults as lr
	v == {{
		"msg": "container \"api\" sets -Xmx1g in JAVA_TOOL_OPTIONS but its memory limit is 512Mi (the default limit of LimitRange \"mem\"): the JVM will be OOM-killed before it uses its heap; lower -Xmx below the limit (about 75% of it, for example -Xmx384m) or raise the limit",
		"path": array.concat(container_field, ["env", 0, "value"]),
		"related": [],
	}}
}

test_fires_on_init_containers_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "migrate", "args": ["-Xmx2g"], "resources": {"limits": {"memory": "1Gi"}}}],
		"containers": [{"name": "api", "args": ["-Xmx512m"], "resources": {"limits": {"memory": "1Gi"}}}],
	}}
	v := heap_exceeds_limit.violations with input as pod
	paths(v) == {["spec", "initContainers", 0, "args", 0]}
}

test_fires_on_the_last_of_duplicate_env_entries if {
	v := heap_exceeds_limit.violations with input as deployment("1Gi", env([["JAVA_TOOL_OPTIONS", "-Xmx256m"], ["JAVA_TOOL_OPTIONS", "-Xmx2g"]]))
	paths(v) == {array.concat(container_field, ["env", 1, "value"])}
}

test_passes_below_the_limit if {
	count(heap_exceeds_limit.violations) == 0 with input as deployment("512Mi", env([["JAVA_TOOL_OPTIONS", "-Xmx384m"]]))
	count(heap_exceeds_limit.violations) == 0 with input as deployment("1.5Gi", env([["JAVA_OPTS", "-Xmx1535m"]]))
	count(heap_exceeds_limit.violations) == 0 with input as deployment("1Gi", env([["NODE_OPTIONS", "--max-old-space-size=768"]]))
	count(heap_exceeds_limit.violations) == 0 with input as deployment("1Gi", env([["GOMEMLIMIT", "900MiB"]]))
	count(heap_exceeds_limit.violations) == 0 with input as deployment("2Gi", env([["JAVA_TOOL_OPTIONS", "-XX:MaxRAMPercentage=75"]]))
	count(heap_exceeds_limit.violations) == 0 with input as deployment("2Gi", env([["JAVA_TOOL_OPTIONS", "-XX:MaxRAMFraction=2"]]))
}

test_passes_when_a_later_setting_lowers_the_heap if {
	c := object.union(env([["JAVA_TOOL_OPTIONS", "-Xmx2g"]]), {"args": ["-Xmx256m", "-jar", "app.jar"]})
	count(heap_exceeds_limit.violations) == 0 with input as deployment("1Gi", c)
}

test_passes_on_max_ram_percentage_overridden_by_xmx if {
	c := env([["JAVA_TOOL_OPTIONS", "-XX:MaxRAMPercentage=100 -Xmx512m"]])
	count(heap_exceeds_limit.violations) == 0 with input as deployment("1Gi", c)
}

test_passes_without_memory_limit if {
	# resources.memory-limit-missing reports it.
	d := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "api", "env": [{"name": "JAVA_TOOL_OPTIONS", "value": "-Xmx8g"}]}]}}
	count(heap_exceeds_limit.violations) == 0 with input as d
}

test_passes_on_settings_it_cannot_read if {
	count(heap_exceeds_limit.violations) == 0 with input as deployment("1Gi", env([["JAVA_TOOL_OPTIONS", "-Xmx$(HEAP)"]]))
	count(heap_exceeds_limit.violations) == 0 with input as deployment("1Gi", env([["GOMEMLIMIT", "off"]]))
	count(heap_exceeds_limit.violations) == 0 with input as deployment("1Gi", env([["OTHER_OPTS", "-Xmx2g"]]))
	count(heap_exceeds_limit.violations) == 0 with input as deployment("1Gi", {"env": [{"name": "JAVA_TOOL_OPTIONS", "valueFrom": {"configMapKeyRef": {"name": "jvm", "key": "opts"}}}]})
	count(heap_exceeds_limit.violations) == 0 with input as deployment("1Gi", env([["NODE_OPTIONS", "-Xmx2g"]]))
	count(heap_exceeds_limit.violations) == 0 with input as deployment("1Gi", env([["JAVA_TOOL_OPTIONS", "--max-old-space-size=4096"]]))
}
