// Package badger is the eventstore engine over BadgerDB v4
// (github.com/dgraph-io/badger/v4), a pure-Go LSM tree that keeps small
// values in its write-ahead log and LSM tree and large ones in a separate
// value log. Importing it registers the engine "badger". Configure it with an
// Options value passed as backend.Options.Config.
//
// # Durability
//
// Each Batch.Commit is one badger read-write transaction. Badger writes the
// transaction's entries, followed by a commit marker, to the active
// memtable's write-ahead log (a .mem file) and values of ValueThreshold bytes
// or more to the value log (.vlog files), through shared memory maps, before
// Commit returns; on open it replays a transaction only if its commit marker
// is intact. Hence:
//
//   - Commit(sync=false) returns once the batch is in the operating system's
//     page cache: it survives a crash of the process, not necessarily a power
//     cut or a kernel crash. After a power cut it is entirely present or
//     entirely absent, with one exception: a value stored in the value log
//     (ValueThreshold bytes or more, 1 MiB by default) whose page did not
//     reach the disk while the write-ahead log page pointing to it did. Such
//     a value then reads as an error wrapping backend.ErrCorrupt.
//   - Commit(sync=true) returns only once the batch and every batch committed
//     before it are on stable storage, as KV.Sync does (below). An error
//     means the durability of the batch is unknown.
//   - KV.Sync fsyncs, in this order: the value-log files written since the
//     previous sync, the active memtable's WAL and the newest value-log file
//     (badger's DB.Sync), the WALs of full memtables still waiting for their
//     flush and value-log files rotated since the previous sync (which
//     DB.Sync misses), and the directory when files were created or removed.
//     It returns once all of it is on stable storage.
//   - Close flushes the memtables to tables and syncs everything.
//
// These statements hold on Linux, where fsync of a file flushes the pages
// badger wrote through its memory maps. The same store may receive sync and
// non-sync commits in any mix. Badger's SyncWrites option is off: it would
// sync every commit, and it drops value-log sync errors (value.go:832-838).
// doc.go records the audit of the badger v4.9.6 source behind these
// statements, with file and line references, and the limits of what this
// engine can detect.
//
// # Atomicity and batch size
//
// A batch must fit in one badger transaction: see Options.BatchLimits (about
// 9.6 MiB and 104,857 writes with the defaults) and the store's MaxBatchSize
// and MaxBatchCount methods. A larger batch fails as a whole, writing
// nothing, with an error naming the limit. Badger's WriteBatch, which splits
// large batches into several transactions, is not used.
//
// # Integrity
//
// Open verifies the checksum of every block of every table before it opens
// badger, and fails with an error wrapping backend.ErrCorrupt that names the
// table and the directory when one is damaged. A damaged value read from the
// value log fails the read with an error wrapping backend.ErrCorrupt. Badger
// verifies every table block it reads but does not report a failure: a block
// damaged while the store is open ends an iteration early or makes a key
// look absent, until the next Open detects it. Likewise a damaged record in
// a write-ahead log is taken for its end on replay. doc.go details these
// limits.
//
// # Keys
//
// Every key is stored behind a one-byte prefix, so that keys beginning with
// badger's reserved "!badger!" prefix are allowed; keys may be up to 64,999
// bytes long and values up to ValueLogFileSize (256 MiB by default).
package badger

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/durablelog/eventstore/backend"
)

// Name is the name the engine is registered under.
const Name = "badger"

func init() { backend.Register(Name, Engine{}) }

// keyPrefix precedes every key in badger, keeping the key space clear of
// badger's internal keys, which begin with "!badger!".
const keyPrefix = 'u'

// Engine opens badger stores. The zero value is ready to use and is safe for
// concurrent use.
type Engine struct{}

// Compile-time checks of the contract and of the optional capabilities.
var (
	_ backend.Engine    = Engine{}
	_ backend.KV        = (*kv)(nil)
	_ backend.Compacter = (*kv)(nil)
	_ backend.Namer     = (*kv)(nil)
	_ backend.Iterator  = (*iterator)(nil)
	_ backend.Batch     = (*batch)(nil)
	_ bdg.Logger        = logAdapter{}
)

