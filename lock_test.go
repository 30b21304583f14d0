package eventstore_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

const lockChildEnv = "EVENTSTORE_TEST_LOCK_CHILD"

// lockChild runs in a child process: it tries to open dir and exits 0 when
// the lock refused it, 2 when Open succeeded, 3 on any other error.
func lockChild(dir string) int {
	s, err := eventstore.Open(dir)
	switch {
	case errors.Is(err, eventstore.ErrLocked):
		fmt.Println(err)
		return 0
	case err == nil:
		_ = s.Close()
		return 2
	default:
		fmt.Println(err)
		return 3
	}
}

// TestLockAcrossProcesses opens a store here and tries a second Open from
// another process.
func TestLockAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	s := openMem(t, dir)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the child must be refused with ErrLocked: %s", out)
	require.Contains(t, string(out), "locked by another Store")
	require.NoError(t, s.Close())

	// Once closed, another process can open it (the memory engine keeps
	// no data across processes, but the lock and STORE file are shared).
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+dir)
	err = cmd.Run()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the child must open the store: %v", err)
	require.Equal(t, 2, exit.ExitCode())
}
