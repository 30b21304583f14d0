package kvlog

import (
	"fmt"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/memory"
	"github.com/stretchr/testify/require"
)

// nextOnly hides an iterator's BatchIterator: scan's fallback.
type nextOnly struct{ backend.Iterator }

// TestScanPaths checks that scan visits the same pairs, and stops at the
// same one, with NextBatch as with the Next loop.
func TestScanPaths(t *testing.T) {
	kv, err := memory.Engine{}.Open(t.TempDir(), backend.Options{})
	require.NoError(t, err)
	defer kv.Close()
	b := kv.NewBatch()
	for i := range 1000 {
		b.Set(fmt.Appendf(nil, "k%04d", i), fmt.Appendf(nil, "v%d", i))
	}
	require.NoError(t, b.Commit(true))

	run := func(batch bool, stopAt int, fail error) ([]string, bool, error) {
		it, err := kv.NewIterator(backend.IterOptions{})
		require.NoError(t, err)
		defer it.Close()
		if !batch {
			it = nextOnly{it}
		}
		var seen []string
		full, err := scan(it, 0, func(k, v []byte) (bool, error) {
			seen = append(seen, string(k)+"="+string(v))
			if len(seen) == stopAt {
				return fail == nil, fail
			}
			return false, nil
		})
		require.NoError(t, it.Err())
		return seen, full, err
	}
	boom := fmt.Errorf("boom")
	for _, c := range []struct {
		stopAt int
		fail   error
	}{{0, nil}, {1, nil}, {300, nil}, {1000, nil}, {257, boom}} {
		want, wantFull, wantErr := run(false, c.stopAt, c.fail)
		got, full, err := run(true, c.stopAt, c.fail)
		require.Equal(t, want, got, "stop at %d", c.stopAt)
		require.Equal(t, wantFull, full)
		require.Equal(t, wantErr, err)
		if c.stopAt == 0 {
			require.Len(t, got, 1000)
		} else {
			require.Len(t, got, c.stopAt)
		}
	}
}
