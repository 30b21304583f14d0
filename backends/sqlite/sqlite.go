package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/durablelog/eventstore/backend"
)

// Name is the name the engine is registered under.
const Name = "sqlite"

// FileName is the name of the database file in the store's directory.
// SQLite keeps the write-ahead log and its shared-memory index beside it, in
// FileName+"-wal" and FileName+"-shm"; all three belong to the store.
const FileName = "kv.sqlite"

func init() { backend.Register(Name, Engine{}) }

// Engine opens SQLite stores. The zero value is ready to use and safe for
// concurrent use.
type Engine struct{}

// Compile-time checks of the contract and of the optional capabilities.
var (
	_ backend.Engine       = Engine{}
	_ backend.KV           = (*kv)(nil)
	_ backend.Checkpointer = (*kv)(nil)
	_ backend.Compacter    = (*kv)(nil)
	_ backend.Namer        = (*kv)(nil)
	_ backend.BatchLimiter = (*kv)(nil)
	_ backend.Iterator     = (*iterator)(nil)
	_ backend.Batch        = (*batch)(nil)
)

// kv is an open SQLite store.
type kv struct {
	// mu guards closed: every method holds it for reading, Close for
	// writing, so Close waits for the calls in flight.
	mu     sync.RWMutex
	closed bool

	dir, file string   // the store's directory and database file, absolute
	uri       string   // the file's URI, for the driver
	pragmas   []string // the settings of every connection (Options.pragmas)
	log       *slog.Logger
	version   string // EngineVersion

	w     *writer
	rdb   *sql.DB   // the read connections
	get   *sql.Stmt // on rdb
	iterq [8]*sql.Stmt

	iters  atomic.Int64                 // open iterators
	failed atomic.Pointer[failureError] // set by a failed commit or sync
}

// fail records that a write failed with err and returns the error the
// failing call returns. The first failure is kept.
func (s *kv) fail(op string, err error) error {
	if isCorruption(err) {
		err = corruptError(op, s.file, err)
	}
	fe := &failureError{err: err}
	if !s.failed.CompareAndSwap(nil, fe) {
		fe = s.failed.Load()
	}
	s.log.Error("sqlite: a write failed; the store accepts no more writes", "op", op, "err", err)
	return fmt.Errorf("sqlite: %s in %s: %w", op, s.file, fe)
}

// Get returns a copy of the value stored under key. It runs in a read
// transaction of its own, which sees every batch whose Commit has returned.
func (s *kv) Get(key []byte) ([]byte, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, false, errClosed("get")
	}
	var v []byte
	err := s.get.QueryRowContext(ctx, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, wrap(fmt.Sprintf("get %q", key), s.file, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, true, nil
}

// NewIterator returns an iterator over [opts.Lower, opts.Upper). It runs
// its SELECT and reads the first row before it returns, so the iterator's
// read transaction, and the consistent view it gives, starts within the
// call and contains every batch committed before it. The iterator holds a
// read connection until it is closed.
func (s *kv) NewIterator(opts backend.IterOptions) (backend.Iterator, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed("new iterator")
	}
	st := s.iterq[iterVariant(opts.Lower != nil, opts.Upper != nil, opts.Reverse)]
	rows, err := st.QueryContext(ctx, iterArgs(opts)...)
	if err != nil {
		return nil, wrap("new iterator", s.file, err)
	}
	s.iters.Add(1)
	it := &iterator{s: s, rows: rows}
	it.first()
	return it, nil
}

// NewBatch returns an empty batch. After Close it still returns a batch,
// whose Commit fails with an error wrapping backend.ErrClosed.
func (s *kv) NewBatch() backend.Batch { return &batch{s: s} }

// Sync makes every committed batch durable. When a batch was committed
// without sync since the write-ahead log was last fsynced, it commits a
// one-page marker write with synchronous=FULL, whose fsync of the log covers
// every frame before it; otherwise it has nothing to do. An error fails the
// store, which then refuses every write.
func (s *kv) Sync() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed("sync")
	}
	w := s.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if fe := s.failed.Load(); fe != nil {
		return fmt.Errorf("sqlite: sync in %s: %w", s.file, fe)
	}
	if err := w.sync(); err != nil {
		return s.fail("sync", err)
	}
	return nil
}

// Close closes the store. It refuses, and the store stays open, while
// iterators are open. Otherwise it closes the read connections, copies the
// write-ahead log into the database file and truncates it (a TRUNCATE
// checkpoint, which fsyncs both files), and closes the writer connection.
// Every committed batch is then durable. A failed checkpoint is returned as
// an error; the log then stays beside the database and the next Open
// recovers from it. A second Close returns an error wrapping
// backend.ErrClosed.
func (s *kv) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed("close")
	}
	if n := s.iters.Load(); n > 0 {
		return fmt.Errorf("sqlite: close of %s refused: %d iterators are still open; close them first", s.file, n)
	}
	s.closed = true
	var errs []error
	if err := s.closeReaders(); err != nil {
		errs = append(errs, err)
	}
	w := s.w
	w.mu.Lock()
	defer w.mu.Unlock()
	fe := s.failed.Load()
	if fe == nil {
		if err := w.checkpoint(); err != nil {
			errs = append(errs, wrap("checkpoint on close", s.file, err))
		}
	} else {
		errs = append(errs, fe)
	}
	if err := w.close(); err != nil {
		errs = append(errs, wrap("close the writer connection", s.file, err))
	}
	if len(errs) == 0 {
		if err := putCleanMark(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("%w (the store is closed and intact; the next Open runs quick_check)", err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("sqlite: close of %s: %w", s.file, errors.Join(errs...))
	}
	return nil
}

// closeReaders closes the read statements and connections.
func (s *kv) closeReaders() error {
	var errs []error
	for _, st := range append([]*sql.Stmt{s.get}, s.iterq[:]...) {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return wrap("close the read connections", s.file, err)
	}
	return nil
}
