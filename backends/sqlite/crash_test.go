package sqlite_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/sqlite"
	"github.com/stretchr/testify/require"
)

// The crash child: TestMain runs crashChild instead of the tests when
// crashChildEnv names a directory.
const (
	crashChildEnv   = "EVENTSTORE_SQLITE_CRASH_CHILD"
	crashBatchesEnv = "EVENTSTORE_SQLITE_CRASH_BATCHES"
	crashSyncEnv    = "EVENTSTORE_SQLITE_CRASH_SYNC"
)

// crashChild opens the store in $crashChildEnv, commits $crashBatchesEnv
// batches (with sync when $crashSyncEnv is "1"), leaves an iterator open,
// prints "ready" and waits on standard input for the parent's kill -9. It
// never closes the store.
func crashChild() {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(3)
	}
	n, err := strconv.Atoi(os.Getenv(crashBatchesEnv))
	if err != nil {
		fail(err)
	}
	kv, err := sqlite.Engine{}.Open(os.Getenv(crashChildEnv), backend.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fail(err)
	}
	for i := range n {
		b := kv.NewBatch()
		for j := range 4 {
			b.Set(fmt.Appendf(nil, "b%05d-%d", i, j), fmt.Appendf(nil, "v%d", i))
		}
		if err := b.Commit(os.Getenv(crashSyncEnv) == "1"); err != nil {
			fail(err)
		}
	}
	if _, err := kv.NewIterator(backend.IterOptions{}); err != nil {
		fail(err)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin) // until the kill
	os.Exit(4)
}

// TestProcessCrash kills a process that committed batches, without or with
// sync, and never closed the store: every batch must be there after a
// reopen, as the contract requires of Commit(sync=false) for a crash of the
// process. (A power cut is another matter: see the package documentation.)
func TestProcessCrash(t *testing.T) {
	for _, sync := range []bool{false, true} {
		t.Run(fmt.Sprintf("sync=%v", sync), func(t *testing.T) {
			const n = 300
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashBatchesEnv+"="+strconv.Itoa(n), crashSyncEnv+"="+map[bool]string{false: "0", true: "1"}[sync])
			_, err := cmd.StdinPipe() // kept open: the child waits on it
			require.NoError(t, err)
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			cmd.Stderr = os.Stderr
			require.NoError(t, cmd.Start())
			line, err := bufio.NewReader(stdout).ReadString('\n')
			require.NoError(t, err, "the crash child ended before it was ready")
			require.Equal(t, "ready\n", line)
			require.NoError(t, cmd.Process.Kill()) // SIGKILL
			require.Error(t, cmd.Wait())           // also closes stdin
			require.FileExists(t, dir+"/"+sqlite.FileName+"-wal", "the child's batches should still be in the write-ahead log")

			kv := open(t, dir, nil)
			defer func() { require.NoError(t, kv.Close()) }()
			for i := range n {
				for j := range 4 {
					v, ok := get(t, kv, fmt.Sprintf("b%05d-%d", i, j))
					require.True(t, ok, "batch %d lost in the crash", i)
					require.Equal(t, fmt.Sprintf("v%d", i), v)
				}
			}
		})
	}
}
