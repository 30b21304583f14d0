// Package pebble is an eventstore engine backed by CockroachDB's Pebble
// (github.com/cockroachdb/pebble/v2), a log-structured merge-tree key-value
// store written in Go. Importing it registers the engine "pebble".
//
// # Durability
//
// Every batch is appended to Pebble's write-ahead log (WAL) before Commit
// returns; this package never disables the WAL.
//
//   - Commit(sync=true) is pebble.Batch.Commit(pebble.Sync): the WAL, up to
//     and including the batch, is written and fsynced before Commit returns,
//     so the batch survives a power loss. Concurrent commits share an fsync
//     (Pebble's commit pipeline groups them).
//   - Commit(sync=false) is, by default, also pebble.Sync. The contract
//     requires such a batch to survive a crash of the process, and Pebble has
//     no mode that writes the WAL to the operating system without an fsync:
//     pebble.NoSync leaves the batch in an in-process WAL buffer (up to one
//     32 KiB block) until a later sync, a full block or Close, and a process
//     crash loses it (see cockroachdb/pebble#2624). A batch committed without
//     sync therefore gets the guarantee of sync=true, which is stronger than
//     the contract asks, at the cost of an fsync.
//   - With Options.NoSyncBuffered, Commit(sync=false) is
//     pebble.Batch.Commit(pebble.NoSync): it returns once the batch is in the
//     memtable and in the in-process WAL buffer. A process crash or a power
//     loss before the next Sync, Commit(sync=true) or Close may lose it (and
//     every later batch; the batches that survive are a prefix of the commit
//     order). This is weaker than backend.Batch's contract; use it only for
//     data you can afford to lose.
//   - Sync appends an empty record to the WAL with pebble.Sync
//     (DB.LogData(nil, pebble.Sync)), which writes and fsyncs the WAL up to
//     that record and therefore every batch committed before it. It does not
//     flush memtables to sstables.
//   - Close writes out and fsyncs the WAL, so every committed batch survives
//     a clean Close followed by a power loss.
//
// A batch is atomic: after a crash, either all of its writes are present or
// none is.
//
// # Corruption
//
// Open fails with an error wrapping backend.ErrCorrupt when Pebble finds its
// MANIFEST or a WAL damaged. Pebble cannot tell damage in the last 32 KiB
// block of the newest WAL from a write torn by a crash: it then replays the
// WAL up to the damage and drops the rest, as after a crash. Damage in an
// sstable is found when the damaged block is read: Get and iterators return
// errors wrapping backend.ErrCorrupt that name the directory and the damaged
// file, and the damage is logged at slog.LevelError.
//
// # Fatal errors
//
// Pebble reports errors it cannot recover from, such as a failed WAL write or
// fsync, through its Logger's Fatalf and expects Fatalf not to return. The
// default logger of this package logs them at slog.LevelError and panics. When
// that happens inside Commit or Sync, the panic is recovered and returned as
// an error, and the KV refuses every later write: close it and reopen the
// directory (after a restart of the process, to be safe) to recover from the
// WAL. In Pebble's background goroutines (flushes, compactions) the panic
// ends the process, as Pebble's own default logger would.
//
// # Configuration
//
// Pass Options (or *Options) as backend.Options.Config, for example through
// eventstore.WithBackendConfig; nil selects the defaults. Tests can keep a
// store in memory with Options{FS: vfs.NewMem()}; dir then names the path
// inside that file system.
package pebble

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	cpebble "github.com/cockroachdb/pebble/v2"
	"github.com/durablelog/eventstore/backend"
)

// Name is the name the engine is registered under.
const Name = "pebble"

func init() { backend.Register(Name, Engine{}) }

// Engine opens Pebble stores. The zero value is ready to use and safe for
// concurrent use.
type Engine struct{}

// Compile-time checks of the contract and of the optional capabilities.
var (
	_ backend.Engine       = Engine{}
	_ backend.KV           = (*kv)(nil)
	_ backend.Checkpointer = (*kv)(nil)
	_ backend.Compacter    = (*kv)(nil)
	_ backend.Namer        = (*kv)(nil)
	_ backend.Iterator     = (*iterator)(nil)
	_ backend.Batch        = (*batch)(nil)
	_ cpebble.Logger       = (*slogLogger)(nil)
)

// Open opens the Pebble store in dir, creating it when dir holds none, and
// replays its WAL before it returns. opts.Config must be nil, Options or
// *Options; Open copies it and never modifies it.
//
// Open fails when dir exists and is not a directory, when another Pebble
// instance holds dir's lock, and, with an error wrapping backend.ErrCorrupt
// that names dir, when Pebble detects damaged files (MANIFEST, WAL, ...).
// Damage inside an sstable is usually detected only when it is read; reads
// then return errors wrapping backend.ErrCorrupt.
func (Engine) Open(dir string, opts backend.Options) (backend.KV, error) {
	cfg, err := configFrom(opts.Config)
	if err != nil {
		return nil, err
	}
	po, err := cfg.pebbleOptions(dir, opts.Logger)
	if err != nil {
		return nil, err
	}
	if fi, err := po.FS.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("pebble: cannot open store: %s is not a directory; pass the directory that holds (or will hold) the store's files", dir)
	}
	db, err := openDB(dir, po)
	if err != nil {
		if cpebble.IsCorruptionError(err) {
			return nil, corruptError("cannot open store", dir, err)
		}
		return nil, fmt.Errorf("pebble: cannot open store in %s: %w", dir, err)
	}
	return &kv{
		db:             db,
		dir:            dir,
		version:        engineVersion(db.FormatMajorVersion()),
		noSyncBuffered: cfg.NoSyncBuffered,
	}, nil
}

