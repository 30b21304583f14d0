package conformance

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/stretchr/testify/require"
)

func testIteratorOrderAndBounds(t *testing.T, h Harness) {
	kv := newKV(t, h)
	// Binary keys: order must be bytes.Compare, with 0x00 and 0xff bytes.
	keys := [][]byte{{0x00}, {0x00, 0x00}, {0x01}, {0x01, 0xff}, {0x02}, {0x7f}, {0x80}, {0xff}, {0xff, 0xff}}
	b := kv.NewBatch()
	for _, k := range slices.Backward(keys) {
		b.Set(k, k)
	}
	require.NoError(t, b.Commit(true))
	check := func(o backend.IterOptions, want [][]byte) {
		t.Helper()
		var got [][]byte
		iterate(t, kv, o, func(k, v []byte) {
			require.Equal(t, k, v, "key %x has value %x", k, v)
			got = append(got, bytes.Clone(k))
		})
		require.Equal(t, want, got, "iterate %+v", o)
	}
	check(backend.IterOptions{}, keys)
	check(backend.IterOptions{Lower: []byte{0x01}}, keys[2:])
	check(backend.IterOptions{Upper: []byte{0x01}}, keys[:2])
	check(backend.IterOptions{Lower: []byte{0x01}, Upper: []byte{0x7f}}, keys[2:5])
	check(backend.IterOptions{Lower: []byte{0x00, 0x01}, Upper: []byte{0xff, 0x00}}, keys[2:8])
	rev := slices.Clone(keys[2:5])
	slices.Reverse(rev)
	check(backend.IterOptions{Lower: []byte{0x01}, Upper: []byte{0x7f}, Reverse: true}, rev)
}

func testIteratorReverse(t *testing.T, h Harness) {
	kv := newKV(t, h)
	var want []string
	b := kv.NewBatch()
	for i := range 50 {
		k := fmt.Sprintf("r%02d", i)
		b.Set([]byte(k), []byte(k))
		want = append(want, k+"="+k)
	}
	require.NoError(t, b.Commit(true))
	slices.Reverse(want)
	require.Equal(t, want, collect(t, kv, backend.IterOptions{Reverse: true}))
	// Reverse with an upper bound that is not a key: the first key is the
	// largest below it.
	require.Equal(t, want[39:], collect(t, kv, backend.IterOptions{Upper: []byte("r10x"), Reverse: true}))
}

func testIteratorEmptyRange(t *testing.T, h Harness) {
	kv := newKV(t, h)
	put(t, kv, true, "a", "1", "c", "3")
	require.Empty(t, collect(t, kv, backend.IterOptions{Lower: []byte("b"), Upper: []byte("c")}))
	require.Empty(t, collect(t, kv, backend.IterOptions{Lower: []byte("b"), Upper: []byte("c"), Reverse: true}))
	require.Empty(t, collect(t, kv, backend.IterOptions{Lower: []byte("z")}))
	require.Equal(t, []string{"a=1", "c=3"}, collect(t, kv, backend.IterOptions{}))
}

func testIteratorSeesCommitted(t *testing.T, h Harness) {
	kv := newKV(t, h)
	var want []string
	for i := range 20 {
		k := fmt.Sprintf("s%02d", i)
		put(t, kv, false, k, "v")
		want = append(want, k+"=v")
		require.Equal(t, want, collect(t, kv, backend.IterOptions{Lower: []byte("s")}), "after %d commits", i+1)
	}
}
