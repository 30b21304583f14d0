package conformance

import (
	"fmt"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/stretchr/testify/require"
)

func testReopenKeeps(t *testing.T, h Harness) {
	dir := h.dir(t)
	kv := openKV(t, h, dir)
	put(t, kv, true, "synced", "1")
	put(t, kv, false, "unsynced", "2")
	put(t, kv, true, "deleted", "x")
	b := kv.NewBatch()
	b.Delete([]byte("deleted"))
	require.NoError(t, b.Commit(true))
	require.NoError(t, kv.Close(), "close")
	kv = openKV(t, h, dir)
	defer kv.Close()
	requireValue(t, kv, "synced", "1")
	requireValue(t, kv, "unsynced", "2") // a clean Close keeps it
	requireAbsent(t, kv, "deleted")
}

func testSyncMethod(t *testing.T, h Harness) {
	kv := newKV(t, h)
	put(t, kv, false, "a", "1")
	require.NoError(t, kv.Sync())
	requireValue(t, kv, "a", "1")
	require.NoError(t, kv.Sync(), "Sync with nothing to sync")
}

// skipWithoutPowerCut skips a test that needs Harness.PowerCut.
func skipWithoutPowerCut(t *testing.T, h Harness) {
	t.Helper()
	if h.PowerCut == nil {
		t.Skip("the harness cannot simulate a power cut (Harness.PowerCut)")
	}
}

// cutPower simulates a power cut with kv open, then closes kv (its Close may
// fail) and reopens dir.
func cutPower(t *testing.T, h Harness, dir string, kv backend.KV) backend.KV {
	t.Helper()
	h.PowerCut(t)
	_ = kv.Close()
	kv = openKV(t, h, dir)
	t.Cleanup(func() { _ = kv.Close() })
	return kv
}

// testPowerCutKeepsSynced: a batch committed with sync, and one committed
// without sync but followed by Sync, survive a power cut; so does an
// overwrite or a delete committed with sync, and the state they replaced is
// gone.
func testPowerCutKeepsSynced(t *testing.T, h Harness) {
	skipWithoutPowerCut(t, h)
	dir := h.dir(t)
	kv := openKV(t, h, dir)
	put(t, kv, true, "a1", "1", "a2", "2")
	put(t, kv, false, "b1", "1", "b2", "2")
	require.NoError(t, kv.Sync())
	put(t, kv, true, "a1", "one")
	b := kv.NewBatch()
	b.Delete([]byte("b1"))
	require.NoError(t, b.Commit(true))
	put(t, kv, true, "a3", "3")
	kv = cutPower(t, h, dir, kv)
	requireValue(t, kv, "a1", "one")
	requireValue(t, kv, "a2", "2")
	requireValue(t, kv, "a3", "3")
	requireAbsent(t, kv, "b1")
	requireValue(t, kv, "b2", "2")
	require.Equal(t, []string{"a1=one", "a2=2", "a3=3", "b2=2"}, collect(t, kv, backend.IterOptions{}))
}

// testPowerCutBatchesAtomic: batches committed without sync after the last
// sync may be lost in a power cut, but each one whole or not at all: its
// sets, its overwrites of synced keys and its deletes of synced keys. The
// contract does not say which of them survive.
func testPowerCutBatchesAtomic(t *testing.T, h Harness) {
	skipWithoutPowerCut(t, h)
	dir := h.dir(t)
	kv := openKV(t, h, dir)
	const batches, keys = 20, 8
	b := kv.NewBatch()
	for i := range batches {
		b.Set(fmt.Appendf(nil, "d%02d", i), []byte("synced"))
		b.Set(fmt.Appendf(nil, "o%02d", i), []byte("synced"))
	}
	require.NoError(t, b.Commit(true))
	for i := range batches {
		b := kv.NewBatch()
		for k := range keys {
			b.Set(fmt.Appendf(nil, "c%02d-%d", i, k), fmt.Appendf(nil, "v%d", k))
		}
		b.Delete(fmt.Appendf(nil, "d%02d", i))
		b.Set(fmt.Appendf(nil, "o%02d", i), []byte("new"))
		require.NoError(t, b.Commit(false))
	}
	kv = cutPower(t, h, dir, kv)
	survived := 0
	for i := range batches {
		_, present := mustGet(t, kv, fmt.Sprintf("c%02d-0", i))
		if present {
			survived++
			for k := range keys {
				requireValue(t, kv, fmt.Sprintf("c%02d-%d", i, k), fmt.Sprintf("v%d", k))
			}
			requireAbsent(t, kv, fmt.Sprintf("d%02d", i))
			requireValue(t, kv, fmt.Sprintf("o%02d", i), "new")
			continue
		}
		for k := range keys {
			requireAbsent(t, kv, fmt.Sprintf("c%02d-%d", i, k))
		}
		requireValue(t, kv, fmt.Sprintf("d%02d", i), "synced")
		requireValue(t, kv, fmt.Sprintf("o%02d", i), "synced")
	}
	t.Logf("%d of %d unsynced batches survived the power cut", survived, batches)
}

func testUseAfterClose(t *testing.T, h Harness) {
	kv := openKV(t, h, h.dir(t))
	put(t, kv, true, "a", "1")
	require.NoError(t, kv.Close())
	_, _, err := kv.Get([]byte("a"))
	require.ErrorIs(t, err, backend.ErrClosed, "Get after Close")
	_, err = kv.NewIterator(backend.IterOptions{})
	require.ErrorIs(t, err, backend.ErrClosed, "NewIterator after Close")
	b := kv.NewBatch()
	b.Set([]byte("b"), []byte("2"))
	require.ErrorIs(t, b.Commit(true), backend.ErrClosed, "Commit after Close")
	require.ErrorIs(t, kv.Sync(), backend.ErrClosed, "Sync after Close")
	require.ErrorIs(t, kv.Close(), backend.ErrClosed, "second Close")
}
