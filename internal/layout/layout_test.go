package layout

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/logstore"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNames(t *testing.T) {
	require.Equal(t, filepath.Join("d", "engine"), Engine("d"))
	require.Equal(t, filepath.Join("d", "snapshots"), Snapshots("d"))
	for _, name := range []string{".STORE.tmp123", ".HEADMARK.tmp", ".HEADMARK.tmp99"} {
		require.True(t, IsTemp(name), name)
	}
	for _, name := range []string{"STORE", "HEADMARK", ".STORE", "x.STORE.tmp1", ".LOCK.tmp1"} {
		require.False(t, IsTemp(name), name)
	}
	for _, name := range []string{"LOCK", "engine", "snapshots", "HEADMARK"} {
		require.True(t, Ours(name), name)
	}
	for _, name := range []string{"STORE", "other", ".STORE.tmp1", "Engine"} {
		require.False(t, Ours(name), name)
	}
}

func TestGen(t *testing.T) {
	require.Equal(t, uint64(1), Store{}.Gen(), "a file without a generation is at generation 1")
	require.Equal(t, uint64(1), Store{Generation: 1}.Gen())
	require.Equal(t, uint64(7), Store{Generation: 7}.Gen())
}

func TestCreateReadStore(t *testing.T) {
	dir := t.TempDir()
	_, found, err := ReadStore(dir)
	require.NoError(t, err)
	require.False(t, found)
	ok, err := IsStore(dir)
	require.NoError(t, err)
	require.False(t, ok)

	// What a first Open interrupted by a crash leaves is accepted.
	for _, name := range []string{LockFile, HeadMarkFile} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o644))
	}
	require.NoError(t, os.Mkdir(Engine(dir), 0o755))
	require.NoError(t, os.Mkdir(Snapshots(dir), 0o755))
	before := time.Now().UTC()
	created, err := CreateStore(dir, "pebble")
	require.NoError(t, err)
	require.Equal(t, Format, created.Format)
	require.Equal(t, "pebble", created.Backend)
	require.Equal(t, uint64(1), created.Generation)
	require.False(t, created.Created.Before(before.Add(-time.Second)))

	s, found, err := ReadStore(dir)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, created.Backend, s.Backend)
	require.Equal(t, created.Format, s.Format)
	require.Equal(t, created.Generation, s.Generation)
	require.True(t, created.Created.Equal(s.Created))
	ok, err = IsStore(dir)
	require.NoError(t, err)
	require.True(t, ok)
}

func TestCreateStoreRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644))
	_, err := CreateStore(dir, "pebble")
	require.ErrorContains(t, err, `holds no store (found "notes.txt")`)
	_, err = os.Stat(filepath.Join(dir, StoreFile))
	require.ErrorIs(t, err, fs.ErrNotExist, "no STORE file written")

	_, err = CreateStore(filepath.Join(dir, "missing"), "pebble")
	require.ErrorIs(t, err, fs.ErrNotExist)
}

// TestIsStoreEngineOnly: an engine directory without a STORE file is a
// store whose STORE file was lost.
func TestIsStoreEngineOnly(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(Engine(dir), 0o755))
	ok, err := IsStore(dir)
	require.NoError(t, err)
	require.True(t, ok)
	_, found, err := ReadStore(dir)
	require.NoError(t, err)
	require.False(t, found)
}

// TestIsStoreNotADirectory: a file where the store's directory belongs is
// an error, not "no store".
func TestIsStoreNotADirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	ok, err := IsStore(file)
	require.False(t, ok)
	require.ErrorIs(t, err, syscall.ENOTDIR)
	require.ErrorContains(t, err, "check "+file)
}

