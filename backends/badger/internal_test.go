package badger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/y"
	"github.com/durablelog/eventstore/backend"
	"github.com/stretchr/testify/require"
)

// recorder is a slog.Handler that keeps the records it receives.
type recorder struct {
	level   slog.Level
	records []slog.Record
}

func (r *recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.level }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.records = append(r.records, rec)
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

func TestLogAdapterLevels(t *testing.T) {
	rec := &recorder{level: levelTrace}
	a := newLogAdapter(slog.New(rec), "/some/dir")
	a.Errorf("e %d\n", 1)
	a.Warningf("w %d", 2)
	a.Infof("i %d", 3)
	a.Debugf("d %d", 4)
	require.Len(t, rec.records, 4)
	for i, want := range []struct {
		level slog.Level
		msg   string
	}{{slog.LevelError, "e 1"}, {slog.LevelWarn, "w 2"}, {slog.LevelDebug, "i 3"}, {levelTrace, "d 4"}} {
		require.Equal(t, want.level, rec.records[i].Level)
		require.Equal(t, want.msg, rec.records[i].Message)
	}

	// Below the handler's level nothing is formatted or handled.
	rec = &recorder{level: slog.LevelInfo}
	a = newLogAdapter(slog.New(rec), "/some/dir")
	a.Infof("%v", panicky{})
	a.Debugf("%v", panicky{})
	require.Empty(t, rec.records)

	// A nil logger is tolerated.
	newLogAdapter(nil, "/d").Errorf("dropped")
}

type panicky struct{}

func (panicky) String() string { panic("formatted a disabled log record") }

// Badger's own messages reach the store's slog logger, tagged.
func TestBadgerLogsReachSlog(t *testing.T) {
	rec := &recorder{level: levelTrace}
	dir := t.TempDir()
	s, err := Engine{}.Open(dir, backend.Options{Logger: slog.New(rec).With("store", "x")})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NotEmpty(t, rec.records)
	for _, r := range rec.records {
		require.Less(t, r.Level, slog.LevelInfo, "badger's routine messages must stay below Info: %s", r.Message)
	}
}

func TestLinkedVersion(t *testing.T) {
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	require.Equal(t, testedVersion, linkedVersion(none))
	with := func(deps ...*debug.Module) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Deps: deps}, true }
	}
	require.Equal(t, testedVersion, linkedVersion(with(&debug.Module{Path: "example.com/other", Version: "v1.0.0"})))
	require.Equal(t, "v4.9.7", linkedVersion(with(&debug.Module{Path: badgerModule, Version: "v4.9.7"})))
	require.Equal(t, "v4.10.0", linkedVersion(with(&debug.Module{Path: badgerModule, Version: "v4.9.6",
		Replace: &debug.Module{Path: "example.com/fork", Version: "v4.10.0"}})))
	require.Equal(t, testedVersion, linkedVersion(with(&debug.Module{Path: badgerModule, Version: "(devel)"})))
}

func TestIsCorruption(t *testing.T) {
	for _, err := range []error{
		y.ErrChecksumMismatch,
		fmt.Errorf("wrapped: %w", y.ErrChecksumMismatch),
		errors.New("while reading block err: checksum mismatch: actual: 1, expected: 2"), // y.Wrap uses %+v
		errors.New("manifest has checksum mismatch"),
		errors.New("failed to decompress"),
		errors.New("Invalid read: Len: 3 read at:[0:9]"),
		errors.New("file does not exist for table 7"),
		y.ErrEOF,
		errUnreadableValue,
		backend.ErrCorrupt,
	} {
		require.True(t, isCorruption(err), "%v", err)
	}
	for _, err := range []error{nil, errors.New("disk full"), bdg.ErrTxnTooBig, backend.ErrClosed} {
		require.False(t, isCorruption(err), "%v", err)
	}
	err := wrapErr("/d", "read", y.ErrChecksumMismatch)
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorIs(t, err, y.ErrChecksumMismatch)
	require.True(t, strings.HasPrefix(err.Error(), "badger: read in /d: "), err.Error())
	// Already marked: not wrapped twice.
	err = wrapErr("/d", "read", fmt.Errorf("x: %w", backend.ErrCorrupt))
	require.Equal(t, 1, strings.Count(err.Error(), backend.ErrCorrupt.Error()))
	require.NoError(t, wrapErr("/d", "read", nil))
}

