package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

var lossTests = []storeTest{
	{"StaleSnapshotNeverRestored", testStaleSnapshot},
	{"LogBelowHeadMarkSync", testBelowMarkSync},
	{"LogBelowHeadMarkNoSync", testBelowMarkNoSync},
}

// engineCopy copies the engine's files of the closed store in dir aside and
// returns a function that puts them back, which takes the log back to what
// it was at the copy, as a power cut that loses the tail does. It skips the
// test for an engine that keeps no files in the directory.
func engineCopy(t *testing.T, h Harness, dir string) (restore func()) {
	t.Helper()
	h.skipWithoutEngineFiles(t)
	saved := filepath.Join(t.TempDir(), "engine")
	require.NoError(t, os.CopyFS(saved, os.DirFS(filepath.Join(dir, "engine"))))
	return func() {
		t.Helper()
		require.NoError(t, os.RemoveAll(filepath.Join(dir, "engine")))
		require.NoError(t, os.CopyFS(filepath.Join(dir, "engine"), os.DirFS(saved)))
	}
}

// testStaleSnapshot is the scenario of a NoSync store that loses the tail of
// its log in a power cut after a snapshot covered it: a snapshot at 1000,
// the log back at 900. Open skips the snapshot, reports the loss and moves
// the store to generation 2; the application appends 150 events (head 1050)
// and closes without a new snapshot. The next Open must not restore the
// stale snapshot, whose state holds the 100 lost events: the recovered state
// equals a fold over the log.
func testStaleSnapshot(t *testing.T, h Harness) {
	dir := h.dir(t)
	nosync := eventstore.WithDurability(eventstore.NoSync)
	never := eventstore.WithSnapshotPolicy(eventstore.Never())
	s := openSM(t, h, dir, &HashState{}, nosync, never)
	require.Equal(t, uint64(1), s.Generation())
	fill(t, s, 900, "a", "b", "c")
	require.NoError(t, s.Close())
	cutBack := engineCopy(t, h, dir)
	s = openSM(t, h, dir, &HashState{}, nosync, never)
	fill(t, s, 100, "a", "b", "c")
	require.NoError(t, s.Snapshot(t.Context()))
	require.NoError(t, s.Close())
	cutBack()

	sm := &HashState{}
	s = openSM(t, h, dir, sm, nosync, never)
	rep := s.LastRecovery()
	require.Equal(t, eventstore.Offset(900), rep.Head)
	require.Equal(t, uint64(100), rep.LostEvents)
	require.Zero(t, rep.SnapshotOffset)
	require.Len(t, rep.LostSnapshots, 1)
	require.True(t, strings.HasSuffix(rep.LostSnapshots[0], ".lost"), rep.LostSnapshots[0])
	require.FileExists(t, rep.LostSnapshots[0])
	require.Equal(t, uint64(2), rep.Generation)
	require.Equal(t, uint64(2), s.Generation())
	requireFolded(t, s, sm)
	fill(t, s, 150, "a", "b", "c")
	require.Equal(t, eventstore.Offset(1050), s.Head())
	require.NoError(t, s.Close())

	sm = &HashState{}
	s = openSM(t, h, dir, sm, nosync, never)
	defer s.Close()
	rep = s.LastRecovery()
	require.Zero(t, rep.SnapshotOffset, "the stale snapshot must never be restored")
	require.Zero(t, rep.LostEvents)
	require.Equal(t, uint64(2), s.Generation(), "no new loss, no new generation")
	requireFolded(t, s, sm)
}

// testBelowMarkSync: in Sync mode, a log that ends below what the head mark
// recorded as durable fails Open with ErrCorrupt naming both offsets, even
// without a snapshot to witness the loss. Opening once with NoSync accepts
// the loss, reports it and moves to a new generation; Sync opens work again
// afterwards.
func testBelowMarkSync(t *testing.T, h Harness) {
	dir := h.dir(t)
	s := h.open(t, dir)
	fill(t, s, 40, "a", "b")
	require.NoError(t, s.Close())
	cutBack := engineCopy(t, h, dir)
	s = h.open(t, dir)
	fill(t, s, 10, "a", "b")
	require.NoError(t, s.Close())
	cutBack()

	_, err := eventstore.Open(dir, h.storeOptions(t, dir)...)
	require.ErrorIs(t, err, eventstore.ErrCorrupt, "the log lost 10 acknowledged events")
	require.ErrorContains(t, err, "ends at offset 40")
	require.ErrorContains(t, err, "up to 50")

	s = h.open(t, dir, eventstore.WithDurability(eventstore.NoSync))
	rep := s.LastRecovery()
	require.Equal(t, uint64(10), rep.LostEvents)
	require.Equal(t, eventstore.Offset(50), rep.HeadMark)
	require.Equal(t, uint64(2), s.Generation())
	require.NoError(t, s.Close())

	s = h.open(t, dir)
	defer s.Close()
	require.Equal(t, eventstore.Offset(40), s.Head())
	require.Zero(t, s.LastRecovery().LostEvents)
	require.Equal(t, uint64(2), s.Generation())
	mustAppend(t, s, "a", eventstore.Any, ev("T", "new"))
}

// testBelowMarkNoSync: in NoSync mode the same loss is reported, not an
// error, and a state machine without snapshots is rebuilt from the log.
func testBelowMarkNoSync(t *testing.T, h Harness) {
	dir := h.dir(t)
	nosync := eventstore.WithDurability(eventstore.NoSync)
	s := h.open(t, dir, nosync)
	fill(t, s, 30, "a")
	require.NoError(t, s.Close())
	cutBack := engineCopy(t, h, dir)
	s = h.open(t, dir, nosync)
	fill(t, s, 5, "a")
	require.NoError(t, s.Close())
	cutBack()

	sm := &HashState{}
	s = openSM(t, h, dir, sm, nosync)
	defer s.Close()
	rep := s.LastRecovery()
	require.Equal(t, eventstore.Offset(30), rep.Head)
	require.Equal(t, uint64(5), rep.LostEvents)
	require.Equal(t, uint64(2), rep.Generation)
	requireFolded(t, s, sm)
}
