package conformance

import (
	"log/slog"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/stretchr/testify/require"
)

// RunBackend runs the engine-contract suite of package backend against the
// engine that h describes: keys, batches, iterators, durability across a
// clean reopen, and, when the harness can simulate one (Harness.PowerCut),
// across a power cut. Each test is bounded by Harness.Timeout.
func RunBackend(t *testing.T, h Harness) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"GetMissing", testGetMissing},
		{"SetGetDelete", testSetGetDelete},
		{"GetReturnsCopy", testGetReturnsCopy},
		{"BatchCopiesInput", testBatchCopiesInput},
		{"BatchInvisibleUntilCommit", testBatchInvisibleUntilCommit},
		{"BatchCloseDiscards", testBatchCloseDiscards},
		{"EmptyValue", testEmptyValue},
		{"LargeValue", testLargeValue},
		{"IteratorOrderAndBounds", testIteratorOrderAndBounds},
		{"IteratorReverse", testIteratorReverse},
		{"IteratorEmptyRange", testIteratorEmptyRange},
		{"IteratorSeesCommitted", testIteratorSeesCommitted},
		{"BatchIterator", testBatchIterator},
		{"ReopenKeepsSyncedAndUnsynced", testReopenKeeps},
		{"SyncMethod", testSyncMethod},
		{"PowerCutKeepsSynced", testPowerCutKeepsSynced},
		{"PowerCutBatchesAtomic", testPowerCutBatchesAtomic},
		{"UseAfterClose", testUseAfterClose},
		{"ConcurrentReadersAndWriter", testConcurrentReadersAndWriter},
		{"RandomizedAgainstModel", testRandomizedAgainstModel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			startWatchdog(t, h.timeout())
			tc.fn(t, h)
		})
	}
}

// maxIterKeys bounds every iteration of the suite: no test stores more keys,
// so an iterator that returns more does not end.
const maxIterKeys = 100_000

func openKV(t testing.TB, h Harness, dir string) backend.KV {
	t.Helper()
	kv, err := h.engine(t).Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler), Config: h.config(t, dir)})
	require.NoError(t, err, "open %s", dir)
	return kv
}

func newKV(t testing.TB, h Harness) backend.KV {
	t.Helper()
	kv := openKV(t, h, h.dir(t))
	t.Cleanup(func() { _ = kv.Close() })
	return kv
}

// put commits one batch of key-value pairs.
func put(t testing.TB, kv backend.KV, sync bool, kvs ...string) {
	t.Helper()
	b := kv.NewBatch()
	for i := 0; i+1 < len(kvs); i += 2 {
		b.Set([]byte(kvs[i]), []byte(kvs[i+1]))
	}
	require.NoError(t, b.Commit(sync), "commit")
}

func mustGet(t testing.TB, kv backend.KV, key string) (string, bool) {
	t.Helper()
	v, ok, err := kv.Get([]byte(key))
	require.NoError(t, err, "get %q", key)
	return string(v), ok
}

// requireValue asserts that key holds want.
func requireValue(t testing.TB, kv backend.KV, key, want string) {
	t.Helper()
	v, ok := mustGet(t, kv, key)
	require.True(t, ok, "key %q is missing", key)
	require.Equal(t, want, v, "value of key %q", key)
}

// requireAbsent asserts that key is not stored.
func requireAbsent(t testing.TB, kv backend.KV, key string) {
	t.Helper()
	v, ok := mustGet(t, kv, key)
	require.False(t, ok, "key %q is present (value %q)", key, v)
}

// collect returns "key=value" for every key of the range, in the iterator's
// order.
func collect(t testing.TB, kv backend.KV, o backend.IterOptions) []string {
	t.Helper()
	var out []string
	iterate(t, kv, o, func(k, v []byte) { out = append(out, string(k)+"="+string(v)) })
	return out
}

// iterate calls fn for every key of the range, and fails when the iterator
// fails, does not end, or does not close cleanly.
func iterate(t testing.TB, kv backend.KV, o backend.IterOptions, fn func(k, v []byte)) {
	t.Helper()
	it, err := kv.NewIterator(o)
	require.NoError(t, err, "new iterator")
	n := 0
	for it.Next() {
		if n++; n > maxIterKeys {
			_ = it.Close()
			require.FailNow(t, "the iterator does not end", "more than %d keys in %+v", maxIterKeys, o)
		}
		fn(it.Key(), it.Value())
	}
	require.NoError(t, it.Err(), "iterate")
	require.NoError(t, it.Close(), "close iterator")
}
