package sqlite

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/durablelog/eventstore/backend"
	sqlite3 "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/require"
)

func openKV(t *testing.T, dir string, cfg any) *kv {
	t.Helper()
	s, err := Engine{}.Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler), Config: cfg})
	require.NoError(t, err)
	return s.(*kv)
}

// rawExec runs stmts on a plain connection to file, without the store's
// settings or checks.
func rawExec(t *testing.T, file string, stmts ...string) {
	t.Helper()
	db := sql.OpenDB(&connector{dsn: dsn(file)})
	defer func() { require.NoError(t, db.Close()) }()
	for _, q := range stmts {
		_, err := db.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
}

func TestIsCorruption(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{sqlite3.Error{Code: sqlite3.ErrCorrupt}, true},
		{sqlite3.Error{Code: sqlite3.ErrNotADB}, true},
		{sqlite3.Error{Code: sqlite3.ErrCorrupt, ExtendedCode: sqlite3.ErrCorrupt.Extend(3)}, true}, // SQLITE_CORRUPT_INDEX
		{fmt.Errorf("context: %w", sqlite3.Error{Code: sqlite3.ErrNotADB}), true},
		{sqlite3.ErrCorrupt, true},
		{sqlite3.Error{Code: sqlite3.ErrIoErr, ExtendedCode: sqlite3.ErrIoErr.Extend(2)}, false},
		{sqlite3.Error{Code: sqlite3.ErrFull}, false},
		{errors.New("database disk image is malformed"), false}, // no code, no guess
		{nil, false},
	} {
		require.Equal(t, tc.want, isCorruption(tc.err), "%#v", tc.err)
	}
	err := wrap("get", "/x/kv.sqlite", sqlite3.Error{Code: sqlite3.ErrCorrupt})
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, "/x/kv.sqlite")
	var se sqlite3.Error
	require.ErrorAs(t, err, &se, "the error does not wrap SQLite's")
	require.NotErrorIs(t, wrap("get", "/x", sqlite3.Error{Code: sqlite3.ErrFull}), backend.ErrCorrupt)
}

func TestModuleVersion(t *testing.T) {
	dep := func(path, version string, replace *debug.Module) *debug.Module {
		return &debug.Module{Path: path, Version: version, Replace: replace}
	}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build info", nil, false, fallbackDriverVersion},
		{"no driver", &debug.BuildInfo{Deps: []*debug.Module{dep("example.com/x", "v1.0.0", nil)}}, true, fallbackDriverVersion},
		{"driver", &debug.BuildInfo{Deps: []*debug.Module{dep(driverModule, "v1.99.0", nil)}}, true, "v1.99.0"},
		{"replaced", &debug.BuildInfo{Deps: []*debug.Module{dep(driverModule, "v1.0.0", dep("example.com/fork", "v1.0.1-fork", nil))}}, true, "v1.0.1-fork"},
		{"replaced by a directory", &debug.BuildInfo{Deps: []*debug.Module{dep(driverModule, "v1.0.0", dep("../fork", "", nil))}}, true, "v1.0.0"},
		{"devel", &debug.BuildInfo{Deps: []*debug.Module{dep(driverModule, "(devel)", nil)}}, true, fallbackDriverVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, moduleVersion(tc.bi, tc.ok))
		})
	}
	bi, ok := debug.ReadBuildInfo()
	require.True(t, ok)
	for _, m := range bi.Deps {
		if m.Path == driverModule {
			require.Equal(t, m.Version, driverVersion())
		}
	}
}

// pragma reads one setting on the writer connection, or on a read
// connection when reader is set.
func pragma(t *testing.T, s *kv, reader bool, q string) string {
	t.Helper()
	var v string
	var err error
	if reader {
		err = s.rdb.QueryRowContext(ctx, q).Scan(&v)
	} else {
		err = s.w.conn.QueryRowContext(ctx, q).Scan(&v)
	}
	require.NoError(t, err, q)
	return v
}

