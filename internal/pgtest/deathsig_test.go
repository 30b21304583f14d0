package pgtest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestParentDeathKillsServer kills a test binary that runs a server (the
// "die" case of TestCleanupChild) and checks that its server dies with
// it, by the parent-death signal. The binary's directory stays behind, as
// the package doc says; this test removes it.
func TestParentDeathKillsServer(t *testing.T) {
	t.Parallel()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCleanupChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PGTEST_CLEANUP_CHILD=die")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var dir string
	var pid int
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if n, _ := fmt.Sscanf(sc.Text(), "server %s %d", &dir, &pid); n == 2 {
			break
		}
	}
	if pid == 0 {
		killErr := cmd.Process.Kill()
		t.Fatalf("the child started no server (scan: %v, wait: %v, kill: %v)", sc.Err(), cmd.Wait(), killErr)
	}
	st, err := readStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	procs, err := descendants(pid)
	if err != nil {
		t.Fatal(err)
	}
	procs = append(procs, proc{pid: pid, start: st.start})

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("the killed child exited cleanly")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := waitExited(ctx, procs); err != nil {
		t.Fatalf("the server outlived its test binary: %v", err)
	}
	if err := removeStaleSegment(dir + "/" + dataDirName); err != nil {
		t.Error(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Error(err)
	}
}
