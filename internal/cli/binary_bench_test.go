package cli

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

// BenchmarkBinary runs the kubegate binary over the yardstick as a user
// does (a process of its own, default settings, -o json, offline), at
// 10,000 and 40,000 resources, and reports its peak resident memory
// (rusage) beside the time: the memory target of issue 18 is the
// process's, binary and all, under 1 GiB at 40,000. With conftest on the
// PATH and ../shared/bench there, conftest runs over the same 10,000
// resources with the yardstick's policy, for the paired comparison.
//
//	go test ./internal/cli -run XXX -bench Binary -benchtime 3x
func BenchmarkBinary(b *testing.B) {
	tmp := b.TempDir()
	linked, bin := filepath.Join(tmp, "linked"), filepath.Join(tmp, "kubegate")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", linked, "../../cmd/kubegate")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	// Run a copy, as installed: the linker writes its output through a
	// memory map, and a process of that very file maps about 50 MB more
	// of it (140 against 100 MB of file pages for kubegate version).
	data, err := os.ReadFile(linked)
	if err == nil {
		err = os.WriteFile(bin, data, 0o755)
	}
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, name string, args ...string) {
		var peak int64
		for b.Loop() {
			cmd := exec.Command(name, args...)
			cmd.Stdout = io.Discard
			if err := cmd.Run(); err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				peak = max(peak, ru.Maxrss) // KiB on Linux
			}
		}
		b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
	}
	dirs := map[int]string{}
	for _, apps := range []int{2000, 8000} {
		dir := b.TempDir()
		writeYardstick(b, dir, apps)
		dirs[apps*5] = dir
		b.Run(fmt.Sprintf("kubegate/resources=%d", apps*5), func(b *testing.B) {
			if testing.Short() && apps > 2000 {
				b.Skip("short")
			}
			run(b, bin, "check", "--offline", "--fail-on", "never", "-o", "json", dir)
		})
	}
	conftest, err := exec.LookPath("conftest")
	policy := "../../../shared/bench/conftest-policy"
	if _, serr := os.Stat(policy); err == nil && serr == nil {
		b.Run("conftest/resources=10000", func(b *testing.B) {
			// conftest exits 1 when its policy finds anything: run it
			// through a shell that reports only its failure to start.
			run(b, "sh", "-c", `"$0" test --no-color -p "$1" "$2" >/dev/null; [ $? -le 1 ]`, conftest, policy, dirs[10000])
		})
	}
}
