package conformance

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/stretchr/testify/require"
)

func testGetMissing(t *testing.T, h Harness) {
	kv := newKV(t, h)
	v, ok, err := kv.Get([]byte("nope"))
	require.NoError(t, err)
	require.False(t, ok, "Get of a missing key reports found")
	require.Nil(t, v)
}

func testSetGetDelete(t *testing.T, h Harness) {
	kv := newKV(t, h)
	put(t, kv, true, "a", "1", "b", "2")
	requireValue(t, kv, "a", "1")
	requireValue(t, kv, "b", "2")
	put(t, kv, true, "a", "3")
	requireValue(t, kv, "a", "3")
	b := kv.NewBatch()
	b.Delete([]byte("a"))
	require.Equal(t, 1, b.Len())
	require.NoError(t, b.Commit(true))
	b.Close() // allowed after Commit
	requireAbsent(t, kv, "a")
	requireValue(t, kv, "b", "2")
}

func testGetReturnsCopy(t *testing.T, h Harness) {
	kv := newKV(t, h)
	put(t, kv, true, "k", "value")
	v, _, err := kv.Get([]byte("k"))
	require.NoError(t, err)
	for i := range v {
		v[i] = 'X'
	}
	requireValue(t, kv, "k", "value")
}

func testBatchCopiesInput(t *testing.T, h Harness) {
	kv := newKV(t, h)
	key, val := []byte("key1"), []byte("val1")
	b := kv.NewBatch()
	b.Set(key, val)
	copy(key, "XXXX")
	copy(val, "YYYY")
	require.NoError(t, b.Commit(true))
	requireValue(t, kv, "key1", "val1")
	requireAbsent(t, kv, "XXXX")
}

func testBatchInvisibleUntilCommit(t *testing.T, h Harness) {
	kv := newKV(t, h)
	b := kv.NewBatch()
	for i := range 100 {
		b.Set(fmt.Appendf(nil, "k%03d", i), []byte("v"))
	}
	require.Equal(t, 100, b.Len())
	requireAbsent(t, kv, "k000")
	require.Empty(t, collect(t, kv, backend.IterOptions{}), "uncommitted writes visible to an iterator")
	require.NoError(t, b.Commit(false))
	require.Len(t, collect(t, kv, backend.IterOptions{}), 100, "after the commit")
	for i := range 100 {
		requireValue(t, kv, fmt.Sprintf("k%03d", i), "v")
	}
}

func testBatchCloseDiscards(t *testing.T, h Harness) {
	kv := newKV(t, h)
	b := kv.NewBatch()
	b.Set([]byte("gone"), []byte("1"))
	b.Close()
	requireAbsent(t, kv, "gone")
	require.Empty(t, collect(t, kv, backend.IterOptions{}))
}

func testEmptyValue(t *testing.T, h Harness) {
	kv := newKV(t, h)
	put(t, kv, true, "empty", "")
	v, ok, err := kv.Get([]byte("empty"))
	require.NoError(t, err)
	require.True(t, ok, "a key with an empty value is found")
	require.Empty(t, v)
	require.Equal(t, []string{"empty="}, collect(t, kv, backend.IterOptions{}))
}

func testLargeValue(t *testing.T, h Harness) {
	kv := newKV(t, h)
	big := make([]byte, 4<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	b := kv.NewBatch()
	b.Set([]byte("big"), big)
	require.NoError(t, b.Commit(true))
	v, ok, err := kv.Get([]byte("big"))
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, bytes.Equal(v, big), "a 4 MiB value did not round-trip (got %d bytes)", len(v))
}
