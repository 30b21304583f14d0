package headmark

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/logstore"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	_, _, err := Open(dir)
	require.ErrorIs(t, err, ErrNotFound)

	f, err := Create(dir, Mark{Head: 10, Durable: 10, Generation: 1})
	require.NoError(t, err)
	require.NoError(t, f.Write(Mark{Head: 12, Durable: 11, Generation: 1}))
	require.NoError(t, f.WriteSync(Mark{Head: 15, Durable: 15, Generation: 2, Clean: true}))
	require.NoError(t, f.Close())

	f, m, err := Open(dir)
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, logstore.Offset(15), m.Head)
	require.Equal(t, logstore.Offset(15), m.Durable)
	require.Equal(t, uint64(2), m.Generation)
	require.True(t, m.Clean)
	require.NoError(t, f.Write(Mark{Head: 16, Durable: 16, Generation: 2}))
	_, m2, err := Open(dir)
	require.NoError(t, err)
	require.Equal(t, logstore.Offset(16), m2.Head)
	require.False(t, m2.Clean)
}

// TestTornSlot: damage to the slot being written leaves the other one, the
// previous mark.
func TestTornSlot(t *testing.T) {
	dir := t.TempDir()
	f, err := Create(dir, Mark{Head: 1, Durable: 1})
	require.NoError(t, err)
	require.NoError(t, f.Write(Mark{Head: 2, Durable: 2})) // seq 2, slot 0
	require.NoError(t, f.Write(Mark{Head: 3, Durable: 3})) // seq 3, slot 1
	require.NoError(t, f.Close())
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[slotStride+20] ^= 0x40 // the newest slot, torn
	require.NoError(t, os.WriteFile(path, b, 0o644))
	g, m, err := Open(dir)
	require.NoError(t, err)
	require.NoError(t, g.Close())
	require.Equal(t, logstore.Offset(2), m.Head, "the older, intact slot")

	b[20] ^= 0x40 // both slots damaged
	require.NoError(t, os.WriteFile(path, b, 0o644))
	_, _, err = Open(dir)
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, path)

	require.NoError(t, os.Truncate(path, 10))
	_, _, err = Open(dir)
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.False(t, errors.Is(err, ErrNotFound))
}