// Open opens, or creates, the badger store in dir. opts.Config may be nil, an
// Options or an *Options; any other type is an error. Unless
// Options.DisableVerifyOnOpen is set, Open first verifies every table's
// checksums. It then replays the write-ahead logs and returns a store that
// contains every batch that was committed and made durable, and every batch
// committed before a clean Close. It fails with an error wrapping
// backend.ErrCorrupt when badger's files are damaged, and fails when dir is
// not a directory or another process has the store open.
func (Engine) Open(dir string, opts backend.Options) (backend.KV, error) {
	cfg, err := configOptions(opts.Config)
	if err != nil {
		return nil, err
	}
	o, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("badger: open %s: not a directory (%s): pass the directory that holds, or is to hold, the store's files", dir, fi.Mode().Type())
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("badger: open %s: %w", dir, err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	bo := o.badgerOptions(dir, logger)
	if err := removeEmptyLogs(dir); err != nil {
		return nil, err
	}
	if !o.DisableVerifyOnOpen {
		if err := verifyTables(dir, bo); err != nil {
			return nil, err
		}
	}
	db, err := bdg.Open(bo)
	if err != nil {
		return nil, wrapErr(dir, "open the store", err)
	}
	return &kv{db: db, dir: dir, opts: o, sync: syncer{dir: dir}}, nil
}

// kv is an open badger store.
type kv struct {
	db   *bdg.DB
	dir  string
	opts Options // resolved

	mu     sync.RWMutex // read-held by every operation, write-held by Close
	closed bool

	sync      syncer
	gate      sync.RWMutex // read-held by commits, write-held by Compact while badger blocks writes
	compactMu sync.Mutex   // one Compact at a time
}

// Get returns a copy of the value stored under key and true, or nil, false,
// nil when key is absent. It sees every batch whose Commit has returned. A
// damaged value yields an error wrapping backend.ErrCorrupt.
func (s *kv) Get(key []byte) ([]byte, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, false, errClosed("Get")
	}
	var val []byte
	err := s.db.View(func(txn *bdg.Txn) error {
		item, err := txn.Get(withPrefix(key))
		if err != nil {
			return err
		}
		val, err = readValue(item, nil)
		return err
	})
	if errors.Is(err, bdg.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, wrapErr(s.dir, "read key "+keyString(key), err)
	}
	if val == nil {
		val = []byte{} // found, with an empty value
	}
	return val, true, nil
}

// NewBatch returns an empty batch. It never fails; a batch of a closed store
// fails at Commit.
func (s *kv) NewBatch() backend.Batch { return &batch{s: s} }

// Sync makes every committed batch durable, including those committed
// without sync, and returns once they are on stable storage. After an error
// their durability is unknown.
func (s *kv) Sync() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed("Sync")
	}
	return s.sync.sync(s.db)
}

// Close flushes the memtables to tables, syncs every file and releases the
// store and its directory lock. Every batch whose Commit returned is visible
// to a later Open. Methods called after Close, Close included, return errors
// wrapping backend.ErrClosed.
func (s *kv) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed("Close")
	}
	s.closed = true
	return wrapErr(s.dir, "close the store", s.db.Close())
}

// MaxBatchSize returns the byte limit of one batch, as badger accounts it:
// see Options.BatchLimits.
func (s *kv) MaxBatchSize() int64 { return s.db.MaxBatchSize() }

// MaxBatchCount returns the limit on the number of writes of one batch,
// badger's commit marker included: see Options.BatchLimits.
func (s *kv) MaxBatchCount() int64 { return s.db.MaxBatchCount() }

// withPrefix returns keyPrefix followed by key, in a new slice.
func withPrefix(key []byte) []byte {
	k := make([]byte, 1+len(key))
	k[0] = keyPrefix
	copy(k[1:], key)
	return k
}

// keyString formats key for an error message, shortened when long.
func keyString(key []byte) string {
	const max = 32
	if len(key) > max {
		return fmt.Sprintf("%x... (%d bytes)", key[:max], len(key))
	}
	return fmt.Sprintf("%x", key)
}
