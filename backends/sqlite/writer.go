package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// The statements of the writer connection, prepared once at Open.
const (
	sqlBegin    = "BEGIN IMMEDIATE"
	sqlCommit   = "COMMIT"
	sqlRollback = "ROLLBACK"
	sqlSet      = "INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)"
	sqlDelete   = "DELETE FROM kv WHERE key = ?"
	// SQLite applies PRAGMA synchronous when it compiles the statement,
	// not when it runs it: these two are executed afresh every time, never
	// prepared once.
	sqlFull   = "PRAGMA synchronous = FULL"
	sqlNormal = "PRAGMA synchronous = NORMAL"
	// sqlMarker rewrites the format version in the database header. The
	// value never changes, but the write dirties page 1, so the commit of
	// the statement appends a frame to the WAL and, with synchronous=FULL,
	// fsyncs it: Sync's way of making earlier commits durable through
	// SQLite itself. See "Durability" in doc.go.
	sqlMarker = "PRAGMA user_version = 1"
)

// writer is the store's single writer connection. Every write goes through
// it, under mu, so SQLite never sees two writers and never returns
// SQLITE_BUSY to a commit.
type writer struct {
	mu   sync.Mutex
	db   *sql.DB   // a pool that holds just conn
	conn *sql.Conn // the connection, held from Open to Close
	file string

	begin, commit, rollback, set, del, marker *sql.Stmt

	// isFull is the connection's current synchronous level: FULL or
	// NORMAL. Commit switches it only when a commit needs the other one.
	isFull bool
	// dirty is set by a commit with synchronous=NORMAL and cleared by any
	// commit with FULL, whose fsync of the WAL covers every frame before it.
	dirty bool

	// checkpointPages is Options.AutoCheckpoint: the log size, in pages,
	// beyond which a commit also checkpoints. walPages estimates the pages
	// committed to the log since the last checkpoint.
	checkpointPages int
	walPages        int
}

// pageSize is SQLite's default page size, which the store keeps; it only
// turns committed bytes into an estimate of log pages.
const pageSize = 4096

// ctx is the context of every database call: the store's operations have no
// deadline, and a nil Done channel spares the driver a watcher goroutine.
var ctx = context.Background()

// prepareControl prepares the statements that need no table: transactions
// and the marker.
func (w *writer) prepareControl() error {
	return w.prepare(map[**sql.Stmt]string{
		&w.begin: sqlBegin, &w.commit: sqlCommit, &w.rollback: sqlRollback,
		&w.marker: sqlMarker,
	})
}

// prepareWrites prepares the writes, once the kv table exists.
func (w *writer) prepareWrites() error {
	return w.prepare(map[**sql.Stmt]string{&w.set: sqlSet, &w.del: sqlDelete})
}

// prepare prepares statements on the writer's connection.
func (w *writer) prepare(stmts map[**sql.Stmt]string) error {
	for st, q := range stmts {
		p, err := w.conn.PrepareContext(ctx, q)
		if err != nil {
			return wrap("prepare "+q, w.file, err)
		}
		*st = p
	}
	return nil
}

// setLevel sets the connection's synchronous level for the next commit.
func (w *writer) setLevel(full bool) error {
	if w.isFull == full {
		return nil
	}
	q := sqlNormal
	if full {
		q = sqlFull
	}
	if _, err := w.conn.ExecContext(ctx, q); err != nil {
		return err
	}
	w.isFull = full
	return nil
}

