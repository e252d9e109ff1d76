package cli

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkBinary runs the kubegate binary over the yardstick as a user
// does (a process of its own, default settings, -o json, offline), at
// 10,000 and 40,000 resources, and reports its peak resident memory beside
// the time: the memory target of issue 18 is the process's, binary and
// all, under 1 GiB at 40,000. With conftest on the PATH and ../shared/bench
// there, conftest runs over the same 10,000 resources with the yardstick's
// policy, for the paired comparison.
//
//	go test ./internal/cli -run XXX -bench Binary -benchtime 3x
func BenchmarkBinary(b *testing.B) {
	tmp := b.TempDir()
	linked, bin := filepath.Join(tmp, "linked"), filepath.Join(tmp, "kubegate")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", linked, "../../cmd/kubegate")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	// Run a copy made by cp: how many of the binary's pages a process
	// maps depends on how they came into the page cache (kubegate version
	// maps about 100 MB of the file after cp, 150 MB of the linker's own
	// output, 185 MB after a plain write), so the anonymous memory is
	// reported too.
	if out, err := exec.Command("cp", linked, bin).CombinedOutput(); err != nil {
		b.Fatalf("cp: %v\n%s", err, out)
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
			measure(b, 0, bin, "check", "--offline", "--fail-on", "never", "-o", "json", dir)
		})
	}
	conftest, err := exec.LookPath("conftest")
	policy := "../../../shared/bench/conftest-policy"
	if _, serr := os.Stat(policy); err == nil && serr == nil {
		b.Run("conftest/resources=10000", func(b *testing.B) {
			// conftest exits 1 when its policy finds anything.
			measure(b, 1, conftest, "test", "--no-color", "-p", policy, dirs[10000])
		})
	}
}

// measure runs a command b.N times, failing on an exit status other than
// 0 or ok, and reports its peak resident memory, and the peak of its
// anonymous part (the heap and stacks, without the executable's pages).
func measure(b *testing.B, ok int, name string, args ...string) {
	var peak, anon int64
	for b.Loop() {
		cmd := exec.Command(name, args...)
		cmd.Stdout = io.Discard
		if err := cmd.Start(); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		hwm := watchHWM(cmd.Process.Pid)
		if err := cmd.Wait(); err != nil && cmd.ProcessState.ExitCode() != ok {
			b.Fatalf("%s: %v", name, err)
		}
		m := <-hwm
		peak, anon = max(peak, m.hwm), max(anon, m.anon)
	}
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
	b.ReportMetric(float64(anon)/1024, "peak-anon-MiB")
}

// memory is a process's peak resident memory (VmHWM) and the largest
// anonymous resident memory seen (RssAnon), in KiB.
type memory struct{ hwm, anon int64 }

// watchHWM follows a running process's memory until it exits, and then
// sends what it saw. (The rusage of a child is no measure here: os/exec
// starts it with vfork, and the kernel counts this process's own peak as
// the child's.) What happens in the last millisecond before exit is
// missed, and RssAnon is sampled every millisecond.
func watchHWM(pid int) <-chan memory {
	out := make(chan memory, 1)
	go func() {
		var last memory
		field := func(line, name string) (int64, bool) {
			rest, ok := strings.CutPrefix(line, name)
			if !ok {
				return 0, false
			}
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n, err == nil
		}
		for {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			if err != nil {
				break // reaped
			}
			zombie := false
			for _, line := range strings.Split(string(data), "\n") {
				if n, ok := field(line, "VmHWM:"); ok {
					last.hwm = n
				}
				if n, ok := field(line, "RssAnon:"); ok {
					last.anon = max(last.anon, n)
				}
				zombie = zombie || strings.HasPrefix(line, "State:\tZ")
			}
			if zombie {
				break
			}
			time.Sleep(time.Millisecond)
		}
		out <- last
	}()
	return out
}
