package dump

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/durablelog/eventstore/internal/snapfile"
	"github.com/durablelog/eventstore/logstore"
	"github.com/stretchr/testify/require"
)

// writeSnapshot writes a snapshot of content at offset into dir.
func writeSnapshot(t *testing.T, dir string, offset uint64, content string) string {
	t.Helper()
	w, err := snapfile.Create(dir, offset, "fp")
	require.NoError(t, err)
	_, err = w.Write([]byte(content))
	require.NoError(t, err)
	require.NoError(t, w.Flush())
	path, err := w.Commit(snapfile.Hooks{})
	require.NoError(t, err)
	return path
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// TestCopySnapshots: the snapshots up to the offset are copied, newest
// first, and checked; a damaged one and one that vanished are left out.
func TestCopySnapshots(t *testing.T) {
	src := t.TempDir()
	for _, off := range []uint64{10, 20, 30, 40} {
		writeSnapshot(t, src, off, "state at "+time.Duration(off).String())
	}
	// The snapshot at 20 is damaged: its copy fails its check.
	p20 := filepath.Join(src, snapfile.Name(20))
	b, err := os.ReadFile(p20)
	require.NoError(t, err)
	b[len(b)-1] ^= 1
	require.NoError(t, os.WriteFile(p20, b, 0o644))
	// The one at 25 was pruned between the listing and the copy: a name
	// that leads nowhere.
	require.NoError(t, os.Symlink(filepath.Join(src, "gone"), filepath.Join(src, snapfile.Name(25))))

	dst := filepath.Join(t.TempDir(), "a", "snapshots")
	copied, err := CopySnapshots(src, dst, 30)
	require.NoError(t, err)
	require.Equal(t, []logstore.Offset{30, 10}, copied)
	require.Equal(t, []string{snapfile.Name(10), snapfile.Name(30)}, names(t, dst), "no copy of the damaged or vanished ones")
	for _, off := range copied {
		h, err := snapfile.Check(filepath.Join(dst, snapfile.Name(uint64(off))))
		require.NoError(t, err)
		require.Equal(t, uint64(off), h.Offset)
	}
}

func TestCopySnapshotsNothingToCopy(t *testing.T) {
	src := t.TempDir()
	writeSnapshot(t, src, 10, "x")
	dst := filepath.Join(t.TempDir(), "snapshots")
	copied, err := CopySnapshots(src, dst, 9)
	require.NoError(t, err)
	require.Empty(t, copied)
	_, err = os.Stat(dst)
	require.ErrorIs(t, err, fs.ErrNotExist, "no directory for no snapshot")

	copied, err = CopySnapshots(filepath.Join(src, "missing"), dst, 100)
	require.NoError(t, err, "a store without snapshots")
	require.Empty(t, copied)
}

func TestCopySnapshotsFails(t *testing.T) {
	src := t.TempDir()
	writeSnapshot(t, src, 10, "x")
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))

	// The source is not a directory.
	_, err := CopySnapshots(file, t.TempDir(), 100)
	require.ErrorIs(t, err, syscall.ENOTDIR)

	// The destination cannot be created.
	_, err = CopySnapshots(src, filepath.Join(file, "snapshots"), 100)
	require.ErrorContains(t, err, "create "+filepath.Join(file, "snapshots"))
	require.ErrorContains(t, err, "exists and is not a directory")

	// The destination holds the file already: a copy never overwrites.
	dst := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dst, snapfile.Name(10)), []byte("mine"), 0o644))
	_, err = CopySnapshots(src, dst, 100)
	require.ErrorIs(t, err, fs.ErrExist)
	b, err := os.ReadFile(filepath.Join(dst, snapfile.Name(10)))
	require.NoError(t, err)
	require.Equal(t, "mine", string(b))
}

func TestCopyFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	require.NoError(t, os.WriteFile(src, []byte("content"), 0o600))
	dst := filepath.Join(dir, "dst")
	require.NoError(t, CopyFile(src, dst))
	b, err := os.ReadFile(dst)
	require.NoError(t, err)
	require.Equal(t, "content", string(b))

	require.ErrorIs(t, CopyFile(filepath.Join(dir, "missing"), filepath.Join(dir, "x")), fs.ErrNotExist)
	_, err = os.Stat(filepath.Join(dir, "x"))
	require.ErrorIs(t, err, fs.ErrNotExist)
	err = CopyFile(src, dst)
	require.ErrorIs(t, err, fs.ErrExist)
	require.ErrorContains(t, err, "create "+dst)

	// A source that cannot be read (a directory): the partial copy is
	// removed.
	err = CopyFile(dir, filepath.Join(dir, "copy"))
	require.ErrorIs(t, err, syscall.EISDIR)
	require.ErrorContains(t, err, "copy "+dir)
	_, err = os.Stat(filepath.Join(dir, "copy"))
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func TestManifest(t *testing.T) {
	dir := t.TempDir()
	created := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	m := Manifest{Method: MethodDump, Backend: "badger", Head: 42, Created: created, Snapshots: []logstore.Offset{40, 20}, ContentHash: "sha256:00", Generation: 3}
	require.NoError(t, WriteManifest(dir, m))
	got, err := ReadManifest(dir)
	require.NoError(t, err)
	m.Format = manifestFormat
	require.Equal(t, m, got)
	require.Equal(t, []string{ManifestName}, names(t, dir), "no temporary file left")

	require.ErrorIs(t, WriteManifest(filepath.Join(dir, "missing"), m), fs.ErrNotExist)
}

func TestReadManifestRefuses(t *testing.T) {
	_, err := ReadManifest(t.TempDir())
	require.ErrorContains(t, err, "has no BACKUP file: it is not a backup, or an unfinished one")

	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, ManifestName), 0o755))
	_, err = ReadManifest(dir)
	require.ErrorIs(t, err, syscall.EISDIR)
	require.ErrorContains(t, err, "read the backup manifest")

	for content, msg := range map[string]string{
		`{`: "does not decode",
		`{"format":2,"method":"dump","backend":"pebble"}`:  "has format 2, this build reads up to 1",
		`{"format":1,"method":"tar","backend":"pebble"}`:   `names an unknown method "tar"`,
		`{"format":1,"method":"checkpoint","backend":""}`:  "names no engine",
		`{"format":1,"method":"checkpoint"}`:               "names no engine",
		`{"format":1,"method":"","backend":"pebble"}`:      `names an unknown method ""`,
		`{"format":1,"method":"dump","backend":"pebble"}x`: "does not decode",
	} {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, ManifestName), []byte(content), 0o644))
		_, err := ReadManifest(dir)
		require.ErrorContains(t, err, msg, content)
		require.ErrorContains(t, err, filepath.Join(dir, ManifestName), content)
	}
}
