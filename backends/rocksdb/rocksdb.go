// Package rocksdb is the eventstore engine backed by RocksDB, through the
// cgo binding github.com/linxGnu/grocksdb. Importing it registers the engine
// "rocksdb". It needs the RocksDB shared library and headers at build time
// (Debian and Ubuntu: librocksdb-dev); it is tested with RocksDB 7.8.3.
//
// A store is one RocksDB database, with only the default column family, in
// the directory the event store gives to Open. Configure it by passing an
// Options as backend.Options.Config.
//
// # Durability
//
// Every write goes through RocksDB's write-ahead log (WAL); the WAL is never
// disabled.
//
//   - Batch.Commit(true) writes the batch with WriteOptions.sync=true:
//     RocksDB appends the batch to the WAL and syncs the WAL file to stable
//     storage (fdatasync; also fsync of the directory the first time a new
//     WAL file is synced) before Commit returns. The batch survives a power
//     cut.
//   - Batch.Commit(false) writes the batch with WriteOptions.sync=false:
//     RocksDB appends the batch to the WAL file with write(2) before Commit
//     returns (the WAL is not buffered in the process, manual_wal_flush is
//     off), so it survives a crash of the process. It is in the operating
//     system's page cache only, and a power cut or a kernel crash can lose
//     it, together with the batches committed after it.
//   - KV.Sync calls DB::FlushWAL(true), which writes out any buffered WAL
//     data and syncs every live WAL file, making every batch committed so
//     far durable, synced or not. Data already moved from the WAL into
//     table files is durable anyway: RocksDB syncs table files and its
//     MANIFEST when it writes them.
//   - KV.Close syncs the WAL the same way before it closes the database,
//     and returns the error if that fails.
//
// # Integrity
//
// Paranoid checks are on by default (see Options.DisableParanoidChecks):
// RocksDB checks the files of the store when it opens it, and stops
// accepting writes after a failed write or background error instead of
// carrying on. Every read verifies the checksums of the blocks it reads
// (ReadOptions.verify_checksums), so damaged data makes Get, or the
// iterator's Err, return an error wrapping backend.ErrCorrupt that names
// the directory and, as RocksDB reports it, the file.
//
// When Open replays the WAL and finds a damaged record, it follows
// Options.WALRecoveryMode. The default, WALRecoveryPointInTime, opens the
// store as it was just before the damaged record (losing only writes a
// power cut interrupted, and what came after them);
// WALRecoveryAbsoluteConsistency refuses to open, with an error wrapping
// backend.ErrCorrupt.
//
// # Files
//
// Besides its data, RocksDB writes a diagnostic log, named LOG, into the
// store's directory, and keeps the 10 previous ones.
package rocksdb

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/durablelog/eventstore/backend"
	"github.com/linxGnu/grocksdb"
)

// Name is the name the engine is registered under.
const Name = "rocksdb"

func init() { backend.Register(Name, Engine{}) }

// Engine opens RocksDB stores. The zero value is ready to use and safe for
// concurrent use.
type Engine struct{}

var (
	_ backend.Engine       = Engine{}
	_ backend.KV           = (*kv)(nil)
	_ backend.Checkpointer = (*kv)(nil)
	_ backend.Compacter    = (*kv)(nil)
	_ backend.Namer        = (*kv)(nil)
	_ backend.Iterator     = (*iterator)(nil)
	_ backend.Batch        = (*batch)(nil)
)

// Open opens the RocksDB database in dir, creating it when dir holds none,
// and replays its write-ahead log before it returns.
//
// opts.Config must be nil, an Options or an *Options; Open fails on any
// other type and on invalid Options. Open fails when dir is not a directory,
// when another process has the database open, and, with an error wrapping
// backend.ErrCorrupt, when RocksDB finds the database damaged (how damage to
// the write-ahead log is handled depends on Options.WALRecoveryMode).
//
// The returned KV also implements backend.Checkpointer, backend.Compacter and
// backend.Namer.
func (Engine) Open(dir string, opts backend.Options) (backend.KV, error) {
	o, err := optionsFrom(opts.Config)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("rocksdb: %w (a store needs a directory of its own)",
			&fs.PathError{Op: "open", Path: dir, Err: syscall.ENOTDIR})
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	dbOpts := o.dbOptions()
	owned := false // set once the kv owns the C objects and frees them in Close
	defer func() {
		if !owned {
			dbOpts.Destroy()
		}
	}()
	db, err := grocksdb.OpenDb(dbOpts, dir)
	if err != nil {
		return nil, wrap("open", dir, err)
	}

	ro := grocksdb.NewDefaultReadOptions()
	ro.SetVerifyChecksums(true)
	syncWO := grocksdb.NewDefaultWriteOptions()
	syncWO.SetSync(true)
	asyncWO := grocksdb.NewDefaultWriteOptions()
	asyncWO.SetSync(false)

	owned = true
	logger.Debug("rocksdb: opened store", "dir", dir, "version", Version(),
		"compression", o.Compression, "wal_recovery", o.WALRecoveryMode,
		"paranoid_checks", !o.DisableParanoidChecks)
	return &kv{
		dir:     dir,
		log:     logger,
		db:      db,
		dbOpts:  dbOpts,
		ro:      ro,
		syncWO:  syncWO,
		asyncWO: asyncWO,
		iters:   map[*iterator]struct{}{},
	}, nil
}

