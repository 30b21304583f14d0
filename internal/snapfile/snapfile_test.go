package snapfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func write(t *testing.T, dir string, off uint64, fp string, content []byte) string {
	t.Helper()
	w, err := Create(dir, off, fp)
	require.NoError(t, err)
	n, err := w.Write(content)
	require.NoError(t, err)
	require.Equal(t, len(content), n)
	require.NoError(t, w.Flush())
	path, err := w.Commit(Hooks{})
	require.NoError(t, err)
	return path
}

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	content := bytes.Repeat([]byte("state!"), 100000)
	path := write(t, dir, 42, "v1", content)
	require.Equal(t, filepath.Join(dir, Name(42)), path)
	h, err := Check(path)
	require.NoError(t, err)
	require.Equal(t, uint64(42), h.Offset)
	require.Equal(t, "v1", h.Fingerprint)
	require.Equal(t, uint64(len(content)), h.Size)
	require.WithinDuration(t, time.Now(), h.Created, time.Minute)
	r, err := Open(path)
	require.NoError(t, err)
	defer r.Close()
	require.Equal(t, h, r.Header())
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, content, got)
	h2, err := ReadHeader(path)
	require.NoError(t, err)
	require.Equal(t, h, h2)
}

func TestListAndRemoveTemp(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, 5, "", []byte("a"))
	write(t, dir, 12, "", []byte("b"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, Name(20)+".tmp-1"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "snap-x.snap"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, Name(3)+".broken"), []byte("x"), 0o644))
	list, err := List(dir)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, uint64(12), list[0].Offset)
	require.Equal(t, uint64(5), list[1].Offset)
	require.NoError(t, RemoveTemp(dir))
	_, err = os.Stat(filepath.Join(dir, Name(20)+".tmp-1"))
	require.True(t, os.IsNotExist(err))
	list, err = List(filepath.Join(dir, "missing"))
	require.NoError(t, err)
	require.Empty(t, list)
	require.NoError(t, RemoveTemp(filepath.Join(dir, "missing")))
}

func TestDamageDetected(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, 7, "fp", bytes.Repeat([]byte{1, 2, 3}, 5000))
	orig, err := os.ReadFile(path)
	require.NoError(t, err)
	damages := map[string][]byte{
		"flip content": func() []byte { b := bytes.Clone(orig); b[len(b)-10] ^= 1; return b }(),
		"flip header":  func() []byte { b := bytes.Clone(orig); b[12] ^= 1; return b }(),
		"truncate":     orig[:len(orig)-1],
		"extend":       append(bytes.Clone(orig), 0),
		"zero":         make([]byte, len(orig)),
		"short":        orig[:10],
	}
	for name, b := range damages {
		require.NoError(t, os.WriteFile(path, b, 0o644))
		_, err := Check(path)
		require.ErrorIs(t, err, backend.ErrCorrupt, name)
	}
	_, err = Check(filepath.Join(dir, "missing"))
	require.Error(t, err)
	_, err = ReadHeader(filepath.Join(dir, "missing"))
	require.Error(t, err)
}

func TestHooksAbort(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("boom")
	for _, h := range []Hooks{
		{AfterWrite: func(string) error { return boom }},
		{AfterSync: func(string) error { return boom }},
	} {
		w, err := Create(dir, 1, "")
		require.NoError(t, err)
		_, err = w.Write([]byte("x"))
		require.NoError(t, err)
		require.NoError(t, w.Flush())
		_, err = w.Commit(h)
		require.ErrorIs(t, err, boom)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Empty(t, entries, "an aborted snapshot leaves nothing")
	}
	w, err := Create(dir, 2, "")
	require.NoError(t, err)
	require.NotEmpty(t, w.TempName())
	w.Abort()
	w.Abort()
	_, err = Create(dir, 1, string(make([]byte, MaxFingerprint+1)))
	require.Error(t, err)
	_, err = Create(filepath.Join(dir, "missing"), 1, "")
	require.Error(t, err)
}

// FuzzDecodeHeader: DecodeHeader never panics, fails only with ErrCorrupt,
// and what it accepts re-encodes to the same bytes.
func FuzzDecodeHeader(f *testing.F) {
	h := Header{Version: Version, Offset: 9, Created: time.Unix(0, 12345).UTC(), Size: 77, ContentCRC: 0xdeadbeef, Fingerprint: "fp"}
	f.Add(h.Encode())
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, n, err := DecodeHeader(b)
		if err != nil {
			if !errors.Is(err, backend.ErrCorrupt) {
				t.Fatalf("error without ErrCorrupt: %v", err)
			}
			return
		}
		if !bytes.Equal(got.Encode(), b[:n]) {
			t.Fatalf("accepted header does not re-encode")
		}
	})
}
