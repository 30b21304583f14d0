package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/durablelog/eventstore/backend"
	sqlite3 "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/require"
)

// TestGetEmptyValue: an empty value is found, as an empty, non-nil slice.
func TestGetEmptyValue(t *testing.T) {
	s := openKV(t, t.TempDir(), nil)
	defer s.Close()
	b := s.NewBatch()
	b.Set([]byte("k"), nil)
	require.NoError(t, b.Commit(true))
	v, found, err := s.Get([]byte("k"))
	require.NoError(t, err)
	require.True(t, found)
	require.NotNil(t, v)
	require.Empty(t, v)
	v, found, err = s.Get([]byte("nope"))
	require.NoError(t, err)
	require.False(t, found)
	require.Nil(t, v)
}

// TestSyncFailureStopsWrites: a sync whose marker write fails (the writer
// connection made read-only) fails the store: later commits, syncs and
// compactions return the first failure, Close reports it and still closes,
// and a reopen finds the batch committed before the failure.
func TestSyncFailureStopsWrites(t *testing.T) {
	dir := t.TempDir()
	s := openKV(t, dir, nil)
	b := s.NewBatch()
	b.Set([]byte("before"), []byte("1"))
	require.NoError(t, b.Commit(false)) // not yet synced: Sync has work to do

	_, err := s.w.conn.ExecContext(context.Background(), "PRAGMA query_only = ON")
	require.NoError(t, err)
	err = s.Sync()
	require.ErrorContains(t, err, "sqlite: sync in "+s.file)
	var se sqlite3.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, sqlite3.ErrReadonly, se.Code)
	require.NotErrorIs(t, err, backend.ErrCorrupt)

	for name, f := range map[string]func() error{
		"sync": s.Sync,
		"commit": func() error {
			b := s.NewBatch()
			b.Set([]byte("after"), []byte("2"))
			return b.Commit(true)
		},
		"compact": s.Compact,
	} {
		err := f()
		require.ErrorAs(t, err, &se, name)
		require.Equal(t, sqlite3.ErrReadonly, se.Code, name)
	}
	v, found, err := s.Get([]byte("before"))
	require.NoError(t, err, "reads go on")
	require.True(t, found)
	require.Equal(t, []byte("1"), v)

	err = s.Close()
	require.ErrorContains(t, err, "sqlite: close of "+s.file)
	require.ErrorAs(t, err, &se)
	require.ErrorIs(t, s.Close(), backend.ErrClosed, "closed all the same")

	s = openKV(t, dir, nil)
	defer s.Close()
	v, found, err = s.Get([]byte("before"))
	require.NoError(t, err)
	require.True(t, found, "the batch committed before the failure is recovered from the write-ahead log")
	require.Equal(t, []byte("1"), v)
	_, found, err = s.Get([]byte("after"))
	require.NoError(t, err)
	require.False(t, found)
}

// TestConnectorErrors: a connection that cannot open, or whose pragma
// fails, is an error that names the pragma; the connector's driver is
// SQLite's.
func TestConnectorErrors(t *testing.T) {
	ctx := context.Background()
	c := &connector{dsn: dsn(filepath.Join(t.TempDir(), "missing", "dir", FileName))}
	_, err := c.Connect(ctx)
	require.Error(t, err)
	c = &connector{dsn: dsn(filepath.Join(t.TempDir(), FileName)), pragmas: []string{"PRAGMA journal_mode = WAL", "PRAGMA no_such_thing = ("}}
	_, err = c.Connect(ctx)
	require.ErrorContains(t, err, "PRAGMA no_such_thing = (")
	require.Same(t, sqliteDriver, c.Driver())
}

// TestOpenDanglingLink: a store directory that is a dangling symbolic link
// reads as missing and cannot be created.
func TestOpenDanglingLink(t *testing.T) {
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(filepath.Join(t.TempDir(), "gone", "away"), link))
	_, err := Engine{}.Open(link, backend.Options{})
	require.ErrorContains(t, err, "sqlite: cannot create the store's directory")
}

// TestCheckpointCannotCreateDir: a checkpoint whose directory cannot be
// created (its parent is a dangling symbolic link) fails and leaves the
// store usable.
func TestCheckpointCannotCreateDir(t *testing.T) {
	s := openKV(t, t.TempDir(), nil)
	defer s.Close()
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(filepath.Join(t.TempDir(), "gone", "away"), link))
	err := s.Checkpoint(filepath.Join(link, "ck"))
	require.ErrorContains(t, err, "sqlite: checkpoint of "+s.file)
	require.Nil(t, s.failed.Load(), "a failed checkpoint does not fail the store")
	b := s.NewBatch()
	b.Set([]byte("k"), []byte("v"))
	require.NoError(t, b.Commit(true))
	dst := filepath.Join(t.TempDir(), "ck")
	require.NoError(t, s.Checkpoint(dst))
	require.FileExists(t, filepath.Join(dst, FileName))
}