// kv is an open store. Every method that reaches RocksDB holds mu for
// reading and checks closed first; Close holds it for writing, so no call can
// touch a C object that Close freed.
type kv struct {
	dir string
	log *slog.Logger

	mu     sync.RWMutex
	closed bool
	// keepWAL skips the flush of the memtables at Close (tests that damage
	// the write-ahead log of a closed store set it).
	keepWAL bool
	db      *grocksdb.DB
	dbOpts  *grocksdb.Options
	ro      *grocksdb.ReadOptions  // for Get; only read by RocksDB, so shared
	syncWO  *grocksdb.WriteOptions // sync=true
	asyncWO *grocksdb.WriteOptions // sync=false

	itersMu sync.Mutex
	iters   map[*iterator]struct{} // open iterators, released by Close

	// failed is set once a write or a WAL sync failed. RocksDB then holds
	// the error in its WAL writer, and a later FlushWAL trips an assertion
	// that aborts the process; the store is failed and its durability
	// unknown anyway, so Close skips the final WAL sync.
	failed   atomic.Bool
	firstErr atomic.Pointer[error] // the failure that set failed

	// walMu orders WAL syncs after writes: writes hold it for reading (they
	// may run together, and RocksDB merges concurrent synced writes into
	// one WAL sync), a FlushWAL holds it for writing, so that it never
	// starts while a write that may fail is under way, or after one failed
	// and before failed says so: RocksDB would abort the process.
	walMu sync.RWMutex
}

// Get implements backend.KV. It returns a copy of the value, which the caller
// owns. A checksum failure returns an error wrapping backend.ErrCorrupt.
func (s *kv) Get(key []byte) ([]byte, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, false, errClosed
	}
	h, err := s.db.GetPinned(s.ro, key)
	if err != nil {
		return nil, false, wrap("get", s.dir, err)
	}
	defer h.Destroy()
	if !h.Exists() {
		return nil, false, nil
	}
	v := bytes.Clone(h.Data())
	if v == nil {
		v = []byte{}
	}
	return v, true, nil
}

// NewIterator implements backend.KV. The iterator reads from an implicit
// RocksDB snapshot taken when it is created.
func (s *kv) NewIterator(o backend.IterOptions) (backend.Iterator, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed
	}
	it := newIterator(s, o)
	if it.it != nil {
		s.itersMu.Lock()
		s.iters[it] = struct{}{}
		s.itersMu.Unlock()
	}
	return it, nil
}

// forget removes a closed iterator from the set Close releases.
func (s *kv) forget(it *iterator) {
	s.itersMu.Lock()
	delete(s.iters, it)
	s.itersMu.Unlock()
}

// NewBatch implements backend.KV.
func (s *kv) NewBatch() backend.Batch { return newBatch(s) }

// Sync implements backend.KV with DB::FlushWAL(true): it returns once every
// committed batch, synced or not, is in a WAL file or table file that is on
// stable storage.
func (s *kv) Sync() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed
	}
	if s.failed.Load() {
		return wrap("sync", s.dir, s.afterFailure())
	}
	s.walMu.Lock()
	defer s.walMu.Unlock()
	if s.failed.Load() {
		return wrap("sync", s.dir, s.afterFailure())
	}
	if err := s.db.FlushWAL(true); err != nil {
		s.setFailed(err)
		return wrap("sync", s.dir, err)
	}
	return nil
}

// errAfterFailure is wrapped by the writes and syncs refused after a write or
// sync failed.
var errAfterFailure = errors.New("an earlier write or sync failed; reopen the store to find out what is durable")

// setFailed records that a write or sync failed with err; the first error is
// kept, and named by the refusals that follow.
func (s *kv) setFailed(err error) {
	s.firstErr.CompareAndSwap(nil, &err)
	s.failed.Store(true)
}

// afterFailure is the error of a write or sync refused after a failure: it
// names the first failure, the cause.
func (s *kv) afterFailure() error {
	if p := s.firstErr.Load(); p != nil {
		return fmt.Errorf("%w: %w", errAfterFailure, *p)
	}
	return errAfterFailure
}

// Close implements backend.KV. It syncs the WAL, closes the database and
// frees its C objects. A second Close returns an error wrapping
// backend.ErrClosed. Iterators still open, which the contract forbids, are
// released and logged; using them afterwards returns errors wrapping
// backend.ErrClosed.
func (s *kv) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	s.closed = true

	s.itersMu.Lock()
	leaked := len(s.iters)
	for it := range s.iters {
		it.release(errClosed)
	}
	clear(s.iters)
	s.itersMu.Unlock()
	if leaked > 0 {
		s.log.Warn("rocksdb: Close called with iterators still open; they were released", "dir", s.dir, "iterators", leaked)
	}

	var err error
	if !s.failed.Load() {
		err = s.db.FlushWAL(true)
		if err == nil && !s.keepWAL {
			err = s.flushMemtables()
		}
	}
	s.db.Close()
	s.ro.Destroy()
	s.syncWO.Destroy()
	s.asyncWO.Destroy()
	s.dbOpts.Destroy()
	if err != nil {
		// Writes committed without sync may be lost on a power cut.
		return wrap("sync the WAL and flush the memtables on close of", s.dir, err)
	}
	return nil
}

// flushMemtables writes the memtables to table files and waits for it, so
// that the next Open has no write-ahead log to replay: without it, the first
// Open after a clean Close replays up to two memtables (128 MiB by default),
// which took 6.8 s after a fill of a million 200-byte events.
func (s *kv) flushMemtables() error {
	fo := grocksdb.NewDefaultFlushOptions()
	defer fo.Destroy()
	fo.SetWait(true)
	if err := s.db.Flush(fo); err != nil {
		return fmt.Errorf("flush the memtables: %w", err)
	}
	return nil
}
