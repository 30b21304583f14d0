package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
)

// Checkpoint writes a consistent, openable copy of the store into dir, which
// must not exist yet, while the store stays open. It implements
// backend.Checkpointer with VACUUM INTO, run on a connection of its own
// (VACUUM INTO counts as a write, which the query-only read connections
// refuse, and the writer connection must stay free for commits): the copy
// is a new, compacted database file, dir/FileName, made from one read
// transaction, so it contains every batch committed before the call, also
// those committed without sync, and no half of any batch. Commits go on
// meanwhile. SQLite does not fsync the file VACUUM INTO writes; Checkpoint
// fsyncs it, dir, and the parent of every directory it created before it
// returns. On an error it removes dir again.
func (s *kv) Checkpoint(dir string) (err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed("checkpoint")
	}
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("sqlite: checkpoint of %s into %s: %w; choose a directory that does not exist yet", s.file, dir, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sqlite: checkpoint of %s: %w", s.file, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("sqlite: checkpoint of %s: %w", s.file, err)
	}
	if err := mkdirSynced(abs); err != nil {
		return fmt.Errorf("sqlite: checkpoint of %s: %w", s.file, err)
	}
	defer func() {
		if err != nil {
			if rerr := os.RemoveAll(abs); rerr != nil {
				err = errors.Join(err, fmt.Errorf("sqlite: remove the unfinished checkpoint: %w", rerr))
			}
		}
	}()
	dest := filepath.Join(abs, FileName)
	if err := s.vacuumInto(dest); err != nil {
		return wrap("checkpoint into "+dest, s.file, err)
	}
	if err := syncFile(dest); err != nil {
		return fmt.Errorf("sqlite: checkpoint of %s: %w", s.file, err)
	}
	if err := syncDir(abs); err != nil {
		return fmt.Errorf("sqlite: checkpoint of %s: %w", s.file, err)
	}
	return nil
}

// vacuumInto writes a copy of the database into the new file dest, on a
// connection opened for it.
func (s *kv) vacuumInto(dest string) error {
	db := sql.OpenDB(&connector{dsn: s.uri, pragmas: s.pragmas})
	_, err := db.ExecContext(ctx, "VACUUM INTO ?", dest)
	return errors.Join(err, db.Close())
}

// syncFile fsyncs the file at path.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return errors.Join(fmt.Errorf("fsync %s: %w", path, err), f.Close())
	}
	return f.Close()
}

// Compact compacts the whole key space and returns when it is done. It
// implements backend.Compacter: VACUUM rebuilds the database into a new
// file without free pages, with every b-tree packed, and a TRUNCATE
// checkpoint then copies the result out of the write-ahead log, shrinks the
// database file and empties the log. Commits wait meanwhile, and the
// database needs up to twice its size on disk. Compact fails, and the store
// stays usable, when open iterators keep the checkpoint from finishing
// within Options.BusyTimeout; a failure of VACUUM or of the checkpoint's
// writes fails the store, as a failed commit does.
func (s *kv) Compact() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed("compact")
	}
	w := s.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if fe := s.failed.Load(); fe != nil {
		return fmt.Errorf("sqlite: compact in %s: %w", s.file, fe)
	}
	if _, err := w.conn.ExecContext(ctx, "VACUUM"); err != nil {
		return s.fail("compact (vacuum)", err)
	}
	w.dirty = true // VACUUM committed with the connection's level
	var busy *busyError
	switch err := w.checkpoint(); {
	case errors.As(err, &busy):
		return fmt.Errorf("sqlite: compact of %s: %w", s.file, err)
	case err != nil:
		return s.fail("compact (checkpoint)", err)
	}
	w.dirty = false
	return nil
}

// EngineVersion reports the SQLite library and the driver, for example
// "sqlite 3.54.1 (github.com/mattn/go-sqlite3 v1.14.53)". It implements
// backend.Namer.
func (s *kv) EngineVersion() string { return s.version }

// maxLength is SQLITE_MAX_LENGTH, the largest string or BLOB, and the
// largest row record, that SQLite stores: 1,000,000,000 bytes, the
// compile-time default, which the driver keeps.
const maxLength = 1_000_000_000

// MaxBatchSize implements backend.BatchLimiter. SQLite has no limit on a
// transaction, but a row larger than maxLength fails with SQLITE_TOOBIG.
// Capping the batch (keys, values and 16 bytes per write, which covers a
// row's header) at maxLength caps every row with it, so the event store
// rejects an oversized append before it reaches the engine instead of
// failing the store with a commit error.
func (s *kv) MaxBatchSize() int64 { return maxLength }

// MaxBatchCount implements backend.BatchLimiter: SQLite has no limit on the
// number of writes in a transaction, so it returns math.MaxInt64.
func (s *kv) MaxBatchCount() int64 { return math.MaxInt64 }

// driverVersion returns the version of the driver module linked into the
// binary, from its build information.
var driverVersion = sync.OnceValue(func() string {
	return moduleVersion(debug.ReadBuildInfo())
})

// moduleVersion finds the driver's version in build information.
func moduleVersion(bi *debug.BuildInfo, ok bool) string {
	if !ok {
		return fallbackDriverVersion
	}
	for _, m := range bi.Deps {
		if m.Path != driverModule {
			continue
		}
		if m.Replace != nil && m.Replace.Version != "" {
			return m.Replace.Version
		}
		if m.Version != "" && m.Version != "(devel)" {
			return m.Version
		}
	}
	return fallbackDriverVersion
}

// engineVersion formats the EngineVersion of a store on SQLite lib.
func engineVersion(lib string) string {
	return fmt.Sprintf("sqlite %s (%s %s)", lib, driverModule, driverVersion())
}