func TestKeyString(t *testing.T) {
	require.Equal(t, "6162", keyString([]byte("ab")))
	long := keyString(bytes.Repeat([]byte{0xab}, 100))
	require.True(t, strings.HasSuffix(long, "... (100 bytes)"), long)
	require.Len(t, long, 64+len("... (100 bytes)"))
}

func TestFsyncFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, fsyncFile(filepath.Join(dir, "gone")), "a file deleted by badger is not an error")
	p := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(p, []byte("x"), 0o600))
	require.NoError(t, fsyncFile(p))
	require.NoError(t, fsyncFile(dir))
	sock := filepath.Join(dir, "sock")
	l := listenUnix(t, sock)
	defer l.Close()
	require.ErrorContains(t, fsyncFile(sock), "badger: open "+sock+" to sync it")
}

func TestListFiles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"00009.mem", "100000.mem", "00010.mem", "000002.vlog", "1000000.vlog", "000001.sst", "MANIFEST", "x.mem", "LOCK"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o600))
	}
	f, err := listFiles(dir)
	require.NoError(t, err)
	require.Equal(t, []logName{{9, "00009.mem"}, {10, "00010.mem"}, {100000, "100000.mem"}}, f.mems)
	require.Equal(t, []logName{{2, "000002.vlog"}, {1000000, "1000000.vlog"}}, f.vlogs)
	sum := f.sum
	require.NoError(t, os.WriteFile(filepath.Join(dir, "000002.sst"), nil, 0o600))
	f, err = listFiles(dir)
	require.NoError(t, err)
	require.NotEqual(t, sum, f.sum, "a new file must change the fingerprint")

	_, err = listFiles(filepath.Join(dir, "missing"))
	require.ErrorContains(t, err, "badger: list")
}

// Sync fsyncs the WALs of memtables waiting for their flush and the rotated
// value-log files, which badger's DB.Sync does not cover.
func TestSyncCoversOlderLogs(t *testing.T) {
	dir := t.TempDir()
	store, err := Engine{}.Open(dir, backend.Options{Config: Options{MemTableSize: 1 << 20, ValueLogFileSize: 1 << 20}})
	require.NoError(t, err)
	s := store.(*kv)
	defer s.Close()
	b := s.NewBatch()
	b.Set([]byte("k"), []byte("v"))
	require.NoError(t, b.Commit(true))
	require.True(t, s.sync.dirSynced)

	// Stand-ins for an older memtable WAL and an older value-log file (empty
	// files: badger would reject them on a reopen, so they are removed).
	older := []string{filepath.Join(dir, "00000.mem"), filepath.Join(dir, "000000.vlog")}
	for _, p := range older {
		require.NoError(t, os.WriteFile(p, nil, 0o600))
	}
	s.sync.vlogFrom = 0
	s.sync.vlogDirty.Store(true)
	require.NoError(t, s.Sync())
	require.False(t, s.sync.vlogDirty.Load())
	files, err := listFiles(dir)
	require.NoError(t, err)
	require.Equal(t, files.sum, s.sync.dirSum, "the directory must have been synced with its new files")
	require.Equal(t, files.vlogs[len(files.vlogs)-1].id, s.sync.vlogFrom)

	// Files that cannot be opened (sockets: open fails with ENXIO, even for
	// root) fail the sync, and a failed value-log sync is retried by the
	// next one.
	for _, p := range older {
		require.NoError(t, os.Remove(p))
	}
	mem := listenUnix(t, older[0])
	s.sync.vlogFrom = 0
	require.ErrorContains(t, s.Sync(), "00000.mem to sync it")
	require.NoError(t, mem.Close())
	vlog := listenUnix(t, older[1])
	s.sync.vlogDirty.Store(true)
	require.ErrorContains(t, s.Sync(), "000000.vlog to sync it")
	require.True(t, s.sync.vlogDirty.Load())
	s.sync.vlogDirty.Store(false)
	require.ErrorContains(t, s.Sync(), "000000.vlog to sync it")
	require.NoError(t, vlog.Close())
	s.sync.dir = filepath.Join(dir, "missing")
	require.ErrorContains(t, s.Sync(), "badger: list")
	s.sync.vlogDirty.Store(true)
	require.ErrorContains(t, s.Sync(), "badger: list")
	require.True(t, s.sync.vlogDirty.Load())
	s.sync.dir = dir
	require.NoError(t, s.Sync())
}

