package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRunAndResume runs the projection in-process twice: the second run
// resumes from the saved checkpoint.
func TestRunAndResume(t *testing.T) {
	c := config{dir: t.TempDir(), backend: "pebble", orders: 12}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, c), out.String())
	s := out.String()
	require.Contains(t, s, "projection: no checkpoint yet: subscribing from offset 1")
	require.Contains(t, s, "caught up at offset 18: this run applied offsets 1-18, each once and in order: no gap, no duplicate")
	require.Contains(t, s, "read model matches a fold of the log (18 events): yes")

	out.Reset()
	c.orders = 4
	require.NoError(t, run(context.Background(), &out, c), out.String())
	s = out.String()
	require.Contains(t, s, "projection: checkpoint at offset 18: subscribing from offset 19 (0 events behind the head)")
	require.Contains(t, s, "this run applied offsets 19-24")
	require.Contains(t, s, "read model matches a fold of the log (24 events): yes")

	out.Reset()
	c.orders = 0
	require.NoError(t, run(context.Background(), &out, c), out.String())
	require.Contains(t, out.String(), "caught up at offset 24: nothing new to apply")
}

// TestCrashAndResume builds the example, kills it with -crash-after between
// two checkpoints, and checks the next run resumes from the saved checkpoint
// without a gap or a duplicate.
func TestCrashAndResume(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "projection")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	dir := t.TempDir()

	out, err := exec.Command(bin, "-dir", dir, "-backend", "pebble", "-orders", "40", "-crash-after", "25").CombinedOutput()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "the run must be killed: %v\n%s", err, out)
	ws := ee.Sys().(syscall.WaitStatus)
	require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "%v\n%s", ws, out)
	require.Contains(t, string(out), "checkpoint saved at offset 20\n")
	require.Contains(t, string(out), "SIGKILL after applying 25 events (offset 25)")

	out, err = exec.Command(bin, "-dir", dir, "-orders", "10").CombinedOutput()
	require.NoError(t, err, "%s", out)
	s := string(out)
	require.Contains(t, s, "projection: checkpoint at offset 20: subscribing from offset 21")
	m := regexp.MustCompile(`caught up at offset (\d+): this run applied offsets 21-(\d+), each once and in order: no gap, no duplicate`).FindStringSubmatch(s)
	require.NotNil(t, m, s)
	require.Equal(t, m[1], m[2])
	head, _ := strconv.Atoi(m[1])
	require.GreaterOrEqual(t, head, 25+15, "at least the 25 events before the crash and the 10 orders of this run")
	require.Regexp(t, `read model matches a fold of the log \(\d+ events\): yes`, s)
}
