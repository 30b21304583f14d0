package fsutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// entries returns the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	require.NoError(t, WriteFileAtomic(path, []byte("one"), 0o600))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "one", string(b))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the mode asked for, whatever the umask")

	// A second write replaces the content and the mode, and leaves no
	// temporary file behind.
	require.NoError(t, WriteFileAtomic(path, []byte("two, longer"), 0o644))
	b, err = os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "two, longer", string(b))
	fi, err = os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	require.Equal(t, []string{"f"}, entries(t, dir))
}

func TestWriteFileAtomicMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "f")
	err := WriteFileAtomic(path, []byte("x"), 0o644)
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.ErrorContains(t, err, "create a temporary file for "+path)
}

// TestWriteFileAtomicRenameFails: when the rename cannot happen (a
// non-empty directory where the file belongs), the temporary file is
// removed and what was at path stays.
func TestWriteFileAtomicRenameFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	require.NoError(t, os.Mkdir(path, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(path, "inside"), []byte("keep"), 0o644))
	err := WriteFileAtomic(path, []byte("x"), 0o644)
	require.ErrorContains(t, err, "rename ")
	require.ErrorContains(t, err, " to "+path)
	var errno syscall.Errno
	require.ErrorAs(t, err, &errno)
	require.Equal(t, []string{"f"}, entries(t, dir), "the temporary file is removed")
	b, err := os.ReadFile(filepath.Join(path, "inside"))
	require.NoError(t, err)
	require.Equal(t, "keep", string(b))
}

func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, SyncDir(dir))
	missing := filepath.Join(dir, "missing")
	err := SyncDir(missing)
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.ErrorContains(t, err, "open directory "+missing+" to sync it")
}

func TestMkdirAllSync(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "a", "b", "c")
	require.NoError(t, MkdirAllSync(dir+"/", 0o750))
	for _, d := range []string{filepath.Join(root, "a"), filepath.Join(root, "a", "b"), dir} {
		fi, err := os.Stat(d)
		require.NoError(t, err)
		require.True(t, fi.IsDir(), d)
	}
	// Again: nothing to do, no error, nothing removed.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x"), nil, 0o644))
	require.NoError(t, MkdirAllSync(dir, 0o750))
	require.Equal(t, []string{"x"}, entries(t, dir))
}

func TestMkdirAllSyncNotADirectory(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	err := MkdirAllSync(file, 0o755)
	require.EqualError(t, err, file+" exists and is not a directory")
	// A file in the middle of the path: the same error, about that file.
	err = MkdirAllSync(filepath.Join(file, "sub", "dir"), 0o755)
	require.EqualError(t, err, file+" exists and is not a directory")
}

// TestMkdirAllSyncMkdirFails: a name the file system refuses fails with
// the error of mkdir, and creates nothing.
func TestMkdirAllSyncMkdirFails(t *testing.T) {
	root := t.TempDir()
	long := filepath.Join(root, strings.Repeat("n", 300))
	err := MkdirAllSync(long, 0o755)
	require.ErrorIs(t, err, syscall.ENAMETOOLONG)
	require.ErrorContains(t, err, "create directory "+long)
	require.Empty(t, entries(t, root))
}