func TestConnectionSettings(t *testing.T) {
	s := openKV(t, t.TempDir(), Options{CacheSize: 3 << 20, BusyTimeout: 1500e6, AutoCheckpoint: 77})
	defer func() { require.NoError(t, s.Close()) }()
	for _, reader := range []bool{false, true} {
		require.Equal(t, "wal", pragma(t, s, reader, "PRAGMA journal_mode"))
		require.Equal(t, "-3072", pragma(t, s, reader, "PRAGMA cache_size"))
		require.Equal(t, "1500", pragma(t, s, reader, "PRAGMA busy_timeout"))
		require.Equal(t, "1", pragma(t, s, reader, "PRAGMA cell_size_check"))
		require.Equal(t, fmt.Sprint(applicationID), pragma(t, s, reader, "PRAGMA application_id"))
		require.Equal(t, fmt.Sprint(formatVersion), pragma(t, s, reader, "PRAGMA user_version"))
	}
	// SQLite's automatic checkpoint, which ignores its I/O errors, is off:
	// the writer checkpoints itself (TestWriterCheckpoints).
	require.Equal(t, "0", pragma(t, s, false, "PRAGMA wal_autocheckpoint"))
	require.Equal(t, 77, s.w.checkpointPages)
	require.Equal(t, "0", pragma(t, s, false, "PRAGMA query_only"))
	require.Equal(t, "1", pragma(t, s, true, "PRAGMA query_only"))
	require.Equal(t, "4096", pragma(t, s, false, "PRAGMA page_size"))

	// Keys and values are stored as BLOBs, also when they look like text
	// or numbers.
	b := s.NewBatch()
	b.Set([]byte("12"), []byte("34"))
	b.Set([]byte("x"), nil)
	require.NoError(t, b.Commit(false))
	require.Equal(t, "blob blob", pragma(t, s, true, "SELECT group_concat(DISTINCT typeof(key)) || ' ' || group_concat(DISTINCT typeof(value)) FROM kv"))

	_, err := s.rdb.ExecContext(ctx, "DELETE FROM kv")
	require.Error(t, err, "a read connection accepted a write")
}

// walSize returns the size of the store's write-ahead log.
func walSize(t *testing.T, s *kv) int64 {
	t.Helper()
	fi, err := os.Stat(s.file + "-wal")
	require.NoError(t, err)
	return fi.Size()
}

// TestSyncLevels follows the writer's synchronous level and dirty flag
// through commits with and without sync and through Sync, and checks that
// Sync commits its marker only when there is something to make durable.
func TestSyncLevels(t *testing.T) {
	s := openKV(t, t.TempDir(), nil)
	defer func() { require.NoError(t, s.Close()) }()
	require.Equal(t, "2", pragma(t, s, false, "PRAGMA synchronous"), "Open commits the schema with FULL")
	require.False(t, s.w.dirty)

	put := func(sync bool, k string) {
		b := s.NewBatch()
		b.Set([]byte(k), []byte("v"))
		require.NoError(t, b.Commit(sync))
	}
	put(false, "a")
	require.Equal(t, "1", pragma(t, s, false, "PRAGMA synchronous"))
	require.True(t, s.w.dirty)
	before := walSize(t, s)
	require.NoError(t, s.Sync())
	require.Equal(t, "2", pragma(t, s, false, "PRAGMA synchronous"))
	require.False(t, s.w.dirty)
	require.Equal(t, before+24+4096, walSize(t, s), "Sync did not commit its one-page marker")
	require.NoError(t, s.Sync())
	require.Equal(t, before+24+4096, walSize(t, s), "a Sync with nothing to sync wrote")

	put(false, "b")
	put(true, "c")
	require.False(t, s.w.dirty, "a synced commit covers the earlier unsynced one")
	size := walSize(t, s)
	require.NoError(t, s.Sync())
	require.Equal(t, size, walSize(t, s))

	// The marker statement is prepared once; it must write every time.
	put(false, "d")
	size = walSize(t, s)
	require.NoError(t, s.NewBatch().Commit(true), "an empty synced batch syncs")
	require.False(t, s.w.dirty)
	require.Equal(t, size+24+4096, walSize(t, s), "the second marker did not write")
	require.Equal(t, fmt.Sprint(formatVersion), pragma(t, s, true, "PRAGMA user_version"), "the marker changed the format version")
}