// listenUnix creates a unix socket file at path; closing the listener
// removes it.
func listenUnix(t *testing.T, path string) net.Listener {
	t.Helper()
	l, err := net.Listen("unix", path)
	require.NoError(t, err)
	return l
}

func TestCheckTableErrors(t *testing.T) {
	dir := t.TempDir()
	v := newVerifier(dir, bdg.DefaultOptions(dir), slog.New(slog.DiscardHandler))
	check := func(id uint64, tm bdg.TableManifest) error {
		return v.checkListed(id, tm, record{}, time.Now()).err
	}
	require.ErrorContains(t, check(1, bdg.TableManifest{KeyID: 3}), "encrypted")

	p := filepath.Join(dir, "000002.sst")
	require.NoError(t, os.WriteFile(p, bytes.Repeat([]byte{0xff}, 4096), 0o600))
	err := check(2, bdg.TableManifest{})
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, "000002.sst")

	require.NoError(t, os.WriteFile(p, make([]byte, 4096), 0o600)) // zeroes: an empty index whose checksum matches
	err = check(2, bdg.TableManifest{})
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, "panicked")
	for _, full := range []bool{true, false} {
		err = checkTable(p, bdg.TableManifest{}, 4096, full)
		require.ErrorIs(t, err, backend.ErrCorrupt)
		require.ErrorContains(t, err, "panicked")
	}

	require.NoError(t, os.WriteFile(p, []byte{1, 2, 3}, 0o600)) // too short for a footer
	require.ErrorIs(t, check(2, bdg.TableManifest{}), backend.ErrCorrupt)
	require.NoError(t, os.WriteFile(p, nil, 0o600))
	err = check(2, bdg.TableManifest{})
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, "empty")

	err = check(4, bdg.TableManifest{})
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, "missing")

	require.NoError(t, os.Mkdir(filepath.Join(dir, "000003.sst"), 0o700))
	err = check(3, bdg.TableManifest{})
	require.ErrorContains(t, err, "not a regular file")
	require.NotErrorIs(t, err, backend.ErrCorrupt)
	err = checkTable(filepath.Join(dir, "000003.sst"), bdg.TableManifest{}, 4096, true)
	require.ErrorContains(t, err, "badger: open table")
	require.NotErrorIs(t, err, backend.ErrCorrupt)

	// An unreadable MANIFEST is reported, not taken for a new store.
	require.NoError(t, os.Mkdir(filepath.Join(dir, "MANIFEST"), 0o700))
	require.ErrorContains(t, v.atOpen(false), "MANIFEST")
}

// TestEmptyLogsAfterCrash: an empty memtable WAL or value log, as a crash
// between badger's create and size leaves, does not stop the store from
// opening, and the data survives.
func TestEmptyLogsAfterCrash(t *testing.T) {
	dir := t.TempDir()
	kv, err := Engine{}.Open(dir, backend.Options{})
	require.NoError(t, err)
	b := kv.NewBatch()
	b.Set([]byte("k"), []byte("v"))
	require.NoError(t, b.Commit(true))
	require.NoError(t, kv.Close())
	for _, name := range []string{"00042.mem", "000042.vlog"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o644))
	}
	kv, err = Engine{}.Open(dir, backend.Options{})
	require.NoError(t, err)
	defer kv.Close()
	v, ok, err := kv.Get([]byte("k"))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "v", string(v))
	require.NoError(t, removeEmptyLogs(filepath.Join(dir, "missing")))
}