// openDB is pebble.Open with the fatal-error panic of slogLogger turned into
// an error.
func openDB(dir string, po *cpebble.Options) (db *cpebble.DB, err error) {
	defer catchFatal(&err)
	return cpebble.Open(dir, po)
}

// kv is an open Pebble store.
type kv struct {
	// mu guards closed: every method holds it for reading, Close for
	// writing, so Close waits for the calls in flight.
	mu     sync.RWMutex
	closed bool

	db             *cpebble.DB
	dir            string
	version        string // EngineVersion
	noSyncBuffered bool   // Options.NoSyncBuffered

	iters  atomic.Int64                 // open iterators
	failed atomic.Pointer[failureError] // set by a fatal error in Commit or Sync
}

// failureError is what every write returns once a fatal error has hit the
// commit pipeline.
type failureError struct{ err error }

func (e *failureError) Error() string {
	return fmt.Sprintf("pebble: the store failed and accepts no more writes (%v); batches whose Commit failed may or may not be applied: close the store and reopen the directory, preferably in a new process, to recover from the write-ahead log", e.err)
}

func (e *failureError) Unwrap() error { return e.err }

// errClosed returns the error of a method called after Close.
func errClosed(op string) error {
	return fmt.Errorf("pebble: %s: %w", op, backend.ErrClosed)
}

// wrap annotates an error of Pebble with the operation and the directory. A
// corruption error wraps backend.ErrCorrupt as well.
func (s *kv) wrap(op string, err error) error {
	if cpebble.IsCorruptionError(err) {
		return corruptError(op, s.dir, err)
	}
	return fmt.Errorf("pebble: %s in %s: %w", op, s.dir, err)
}

// corruptError returns the error for a corruption err that Pebble found
// during op on the store in dir. It wraps backend.ErrCorrupt and err, and
// names the damaged file when Pebble reports it.
func corruptError(op, dir string, err error) error {
	detail, where := err.Error(), ""
	if info := cpebble.ExtractDataCorruptionInfo(err); info != nil {
		where = " in " + info.Path
		if info.Details != nil {
			detail = info.Details.Error() // err without the detail carrier
		}
	}
	return &multiError{
		msg: fmt.Sprintf("pebble: %s: store in %s is damaged: %v%s: %s; restore the directory from a backup or a checkpoint",
			op, dir, backend.ErrCorrupt, where, detail),
		errs: []error{backend.ErrCorrupt, err},
	}
}

// multiError is an error with its own message that wraps several errors.
type multiError struct {
	msg  string
	errs []error
}

func (e *multiError) Error() string   { return e.msg }
func (e *multiError) Unwrap() []error { return e.errs }

// fail records a fatal error of the commit pipeline and returns the error
// the failing call returns.
func (s *kv) fail(op string, err error) error {
	fe := &failureError{err: err}
	s.failed.CompareAndSwap(nil, fe)
	return fmt.Errorf("pebble: %s in %s: %w", op, s.dir, fe)
}

// Get returns a copy of the value stored under key. It sees every batch whose
// Commit has returned.
func (s *kv) Get(key []byte) ([]byte, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, false, errClosed("get")
	}
	v, closer, err := s.db.Get(key)
	if errors.Is(err, cpebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, s.wrap(fmt.Sprintf("get %q", key), err)
	}
	out := append([]byte{}, v...)
	if err := closer.Close(); err != nil {
		return nil, false, s.wrap(fmt.Sprintf("get %q", key), err)
	}
	return out, true, nil
}

// NewIterator returns an iterator over [opts.Lower, opts.Upper) on a
// consistent view that contains every batch committed before the call.
func (s *kv) NewIterator(opts backend.IterOptions) (backend.Iterator, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed("new iterator")
	}
	// Pebble keeps the bounds; copy them so the caller may reuse its slices.
	pit, err := s.db.NewIter(&cpebble.IterOptions{
		LowerBound: bytes.Clone(opts.Lower),
		UpperBound: bytes.Clone(opts.Upper),
	})
	if err != nil {
		return nil, s.wrap("new iterator", err)
	}
	s.iters.Add(1)
	return &iterator{s: s, it: pit, reverse: opts.Reverse}, nil
}

// NewBatch returns an empty batch. After Close it still returns a batch,
// whose Commit fails with an error wrapping backend.ErrClosed.
func (s *kv) NewBatch() backend.Batch {
	return &batch{s: s, b: s.db.NewBatch()}
}

// Sync makes every committed batch durable: it appends an empty record to the
// WAL with pebble.Sync, which fsyncs the WAL up to that record.
func (s *kv) Sync() (err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed("sync")
	}
	if fe := s.failed.Load(); fe != nil {
		return fmt.Errorf("pebble: sync in %s: %w", s.dir, fe)
	}
	err = func() (err error) {
		defer catchFatal(&err)
		return s.db.LogData(nil, cpebble.Sync)
	}()
	if isFatal(err) {
		return s.fail("sync", err)
	}
	if err != nil {
		return s.wrap("sync", err)
	}
	return nil
}

// Close closes the store: it writes out and fsyncs the WAL and releases the
// directory's lock. It refuses, and the store stays open, while iterators
// are open. A second Close returns an error wrapping backend.ErrClosed.
func (s *kv) Close() (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed("close")
	}
	if n := s.iters.Load(); n > 0 {
		return fmt.Errorf("pebble: close of %s refused: %d iterators are still open; close them first", s.dir, n)
	}
	s.closed = true
	err = func() (err error) {
		defer catchFatal(&err)
		return s.db.Close()
	}()
	if fe := s.failed.Load(); fe != nil {
		return fmt.Errorf("pebble: close of %s: %w", s.dir, errors.Join(fe, err))
	}
	if err != nil {
		return s.wrap("close", err)
	}
	return nil
}