// TestFailedStore makes a commit fail (the database may not grow: SQLITE_FULL)
// and checks that the store then refuses writes, still reads, and that a
// reopen recovers every batch committed before the failure.
func TestFailedStore(t *testing.T) {
	dir := t.TempDir()
	s := openKV(t, dir, nil)
	b := s.NewBatch()
	b.Set([]byte("before"), []byte("1"))
	require.NoError(t, b.Commit(false))
	pages := pragma(t, s, false, "PRAGMA page_count")
	_, err := s.w.conn.ExecContext(ctx, "PRAGMA max_page_count = "+pages)
	require.NoError(t, err)

	b = s.NewBatch()
	for i := range 100 {
		b.Set(fmt.Appendf(nil, "big%03d", i), bytes.Repeat([]byte{1}, 1000))
	}
	err = b.Commit(true)
	require.Error(t, err)
	var se sqlite3.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, sqlite3.ErrFull, se.Code)
	require.ErrorContains(t, err, "accepts no more writes")
	require.NotErrorIs(t, err, backend.ErrCorrupt)

	b = s.NewBatch()
	b.Set([]byte("after"), []byte("2"))
	require.ErrorContains(t, b.Commit(false), "accepts no more writes")
	require.ErrorContains(t, s.Sync(), "accepts no more writes")
	require.ErrorContains(t, s.Compact(), "accepts no more writes")
	v, ok, err := s.Get([]byte("before"))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "1", string(v))
	_, ok, err = s.Get([]byte("big000"))
	require.NoError(t, err)
	require.False(t, ok, "the failed batch is partly visible")

	require.ErrorContains(t, s.Close(), "accepts no more writes")
	require.ErrorIs(t, s.Close(), backend.ErrClosed)

	s = openKV(t, dir, nil)
	defer func() { require.NoError(t, s.Close()) }()
	v, ok, err = s.Get([]byte("before"))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "1", string(v))
	_, ok, err = s.Get([]byte("big000"))
	require.NoError(t, err)
	require.False(t, ok)
}

// TestLengthLimit checks the limit MaxBatchSize reports against the SQLite
// library the store runs on, without allocating it.
func TestLengthLimit(t *testing.T) {
	s := openKV(t, t.TempDir(), nil)
	defer func() { require.NoError(t, s.Close()) }()
	var n int64
	require.NoError(t, s.w.conn.QueryRowContext(ctx, "SELECT length(zeroblob(?))", maxLength).Scan(&n))
	require.EqualValues(t, maxLength, n)
	err := s.w.conn.QueryRowContext(ctx, "SELECT length(zeroblob(?))", maxLength+1).Scan(&n)
	code, ok := resultCode(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, 18, code, "want SQLITE_TOOBIG: %v", err) // SQLITE_TOOBIG
}

func TestForeignDatabase(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, FileName)
	rawExec(t, file, "CREATE TABLE other (x)")
	_, err := Engine{}.Open(dir, backend.Options{})
	require.ErrorContains(t, err, "not an eventstore store")
	require.NotErrorIs(t, err, backend.ErrCorrupt)
}

func TestDamagedSchema(t *testing.T) {
	for name, tc := range map[string]struct {
		stmts []string
		want  string
	}{
		"missing table": {[]string{"DROP TABLE kv"}, "kv table is missing"},
		"other table":   {[]string{"DROP TABLE kv", "CREATE TABLE kv (key, value)"}, "definition"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, openKV(t, dir, nil).Close())
			rawExec(t, filepath.Join(dir, FileName), tc.stmts...)
			_, err := Engine{}.Open(dir, backend.Options{})
			require.ErrorIs(t, err, backend.ErrCorrupt)
			require.ErrorContains(t, err, tc.want)
			require.ErrorContains(t, err, filepath.Join(dir, FileName))
		})
	}
}

func TestNewerFormat(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, openKV(t, dir, nil).Close())
	rawExec(t, filepath.Join(dir, FileName), "PRAGMA user_version = 2")
	_, err := Engine{}.Open(dir, backend.Options{})
	require.ErrorContains(t, err, "format version 2")
	require.NotErrorIs(t, err, backend.ErrCorrupt)
}

// TestWriterCheckpoints: with SQLite's automatic checkpoint off, the writer
// copies the log into the database file itself once Options.AutoCheckpoint
// pages were committed, while the store is open.
func TestWriterCheckpoints(t *testing.T) {
	dir := t.TempDir()
	s := openKV(t, dir, Options{AutoCheckpoint: 8})
	defer func() { require.NoError(t, s.Close()) }()
	before, err := os.Stat(s.file)
	require.NoError(t, err)
	value := bytes.Repeat([]byte{7}, 6000)
	for i := range 100 {
		b := s.NewBatch()
		b.Set(fmt.Appendf(nil, "k%03d", i), value)
		require.NoError(t, b.Commit(i%2 == 0))
	}
	after, err := os.Stat(s.file)
	require.NoError(t, err)
	require.Greater(t, after.Size(), before.Size()+50*6000, "the committed pages reached the database file while the store was open")
}