// apply commits ops in one transaction, with synchronous=FULL when sync is
// set. On an error it rolls the transaction back if SQLite left it open.
// The caller holds mu.
func (w *writer) apply(ops []op, buf []byte, sync bool) error {
	if err := w.setLevel(sync); err != nil {
		return fmt.Errorf("set synchronous: %w", err)
	}
	if _, err := w.begin.ExecContext(ctx); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	for i, o := range ops {
		var err error
		if o.del {
			_, err = w.del.ExecContext(ctx, o.key(buf))
		} else {
			_, err = w.set.ExecContext(ctx, o.key(buf), o.value(buf))
		}
		if err != nil {
			return w.abort(fmt.Errorf("write %d of %d: %w", i+1, len(ops), err))
		}
	}
	if _, err := w.commit.ExecContext(ctx); err != nil {
		return w.abort(fmt.Errorf("commit: %w", err))
	}
	w.dirty = !sync
	n := 0
	if len(ops) > 0 {
		n = ops[len(ops)-1].v1 - ops[0].k0 // the keys and values, back to back in buf
	}
	return w.autoCheckpoint(1 + n/pageSize)
}

// autoCheckpoint counts pages committed to the log and, beyond
// checkpointPages, copies the log into the database file with PRAGMA
// wal_checkpoint(PASSIVE), which fsyncs the log before it copies and the
// database file after. It replaces SQLite's automatic checkpoint, which
// runs inside a commit and ignores its own errors: a failed fsync of the
// log there would go unseen, the kernel may have dropped the pages it
// failed to write, and a later fsync that succeeds would not bring them
// back. Here any error fails the commit, and with it the store. Readers
// holding old views make the checkpoint copy less; it does not wait for
// them. The caller holds mu.
func (w *writer) autoCheckpoint(pages int) error {
	w.walPages += pages
	if w.walPages < w.checkpointPages {
		return nil
	}
	w.walPages = 0
	if _, err := w.walCheckpoint("PASSIVE"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// abort rolls back the open transaction after err, if SQLite has not
// already done so, and returns err with any rollback error joined.
func (w *writer) abort(err error) error {
	_, rerr := w.rollback.ExecContext(ctx)
	if rerr != nil && !isNoTransaction(rerr) {
		return errors.Join(err, fmt.Errorf("rollback: %w", rerr))
	}
	return err
}

// isNoTransaction reports whether err is SQLite's complaint about a
// ROLLBACK without a transaction: SQLite rolls back by itself after some
// errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM, ...).
func isNoTransaction(err error) bool {
	code, ok := resultCode(err)
	return ok && code == codeError && strings.Contains(err.Error(), "no transaction is active")
}

// sync makes every committed batch durable: when a batch was committed with
// synchronous=NORMAL since the last fsync of the WAL, it commits the marker
// write with synchronous=FULL, whose fsync of the WAL covers every frame
// before it. The caller holds mu.
func (w *writer) sync() error {
	if !w.dirty {
		return nil
	}
	if err := w.setLevel(true); err != nil {
		return fmt.Errorf("set synchronous: %w", err)
	}
	if _, err := w.marker.ExecContext(ctx); err != nil {
		return fmt.Errorf("commit the sync marker: %w", err)
	}
	w.dirty = false
	return w.autoCheckpoint(1)
}

// checkpoint copies the WAL into the database file and truncates it
// (PRAGMA wal_checkpoint(TRUNCATE)). It returns an error when readers kept
// it from finishing within the busy timeout.
func (w *writer) checkpoint() error {
	b, err := w.walCheckpoint("TRUNCATE")
	if err == nil && b != nil {
		return b
	}
	return err
}

// walCheckpoint runs PRAGMA wal_checkpoint in mode (PASSIVE or TRUNCATE)
// and returns its error, or a *busyError when readers kept it from copying
// the whole log.
func (w *writer) walCheckpoint(mode string) (*busyError, error) {
	var busy, logPages, done int
	if err := w.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &logPages, &done); err != nil {
		return nil, err
	}
	if busy != 0 {
		return &busyError{pending: logPages - done, total: logPages}, nil
	}
	return nil, nil
}

// close closes the statements and the connection, and returns the first
// error.
func (w *writer) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{w.begin, w.commit, w.rollback, w.set, w.del, w.marker} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if w.conn != nil {
		errs = append(errs, w.conn.Close())
		w.conn = nil
	}
	if w.db != nil {
		errs = append(errs, w.db.Close())
	}
	return errors.Join(errs...)
}
