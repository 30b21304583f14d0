package sqlite_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/sqlite"
	"github.com/stretchr/testify/require"
)

// pageSize is SQLite's default page size, which the engine keeps.
const pageSize = 4096

// filledStore writes n keys of 100-byte values into a store in a new
// directory, closes it (which checkpoints the write-ahead log into the
// database file) and returns the database file.
func filledStore(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	kv := open(t, dir, nil)
	b := kv.NewBatch()
	for i := range n {
		b.Set(fmt.Appendf(nil, "k%05d", i), bytes.Repeat([]byte{byte(i)}, 100))
	}
	require.NoError(t, b.Commit(true))
	require.NoError(t, kv.Close())
	file := filepath.Join(dir, sqlite.FileName)
	_, err := os.Stat(file + "-wal")
	require.ErrorIs(t, err, os.ErrNotExist, "Close left a write-ahead log behind")
	return file
}

// overwrite writes b at offset off of the file at path.
func overwrite(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(b, off)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// requireCorrupt checks that err reports damage to file.
func requireCorrupt(t *testing.T, err error, file string) {
	t.Helper()
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, file, "the error does not name the damaged file")
	require.ErrorContains(t, err, "sqlite: ")
}

func TestCorruptHeaderFailsOpen(t *testing.T) {
	file := filledStore(t, 10)
	overwrite(t, file, 0, []byte("not a database!!"))
	for _, check := range []sqlite.OpenCheck{sqlite.CheckQuick, sqlite.CheckNone} {
		_, err := openErr(filepath.Dir(file), sqlite.Options{OpenCheck: check})
		requireCorrupt(t, err, file)
		require.ErrorContains(t, err, "not a database")
	}
}

func TestGarbageFileFailsOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, sqlite.FileName)
	require.NoError(t, os.WriteFile(file, bytes.Repeat([]byte("garbage!"), 1024), 0o644))
	_, err := openErr(dir, nil)
	requireCorrupt(t, err, file)
	got, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, bytes.Repeat([]byte("garbage!"), 1024), got, "a failed Open changed the file")
}

// TestCorruptPage zeroes a b-tree page in the middle of the database.
func TestCorruptPage(t *testing.T) {
	file := filledStore(t, 2000)
	fi, err := os.Stat(file)
	require.NoError(t, err)
	pages := fi.Size() / pageSize
	require.Greater(t, pages, int64(20))
	overwrite(t, file, (pages/2)*pageSize, make([]byte, pageSize))
	dir := filepath.Dir(file)

	for _, check := range []sqlite.OpenCheck{sqlite.CheckQuick, sqlite.CheckFull} {
		t.Run(check.String(), func(t *testing.T) {
			_, err := openErr(dir, sqlite.Options{OpenCheck: check})
			requireCorrupt(t, err, file)
			require.ErrorContains(t, err, check.String())
		})
	}

	// Without the check, Open succeeds and reads report the damage.
	t.Run("none", func(t *testing.T) {
		kv := open(t, dir, sqlite.Options{OpenCheck: sqlite.CheckNone})
		defer func() { require.NoError(t, kv.Close()) }()
		for _, reverse := range []bool{false, true} {
			it, err := kv.NewIterator(backend.IterOptions{Reverse: reverse})
			require.NoError(t, err)
			n := 0
			for it.Next() {
				n++
			}
			requireCorrupt(t, it.Err(), file)
			require.Less(t, n, 2000)
			require.NoError(t, it.Close(), "Close repeats an error Err already returned")
		}
		it, err := kv.NewIterator(backend.IterOptions{})
		require.NoError(t, err)
		for it.Next() {
		}
		requireCorrupt(t, it.Close(), file) // Close returns the error Err did not
		var getErr error
		for i := range 2000 {
			if _, _, err := kv.Get(fmt.Appendf(nil, "k%05d", i)); err != nil {
				getErr = err
				break
			}
		}
		requireCorrupt(t, getErr, file)
	})
}

func TestTruncatedFileFailsOpen(t *testing.T) {
	file := filledStore(t, 2000)
	fi, err := os.Stat(file)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(file, (fi.Size()/pageSize/2)*pageSize))
	_, err = openErr(filepath.Dir(file), nil)
	requireCorrupt(t, err, file)
}

// TestCheckAfterCrash: with the default OpenCheck, Open runs quick_check
// when the previous session did not close cleanly (no marker), and skips it
// after a clean Close, when reads still report the damage.
func TestCheckAfterCrash(t *testing.T) {
	file := filledStore(t, 2000)
	dir := filepath.Dir(file)
	mark := filepath.Join(dir, sqlite.CleanMarkName)
	require.FileExists(t, mark, "a clean Close leaves the marker")
	fi, err := os.Stat(file)
	require.NoError(t, err)
	overwrite(t, file, (fi.Size()/pageSize/2)*pageSize, make([]byte, pageSize))

	// A crash: no marker. The default Open checks and refuses the damage.
	require.NoError(t, os.Remove(mark))
	_, err = openErr(dir, nil)
	requireCorrupt(t, err, file)
	require.ErrorContains(t, err, "quick_check")
	require.NoFileExists(t, mark)

	// After a clean Close the default Open skips the check: it removes the
	// marker before anything else, and reads find the damage.
	require.NoError(t, os.WriteFile(mark, nil, 0o644))
	kv := open(t, dir, nil)
	require.NoFileExists(t, mark, "Open must remove the marker, so that a crash is never taken for a clean Close")
	it, err := kv.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	for it.Next() {
	}
	requireCorrupt(t, it.Close(), file)
	require.NoError(t, kv.Close())
}
