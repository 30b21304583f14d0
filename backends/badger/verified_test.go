package badger

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRecordEncoding(t *testing.T) {
	rec := record{
		7:  {dev: 2049, ino: 1234, size: 2 << 20, mtime: 1_700_000_000_123_456_789, ctime: 1_700_000_000_223_456_789},
		12: {dev: 2049, ino: 99, size: 4096, mtime: -1, ctime: 5},
	}
	data := encodeRecord(rec)
	got, err := decodeRecord(data)
	require.NoError(t, err)
	require.Equal(t, rec, got)

	empty, err := decodeRecord(encodeRecord(record{}))
	require.NoError(t, err)
	require.Empty(t, empty)

	// Every flipped byte and every cut is detected.
	for i := range data {
		bad := append([]byte(nil), data...)
		bad[i] ^= 0x10
		_, err := decodeRecord(bad)
		require.ErrorIs(t, err, errBadRecord, "byte %d", i)
	}
	for n := range len(data) {
		_, err := decodeRecord(data[:n])
		require.ErrorIs(t, err, errBadRecord, "cut at %d", n)
	}
	_, err = decodeRecord(append(data, 0))
	require.ErrorIs(t, err, errBadRecord)
}

func TestRecordFile(t *testing.T) {
	dir := t.TempDir()
	rec, err := readRecord(dir)
	require.NoError(t, err, "a missing record is an empty one")
	require.Empty(t, rec)

	rec = record{3: {ino: 1, size: 10}}
	require.NoError(t, writeRecord(dir, rec))
	got, err := readRecord(dir)
	require.NoError(t, err)
	require.Equal(t, rec, got)

	tmp := filepath.Join(dir, "."+verifiedFile+".tmp42")
	require.NoError(t, os.WriteFile(tmp, []byte("torn"), 0o600))
	require.NoError(t, removeRecordTemps(dir))
	require.NoFileExists(t, tmp)
	require.FileExists(t, filepath.Join(dir, verifiedFile))

	require.NoError(t, os.Remove(filepath.Join(dir, verifiedFile)))
	require.NoError(t, os.Mkdir(filepath.Join(dir, verifiedFile), 0o700))
	_, err = readRecord(dir)
	require.ErrorIs(t, err, errBadRecord)
	require.ErrorContains(t, writeRecord(dir, rec), "badger: write the record of verified tables")
}

func TestFingerprintSettled(t *testing.T) {
	now := time.Unix(1_700_000_000, 500_000_000)
	at := func(d time.Duration) int64 { return now.Add(-d).UnixNano() }
	fine := func(d time.Duration) fingerprint { return fingerprint{mtime: at(d + time.Hour), ctime: at(d)} }
	require.True(t, fine(settleAge).settled(now))
	require.True(t, fine(time.Hour).settled(now))
	require.False(t, fine(settleAge-time.Millisecond).settled(now))
	require.False(t, fine(-time.Second).settled(now), "a time after now")
	require.False(t, fingerprint{ctime: at(time.Hour), mtime: at(0)}.settled(now), "the newer time counts")

	// Whole-second times: a file system with coarse timestamps.
	sec := now.Truncate(time.Second).Add(-time.Second).UnixNano()
	require.False(t, fingerprint{mtime: sec, ctime: sec}.settled(now))
	require.True(t, fingerprint{mtime: sec, ctime: sec}.settled(now.Add(settleAgeCoarse)))

	// A real file: its fingerprint changes when its content does.
	if runtime.GOOS != "linux" {
		t.Skip("fingerprints are not usable outside Linux")
	}
	p := filepath.Join(t.TempDir(), "000001.sst")
	require.NoError(t, os.WriteFile(p, []byte("abc"), 0o600))
	fp, usable, err := statTable(p)
	require.NoError(t, err)
	require.True(t, usable)
	require.Equal(t, int64(3), fp.size)
	require.NotZero(t, fp.ino)
	require.NoError(t, os.Rename(p, p+".old"))
	require.NoError(t, os.WriteFile(p, []byte("abc"), 0o600)) // same content and size, another file
	fp2, _, err := statTable(p)
	require.NoError(t, err)
	require.NotEqual(t, fp, fp2)
}
