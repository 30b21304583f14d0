package headmark

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
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

func TestLast(t *testing.T) {
	dir := t.TempDir()
	f, err := Create(dir, Mark{Head: 4, Durable: 3, Generation: 2})
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, Mark{Head: 4, Durable: 3, Generation: 2, seq: 1}, f.Last())
	require.NoError(t, f.Write(Mark{Head: 9, Durable: 9, Generation: 2, Clean: true}))
	require.Equal(t, Mark{Head: 9, Durable: 9, Generation: 2, Clean: true, seq: 2}, f.Last())
}

// TestClosedFile: writing to, syncing or closing a closed mark fails with
// os.ErrClosed and names the file; the last mark stays the one written.
func TestClosedFile(t *testing.T) {
	dir := t.TempDir()
	f, err := Create(dir, Mark{Head: 1, Durable: 1})
	require.NoError(t, err)
	require.NoError(t, f.Close())
	path := filepath.Join(dir, FileName)
	for _, err := range []error{f.Write(Mark{Head: 2, Durable: 2}), f.WriteSync(Mark{Head: 2, Durable: 2}), f.Close()} {
		require.ErrorIs(t, err, os.ErrClosed)
		require.ErrorContains(t, err, path)
	}
	require.Equal(t, logstore.Offset(1), f.Last().Head)
}

func TestCreateFails(t *testing.T) {
	_, err := Create(filepath.Join(t.TempDir(), "missing"), Mark{})
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorContains(t, err, "create the head mark")
}

// TestOpenNotAFile: a directory where the mark belongs is an error, neither
// ErrNotFound nor damage.
func TestOpenNotAFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, FileName), 0o755))
	_, _, err := Open(dir)
	require.Error(t, err)
	require.False(t, errors.Is(err, ErrNotFound))
	require.False(t, errors.Is(err, backend.ErrCorrupt))
	require.ErrorContains(t, err, "open the head mark")
}

// TestInvalidSlots: a slot with a checksum that matches is still refused
// when its version is unknown or its durable offset is past its head.
func TestInvalidSlots(t *testing.T) {
	for name, damage := range map[string]func(b []byte){
		"version":            func(b []byte) { b[4] = version + 1 },
		"durable > head":     func(b []byte) { b[24]++ },
		"magic":              func(b []byte) { b[0] = 'X' },
		"control: untouched": func(b []byte) {},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			f, err := Create(dir, Mark{Head: 5, Durable: 5, Generation: 3})
			require.NoError(t, err)
			require.NoError(t, f.Close())
			path := filepath.Join(dir, FileName)
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			slot := b[slotStride : slotStride+slotSize]
			damage(slot)
			encodeCRC(slot)
			require.NoError(t, os.WriteFile(path, b, 0o644))
			g, m, err := Open(dir)
			if name == "control: untouched" {
				require.NoError(t, err)
				require.NoError(t, g.Close())
				require.Equal(t, Mark{Head: 5, Durable: 5, Generation: 3, seq: 1}, m)
				return
			}
			require.ErrorIs(t, err, backend.ErrCorrupt)
		})
	}
}

// encodeCRC recomputes the checksum of a slot, as a writer would.
func encodeCRC(b []byte) {
	binary.LittleEndian.PutUint32(b[40:], crc32.Checksum(b[:40], castagnoli))
}
