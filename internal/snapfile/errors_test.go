package snapfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/stretchr/testify/require"
)

// reseal recomputes the checksum of an encoded header, as a writer would.
func reseal(b []byte) {
	n := len(b)
	binary.BigEndian.PutUint32(b[n-4:], crc32.Checksum(b[:n-4], castagnoli))
}

func TestDecodeHeaderRefuses(t *testing.T) {
	h := Header{Version: Version, Offset: 3, Created: time.Unix(0, 5).UTC(), Size: 9, ContentCRC: 1, Fingerprint: "abc"}
	good := h.Encode()
	got, n, err := DecodeHeader(good)
	require.NoError(t, err)
	require.Equal(t, h, got)
	require.Equal(t, h.Len(), n)

	// A fingerprint length past the limit.
	long := append([]byte(nil), good...)
	binary.BigEndian.PutUint16(long[fixedHeader-2:], MaxFingerprint+1)
	_, _, err = DecodeHeader(long)
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, "fingerprint length 1025 exceeds 1024")

	// The fixed part is whole, the fingerprint and checksum are not.
	_, _, err = DecodeHeader(good[:len(good)-2])
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, fmt.Sprintf("truncated: %d of %d bytes", h.Len()-2, h.Len()))

	// A version this build does not know, with a checksum that matches.
	v2 := append([]byte(nil), good...)
	v2[8] = Version + 1
	reseal(v2)
	_, _, err = DecodeHeader(v2)
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, "unknown snapshot format version 2")
}

// TestWriteAfterError: once a write of the content failed, Write, Flush
// and Commit return that error, and Commit removes the temporary file.
func TestWriteAfterError(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, 3, "fp")
	require.NoError(t, err)
	require.Equal(t, Header{Version: Version, Offset: 3, Created: w.Header().Created, Fingerprint: "fp"}, w.Header())
	// Close the file under the writer: the next flush fails.
	require.NoError(t, w.f.Close())
	_, err = w.Write(make([]byte, 300<<10)) // larger than the buffer: written through
	require.ErrorIs(t, err, os.ErrClosed)
	require.ErrorContains(t, err, "write snapshot ")
	_, err2 := w.Write([]byte("x"))
	require.Same(t, err, err2, "the error stays")
	require.Same(t, err, w.Flush())
	_, err3 := w.Commit(Hooks{})
	require.Same(t, err, err3)
	require.Empty(t, entries(t, dir), "the temporary file is removed")
}

// TestFlushFails: a flush whose write fails reports it, and so do the
// calls after it.
func TestFlushFails(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, 4, "")
	require.NoError(t, err)
	_, err = w.Write([]byte("small, buffered"))
	require.NoError(t, err)
	require.NoError(t, w.f.Close())
	err = w.Flush()
	require.ErrorIs(t, err, os.ErrClosed)
	require.Same(t, err, w.Flush())
	_, cerr := w.Commit(Hooks{})
	require.Same(t, err, cerr)
	require.Empty(t, entries(t, dir))

	// The header's write fails after the content's flush succeeded: an
	// empty buffer has nothing to write, so only WriteAt fails.
	w, err = Create(dir, 5, "")
	require.NoError(t, err)
	require.NoError(t, w.bw.Flush())
	require.NoError(t, w.f.Close())
	err = w.Flush()
	require.ErrorIs(t, err, os.ErrClosed)
	require.ErrorContains(t, err, "write snapshot header of ")
	w.Abort()
	require.Empty(t, entries(t, dir))
}

func TestCommitFails(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("boom")

	// The hook after the rename fails: the snapshot is in place, the error
	// returned.
	w, err := Create(dir, 1, "")
	require.NoError(t, err)
	require.NoError(t, w.Flush())
	var renamed string
	_, err = w.Commit(Hooks{AfterRename: func(p string) error { renamed = p; return boom }})
	require.ErrorIs(t, err, boom)
	require.Equal(t, filepath.Join(dir, Name(1)), renamed)
	_, err = Check(renamed)
	require.NoError(t, err)

	// The final name is taken by a non-empty directory: the rename fails
	// and the temporary file is removed.
	blocker := filepath.Join(dir, Name(2))
	require.NoError(t, os.Mkdir(blocker, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(blocker, "x"), nil, 0o644))
	w, err = Create(dir, 2, "")
	require.NoError(t, err)
	require.NoError(t, w.Flush())
	_, err = w.Commit(Hooks{})
	require.ErrorContains(t, err, "into place")
	require.Equal(t, []string{Name(1), Name(2)}, entries(t, dir))

	// The file was closed under the writer: the sync fails.
	w, err = Create(dir, 3, "")
	require.NoError(t, err)
	require.NoError(t, w.Flush())
	require.NoError(t, w.f.Close())
	_, err = w.Commit(Hooks{})
	require.ErrorIs(t, err, os.ErrClosed)
	require.ErrorContains(t, err, "sync snapshot")
	require.Equal(t, []string{Name(1), Name(2)}, entries(t, dir))
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// TestNotADirectory: listing or cleaning a path that is a file fails; it is
// not an empty snapshot directory.
func TestNotADirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err := List(file)
	require.ErrorIs(t, err, syscall.ENOTDIR)
	require.ErrorContains(t, err, "list snapshots in "+file)
	err = RemoveTemp(file)
	require.ErrorIs(t, err, syscall.ENOTDIR)
}

// TestRemoveTempFails: a temporary name that cannot be removed (a non-empty
// directory) is an error that names it.
func TestRemoveTempFails(t *testing.T) {
	dir := t.TempDir()
	stuck := filepath.Join(dir, Name(9)+".tmp-1")
	require.NoError(t, os.Mkdir(stuck, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(stuck, "x"), nil, 0o644))
	err := RemoveTemp(dir)
	require.ErrorIs(t, err, syscall.ENOTEMPTY)
	require.ErrorContains(t, err, "remove the unfinished snapshot "+Name(9)+".tmp-1")
}

// TestListSameOffset: two names for one offset are both listed, and the
// order of the others is kept.
func TestListSameOffset(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"snap-5.snap", Name(5), Name(7), Name(1)} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o644))
	}
	list, err := List(dir)
	require.NoError(t, err)
	var offs []uint64
	for _, i := range list {
		offs = append(offs, i.Offset)
	}
	require.Equal(t, []uint64{7, 5, 5, 1}, offs)
	require.Equal(t, []int{-1, 0, 1}, []int{cmpU(1, 2), cmpU(2, 2), cmpU(3, 2)})
}

// TestOpenDirectory: a directory with a snapshot's name is not a snapshot:
// reading it fails with the error of the read, not as damage.
func TestOpenDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, Name(3))
	require.NoError(t, os.Mkdir(path, 0o755))
	_, err := Open(path)
	require.ErrorIs(t, err, syscall.EISDIR)
	require.False(t, errors.Is(err, backend.ErrCorrupt))
	_, err = ReadHeader(path)
	require.ErrorIs(t, err, syscall.EISDIR)
	require.ErrorContains(t, err, "read header")
}

// TestReadAfterClose: a read of a closed snapshot fails with the read's
// error, not as damage.
func TestReadAfterClose(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, 8, "", make([]byte, 1<<20))
	r, err := Open(path)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	_, err = io.ReadAll(r)
	require.ErrorIs(t, err, os.ErrClosed)
	require.ErrorContains(t, err, "read snapshot "+path)
	require.False(t, errors.Is(err, backend.ErrCorrupt))
}

func TestMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), Name(1))
	_, err := Open(path)
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = Check(path)
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = ReadHeader(path)
	require.ErrorIs(t, err, fs.ErrNotExist)
}