func TestReadStoreDamaged(t *testing.T) {
	for name, content := range map[string]string{
		"not JSON":     "garbage",
		"empty":        "",
		"no backend":   `{"format":1}`,
		"no format":    `{"backend":"pebble"}`,
		"wrong format": `{"format":-1,"backend":"pebble"}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, StoreFile)
			require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
			_, found, err := ReadStore(dir)
			require.False(t, found)
			require.ErrorIs(t, err, backend.ErrCorrupt)
			var ce *logstore.CorruptionError
			require.True(t, errors.As(err, &ce), "a *CorruptionError: %v", err)
			require.Equal(t, path, ce.File)
		})
	}
}

func TestReadStoreNewerFormat(t *testing.T) {
	dir := t.TempDir()
	b, err := json.Marshal(Store{Format: Format + 1, Backend: "pebble"})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, StoreFile), b, 0o644))
	_, found, err := ReadStore(dir)
	require.False(t, found)
	require.ErrorContains(t, err, "upgrade eventstore")
	require.False(t, errors.Is(err, backend.ErrCorrupt), "a newer format is not damage")
}

// TestReadStoreUnreadable: a directory named STORE cannot be read; the
// error says so and is not taken for damage or for no store.
func TestReadStoreUnreadable(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, StoreFile), 0o755))
	_, found, err := ReadStore(dir)
	require.False(t, found)
	require.ErrorIs(t, err, syscall.EISDIR)
	require.False(t, errors.Is(err, backend.ErrCorrupt))

	_, _, err = ReadStore(filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, fs.ErrNotExist)
}

// TestRemoveTemps: the temporary files of an interrupted write are removed
// by ReadStore, and nothing else is.
func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	_, err := CreateStore(dir, "badger")
	require.NoError(t, err)
	for _, name := range []string{".STORE.tmp1", ".HEADMARK.tmp2", "other"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644))
	}
	s, found, err := ReadStore(dir)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, "badger", s.Backend)
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	require.Equal(t, []string{StoreFile, "other"}, names)

	// A temporary name that cannot be removed: a non-empty directory.
	stuck := filepath.Join(dir, ".STORE.tmp3")
	require.NoError(t, os.Mkdir(stuck, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(stuck, "x"), nil, 0o644))
	err = RemoveTemps(dir)
	require.ErrorContains(t, err, "left by an interrupted Open")
	require.ErrorIs(t, err, syscall.ENOTEMPTY)
}

func TestSetGeneration(t *testing.T) {
	dir := t.TempDir()
	require.ErrorContains(t, SetGeneration(dir, 3), "holds no store")

	_, err := CreateStore(dir, "pebble")
	require.NoError(t, err)
	gen := func() uint64 {
		s, found, err := ReadStore(dir)
		require.NoError(t, err)
		require.True(t, found)
		return s.Gen()
	}
	require.NoError(t, SetGeneration(dir, 5))
	require.Equal(t, uint64(5), gen())
	require.NoError(t, SetGeneration(dir, 2), "a lower generation is ignored")
	require.Equal(t, uint64(5), gen(), "a generation never goes back")
	require.NoError(t, SetGeneration(dir, 5))
	require.Equal(t, uint64(5), gen())

	require.NoError(t, os.WriteFile(filepath.Join(dir, StoreFile), []byte("{"), 0o644))
	require.ErrorIs(t, SetGeneration(dir, 9), backend.ErrCorrupt)
}

func TestWriteStoreFails(t *testing.T) {
	err := WriteStore(filepath.Join(t.TempDir(), "missing"), Store{Format: Format, Backend: "pebble"})
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.ErrorContains(t, err, "eventstore: ")
}

// TestReadStoreChecksum: WriteStore records a checksum, and every single
// bit flipped in the file is either reported as damage (or as a newer
// format, for a flip in the format's digit) or leaves the content that
// ReadStore returns unchanged: a flipped bit never yields another engine,
// generation or location.
func TestReadStoreChecksum(t *testing.T) {
	dir := t.TempDir()
	want := Store{Format: Format, Backend: "rocksdb", Created: time.Date(2026, 12, 3, 6, 50, 1, 123456789, time.UTC), Generation: 7, Location: "postgres db=orders schema=orders"}
	require.NoError(t, WriteStore(dir, want))
	path := filepath.Join(dir, StoreFile)
	orig, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(orig), `"crc":`)
	got, found, err := ReadStore(dir)
	require.NoError(t, err)
	require.True(t, found)
	want.CRC = got.CRC
	require.NotZero(t, got.CRC)
	require.Equal(t, want.Backend, got.Backend)
	require.Equal(t, want.Generation, got.Generation)
	require.Equal(t, want.Location, got.Location)
	require.True(t, want.Created.Equal(got.Created))

	detected, harmless := 0, 0
	for i := range orig {
		for bit := range 8 {
			b := append([]byte(nil), orig...)
			b[i] ^= 1 << bit
			require.NoError(t, os.WriteFile(path, b, 0o644))
			s, found, err := ReadStore(dir)
			switch {
			case errors.Is(err, backend.ErrCorrupt):
				detected++
				var ce *logstore.CorruptionError
				require.True(t, errors.As(err, &ce))
				require.Equal(t, path, ce.File)
			case err != nil:
				require.ErrorContains(t, err, "upgrade eventstore", "byte %d bit %d", i, bit)
				detected++
			default:
				require.True(t, found)
				require.Equal(t, got.Backend, s.Backend, "byte %d bit %d: %q", i, bit, b)
				require.Equal(t, got.Format, s.Format, "byte %d bit %d", i, bit)
				require.Equal(t, got.Generation, s.Generation, "byte %d bit %d", i, bit)
				require.Equal(t, got.Location, s.Location, "byte %d bit %d", i, bit)
				require.True(t, got.Created.Equal(s.Created), "byte %d bit %d", i, bit)
				harmless++
			}
		}
	}
	t.Logf("%d of %d single-bit flips reported, %d harmless (the case of a letter in a field's name, which JSON decoding ignores)", detected, 8*len(orig), harmless)
	require.Greater(t, detected, 7*len(orig), "most flips must be reported")
}

// TestReadStoreHandWritten: a STORE file written by hand, without a
// checksum, is read; an unknown field is damage.
func TestReadStoreHandWritten(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, StoreFile)
	require.NoError(t, os.WriteFile(path, []byte(`{"format":1,"backend":"pebble"}`+"\n"), 0o644))
	s, found, err := ReadStore(dir)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, "pebble", s.Backend)
	require.Equal(t, uint64(1), s.Gen())

	require.NoError(t, os.WriteFile(path, []byte(`{"format":1,"backend":"pebble","bakend":"rocksdb"}`), 0o644))
	_, _, err = ReadStore(dir)
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, "bakend")
}
