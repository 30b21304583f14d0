package conformance

import (
	"fmt"
	"strings"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/stretchr/testify/require"
)

// testBatchIterator checks NextBatch, where the engine's iterators
// implement backend.BatchIterator, against the Next loop: the same pairs in
// the same order, in both directions, within bounds, with values of every
// size up to one larger than any buffer an engine would start with, with
// calls of Next and NextBatch mixed and with a byte limit.
func testBatchIterator(t *testing.T, h Harness) {
	kv := newKV(t, h)
	it, err := kv.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	_, ok := it.(backend.BatchIterator)
	require.NoError(t, it.Close())
	if !ok {
		t.Skip("the engine's iterators do not implement backend.BatchIterator")
	}
	b := kv.NewBatch()
	for i := range 300 {
		v := strings.Repeat(string(rune('a'+i%26)), i%7*i)
		if i == 150 {
			v = strings.Repeat("L", 3<<20) // larger than any first buffer
		}
		b.Set(fmt.Appendf(nil, "b%04d", i), []byte(v))
	}
	require.NoError(t, b.Commit(true))

	for _, o := range []backend.IterOptions{
		{},
		{Reverse: true},
		{Lower: []byte("b0100"), Upper: []byte("b0200")},
		{Lower: []byte("b0100"), Upper: []byte("b0200"), Reverse: true},
		{Lower: []byte("c")},
	} {
		want := collect(t, kv, o)
		for _, size := range []int{1, 2, 7, 64, 1000} {
			for _, maxBytes := range []int{0, 1, 5000} {
				for _, mix := range []bool{false, true} {
					got := collectBatches(t, kv, o, size, maxBytes, mix)
					require.Equal(t, want, got, "NextBatch of %d pairs, maxBytes %d, mixed with Next %v, over %+v", size, maxBytes, mix, o)
				}
			}
		}
	}
}

// collectBatches reads o's range with NextBatch (every third call a Next
// when mix is set) and checks what the contract promises of each batch.
func collectBatches(t *testing.T, kv backend.KV, o backend.IterOptions, size, maxBytes int, mix bool) []string {
	t.Helper()
	it, err := kv.NewIterator(o)
	require.NoError(t, err)
	bi := it.(backend.BatchIterator)
	pairs := make([]backend.Pair, size)
	var out []string
	for call := 0; ; call++ {
		if mix && call%3 == 2 {
			if !it.Next() {
				break
			}
			out = append(out, string(it.Key())+"="+string(it.Value()))
			continue
		}
		n := bi.NextBatch(pairs, maxBytes)
		require.LessOrEqual(t, n, size)
		if n == 0 {
			require.Nil(t, it.Key(), "Key after NextBatch returned 0")
			break
		}
		bytes := 0
		for i, p := range pairs[:n] {
			require.True(t, maxBytes <= 0 || i == 0 || bytes < maxBytes, "pair %d of a batch filled past maxBytes %d", i, maxBytes)
			bytes += len(p.Key) + len(p.Value)
			out = append(out, string(p.Key)+"="+string(p.Value))
		}
		require.Equal(t, string(pairs[n-1].Key), string(it.Key()), "Key after NextBatch is the last pair's")
		require.Equal(t, string(pairs[n-1].Value), string(it.Value()), "Value after NextBatch is the last pair's")
		require.Less(t, len(out), maxIterKeys, "the iterator does not end")
	}
	require.NoError(t, it.Err())
	require.NoError(t, it.Close())
	return out
}
