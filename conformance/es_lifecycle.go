package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

var lifecycleTests = []storeTest{
	{"OneOwnerPerDirectory", testOneOwner},
	{"BackendRecordedInDirectory", testBackendRecorded},
	{"UnknownBackend", testUnknownBackend},
	{"OpenRegularFile", testOpenRegularFile},
	{"OpenForeignDirectory", testOpenForeignDirectory},
	{"LeftoverTemporaryStoreFile", testLeftoverStoreTemp},
	{"CloseDuringAppends", testCloseDuringAppends},
	{"CloseEndsIterators", testCloseEndsIterators},
}

func testOneOwner(t *testing.T, h Harness) {
	dir := h.dir(t)
	s := h.open(t, dir)
	_, err := eventstore.Open(dir, h.storeOptions(t, dir)...)
	require.ErrorIs(t, err, eventstore.ErrLocked)
	require.Contains(t, err.Error(), dir)
	mustAppend(t, s, "a", eventstore.NoStream, ev("T", "1"))
	require.NoError(t, s.Close())
	s = h.open(t, dir)
	require.Equal(t, eventstore.Offset(1), s.Head())
	require.NoError(t, s.Close())
}

func testBackendRecorded(t *testing.T, h Harness) {
	dir := h.dir(t)
	s := h.open(t, dir)
	require.Equal(t, h.Name, s.Backend())
	mustAppend(t, s, "a", eventstore.NoStream, ev("T", "1"))
	require.NoError(t, s.Close())

	// Another engine's name: the directory's engine is checked before the
	// name is looked up, so the suite needs no second engine registered.
	_, err := eventstore.Open(dir, eventstore.WithBackend(h.Name+"-other"))
	require.ErrorIs(t, err, eventstore.ErrBackendMismatch)
	require.Contains(t, err.Error(), h.Name)

	if h.Engine == nil && h.Config == nil {
		// No WithBackend: the directory's engine is used.
		s, err = eventstore.Open(dir)
		require.NoError(t, err)
		require.Equal(t, h.Name, s.Backend())
		require.Equal(t, eventstore.Offset(1), s.Head())
		require.NoError(t, s.Close())
	}
}

func testUnknownBackend(t *testing.T, h Harness) {
	dir := h.dir(t)
	_, err := eventstore.Open(dir, eventstore.WithBackend("no-such-engine"))
	require.ErrorIs(t, err, eventstore.ErrUnknownBackend)
	require.Contains(t, err.Error(), "registered:", "the error lists the registered engines")
	if h.Engine == nil {
		require.Contains(t, err.Error(), h.Name, "the error lists the registered engines")
	}
	require.Contains(t, err.Error(), "forgotten import")
	_, err = os.Stat(filepath.Join(dir, "STORE"))
	require.True(t, errors.Is(err, os.ErrNotExist), "a failed Open must not claim the directory")
}

func testOpenRegularFile(t *testing.T, h Harness) {
	path := filepath.Join(h.dir(t), "file")
	require.NoError(t, os.WriteFile(path, []byte("x"), 0o644))
	_, err := eventstore.Open(path, h.storeOptions(t, path)...)
	require.Error(t, err)
	require.Contains(t, err.Error(), "regular file")
}

func testOpenForeignDirectory(t *testing.T, h Harness) {
	dir := h.dir(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644))
	_, err := eventstore.Open(dir, h.storeOptions(t, dir)...)
	require.Error(t, err)
	require.Contains(t, err.Error(), "not empty")
}

// testCloseDuringAppends closes the store while 8 writers append: each
// append either succeeds or fails with ErrClosed, and every append that
// succeeded is in the log after a reopen, with its content.
func testCloseDuringAppends(t *testing.T, h Harness) {
	dir := h.dir(t)
	s := h.open(t, dir)
	const writers = 8
	crew := newCrew(h)
	acked := make([][]appended, writers)
	start := make(chan struct{})
	for w := range writers {
		crew.Go(func() {
			<-start
			for i := 0; ; i++ {
				a := appended{stream: "w", data: fmt.Sprintf("w%d-%d", w, i)}
				res, err := s.Append(context.Background(), a.stream, eventstore.Any, ev("T", a.data))
				if err != nil {
					if !errors.Is(err, eventstore.ErrClosed) {
						t.Errorf("append during Close: %v; want success or ErrClosed", err)
					}
					return
				}
				a.res = res
				acked[w] = append(acked[w], a)
			}
		})
	}
	closed := false
	defer func() {
		if !closed {
			_ = s.Close() // stops the writers of a failed test
			crew.stop()
		}
	}()
	close(start)
	// 50 appends of this goroutine, while the writers run, all succeed.
	for i := range 50 {
		mustAppend(t, s, "main", eventstore.Any, ev("T", fmt.Sprint(i)))
	}
	require.NoError(t, s.Close())
	closed = true
	crew.wait(t, "the writers to stop after Close")
	s = h.open(t, dir)
	defer s.Close()
	recs := readAll(t, s)
	checkDense(t, recs)
	require.GreaterOrEqual(t, len(recs), 50)
	for w := range writers {
		requireAppended(t, recs, acked[w])
	}
}

func testCloseEndsIterators(t *testing.T, h Harness) {
	dir := h.dir(t)
	s := h.open(t, dir)
	fill(t, s, 600, "a")
	n := 0
	var last error
	for _, err := range s.Log(context.Background(), 1) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 5 {
			require.NoError(t, s.Close())
		}
	}
	require.ErrorIs(t, last, eventstore.ErrClosed)
	require.Less(t, n, 600)
}

// testLeftoverStoreTemp: a crash in a store's first Open, after the temporary
// file of STORE was written and before its rename, leaves the lock file and
// that temporary file. The next Open removes the leftover and creates the
// store; an existing store's leftover is removed too.
func testLeftoverStoreTemp(t *testing.T, h Harness) {
	dir := h.dir(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "LOCK"), nil, 0o644))
	leftover := filepath.Join(dir, ".STORE.tmp3141592653")
	require.NoError(t, os.WriteFile(leftover, []byte(`{"format":1,"back`), 0o644))
	s, err := eventstore.Open(dir, h.storeOptions(t, dir)...)
	require.NoError(t, err, "a leftover of an interrupted first Open must not block the store for ever")
	require.NoFileExists(t, leftover)
	mustAppend(t, s, "a", eventstore.NoStream, ev("T", "1"))
	require.NoError(t, s.Close())

	require.NoError(t, os.WriteFile(leftover, []byte(`{"format":1,"back`), 0o644))
	markLeftover := filepath.Join(dir, ".HEADMARK.tmp2718281828")
	require.NoError(t, os.WriteFile(markLeftover, []byte("ESHM"), 0o644))
	s = h.open(t, dir)
	require.NoFileExists(t, leftover)
	require.NoFileExists(t, markLeftover)
	require.Equal(t, eventstore.Offset(1), s.Head())
	require.NoError(t, s.Close())
}
