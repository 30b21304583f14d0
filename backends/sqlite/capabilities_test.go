package sqlite_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/sqlite"
	"github.com/stretchr/testify/require"
)

func TestCheckpoint(t *testing.T) {
	base := t.TempDir()
	kv := open(t, filepath.Join(base, "db"), nil)
	defer kv.Close()
	put(t, kv, true, "synced", "1")
	put(t, kv, false, "unsynced", "2")
	// An open iterator (an older view) must not hold the copy back.
	it, err := kv.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	put(t, kv, false, "after-iterator", "3")

	cp := kv.(backend.Checkpointer)
	cpDir := filepath.Join(base, "backup", "cp") // the parent is created too
	require.NoError(t, cp.Checkpoint(cpDir))
	require.NoError(t, it.Close())
	put(t, kv, true, "after", "4") // not in the checkpoint

	err = cp.Checkpoint(cpDir)
	require.ErrorIs(t, err, fs.ErrExist)
	require.ErrorContains(t, err, "does not exist yet")

	entries, err := os.ReadDir(cpDir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "the checkpoint is one database file")
	require.Equal(t, sqlite.FileName, entries[0].Name())

	ckv := open(t, cpDir, sqlite.Options{OpenCheck: sqlite.CheckFull})
	defer ckv.Close()
	for k, want := range map[string]string{"synced": "1", "unsynced": "2", "after-iterator": "3"} {
		v, ok := get(t, ckv, k)
		require.True(t, ok, "%s is missing from the checkpoint", k)
		require.Equal(t, want, v)
	}
	_, ok := get(t, ckv, "after")
	require.False(t, ok)
	put(t, ckv, true, "written-to-the-copy", "5")
	_, ok = get(t, kv, "written-to-the-copy")
	require.False(t, ok, "the checkpoint shares state with the store")
}

func TestCheckpointError(t *testing.T) {
	dir := t.TempDir()
	kv := open(t, filepath.Join(dir, "db"), nil)
	defer kv.Close()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	err := kv.(backend.Checkpointer).Checkpoint(filepath.Join(file, "cp"))
	require.Error(t, err)
	require.ErrorContains(t, err, "checkpoint")
}

func TestCompact(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, sqlite.FileName)
	kv := open(t, dir, nil)
	defer kv.Close()
	c := kv.(backend.Compacter)
	require.NoError(t, c.Compact(), "Compact of an empty store")

	b := kv.NewBatch()
	for i := range 5000 {
		b.Set(fmt.Appendf(nil, "k%05d", i), bytes.Repeat([]byte{byte(i)}, 200))
	}
	require.NoError(t, b.Commit(true))
	require.NoError(t, c.Compact())
	full := fileSize(t, file)
	require.Zero(t, fileSize(t, file+"-wal"), "Compact left frames in the write-ahead log")

	b = kv.NewBatch()
	for i := range 5000 {
		if i%10 != 0 {
			b.Delete(fmt.Appendf(nil, "k%05d", i))
		}
	}
	require.NoError(t, b.Commit(false))
	require.NoError(t, c.Compact())
	require.Less(t, fileSize(t, file), full/5, "Compact did not shrink the database file")
	require.Zero(t, fileSize(t, file+"-wal"))
	require.Len(t, keys(t, kv, backend.IterOptions{}), 500)
	v, ok := get(t, kv, "k00010")
	require.True(t, ok)
	require.Equal(t, string(bytes.Repeat([]byte{10}, 200)), v)

	// An open iterator keeps the checkpoint from finishing: Compact fails,
	// and the store goes on.
	kv2 := open(t, t.TempDir(), &sqlite.Options{BusyTimeout: 1})
	defer kv2.Close()
	put(t, kv2, true, "a", "1")
	it, err := kv2.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	put(t, kv2, true, "b", "2")
	err = kv2.(backend.Compacter).Compact()
	require.ErrorContains(t, err, "iterators")
	require.NoError(t, it.Close())
	put(t, kv2, true, "c", "3")
	require.NoError(t, kv2.(backend.Compacter).Compact())
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Size()
}

func TestEngineVersion(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	defer kv.Close()
	v := kv.(backend.Namer).EngineVersion()
	require.Regexp(t, regexp.MustCompile(`^sqlite 3\.\d+\.\d+ \(\S+ v\d+\.\d+\.\d+\S*\)$`), v)
}

func TestBatchLimits(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	defer kv.Close()
	bl := kv.(backend.BatchLimiter)
	require.EqualValues(t, 1_000_000_000, bl.MaxBatchSize())
	require.EqualValues(t, int64(math.MaxInt64), bl.MaxBatchCount())
}
