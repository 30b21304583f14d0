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
// Badger does not meet a damaged table safely: reading one while it opens
// the store can crash the process, and later it hides a block whose checksum
// fails or crashes on one whose layout is damaged (doc.go). So the engine
// checks the tables itself, under recover, before badger opens them, and
// keeps a record of the tables it verified in full, so that Open does not
// read the whole store every time:
//
//   - Open checks every table the MANIFEST lists. It verifies a table in full
//     (every block checksum) unless the record, the file VERIFIED, holds that
//     table in the state its file is in: same device, inode, size,
//     modification time and change time. For such a table Open checks only
//     what badger itself reads when it opens a table (footer, index, last
//     block), about as much as badger's own Open reads. A damaged table fails
//     Open with an error wrapping backend.ErrCorrupt that names the table and
//     the directory.
//   - While the store is open, the tables that badger writes (flushes and
//     compactions) are verified every 30 seconds, and Close verifies those
//     still unverified after badger has closed. A table changed in the last
//     100 ms (2 s on file systems with whole-second timestamps) waits for the
//     next time: a change within the same timestamp tick would leave its
//     change time as recorded. A damaged table found while the store is open
//     makes every later call fail, Close included, with an error wrapping
//     backend.ErrCorrupt; the next Open fails too while the MANIFEST lists it.
//   - The record is replaced atomically and durably. When it is missing,
//     damaged, stale or cannot be written, the tables concerned are only
//     verified in full again (a warning is logged). A copied or restored
//     store, whose files are new inodes, is verified in full at its first
//     Open.
//
// Open therefore reads in full only the tables written since the last
// verification (a crash skips the one at Close), and its cost no longer
// grows with the volume of data: a table verified before costs about a
// tenth of a millisecond, less than badger's own opening of it.
//
// What this leaves unprotected. The kernel sets a file's change time on
// every change made through the file system and no call sets it back, so a
// verified table that is written to, truncated, replaced or copied is
// always verified again. Damage below the file system (a disk's silent bit
// rot, a misdirected write, a faulty controller or file system) leaves the
// times unchanged. Open then detects it only in the footer, the index or the
// last block. Elsewhere in the table it is met when a block is read: a read
// that makes badger panic fails with an error wrapping backend.ErrCorrupt,
// recovered at this package's boundary; a read whose block fails its
// checksum is hidden by badger, which makes the block's keys look absent and
// ends an iteration early; and a compaction that reads the block drops the
// rest of the table silently, or crashes the process with a panic in
// badger's goroutine, where nothing can recover it. Set
// Options.VerifyAllOnOpen after a disk reported errors, or on a schedule, to
// verify every table again. Damage of either kind that happens while the
// store is open is in the same position until a round or Open verifies the
// table: the rounds check each table's state, so they catch changes through
// the file system within 30 seconds.
//
// A damaged value read from the value log fails the read with an error
// wrapping backend.ErrCorrupt. A damaged record in a write-ahead log is taken
// for its end on replay. doc.go details these limits.
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
// Options.DisableVerifyOnOpen is set, Open first checks every table: in full
// (every block checksum) when it was not verified before in the state its
// file is in, as the package documentation describes. It then replays the
// write-ahead logs and returns a store that contains every batch that was
// committed and made durable, and every batch committed before a clean
// Close. It fails with an error wrapping backend.ErrCorrupt when badger's
// files are damaged, and fails when dir is not a directory or another
// process has the store open.
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
	if err := repairManifest(dir, logger); err != nil {
		return nil, err
	}
	var v *verifier
	if !o.DisableVerifyOnOpen {
		v = newVerifier(dir, bo, logger.With("engine", Name, "dir", dir))
		if err := v.atOpen(o.VerifyAllOnOpen); err != nil {
			return nil, err
		}
	}
	db, err := bdg.Open(bo)
	if err != nil {
		return nil, wrapErr(dir, "open the store", err)
	}
	if v != nil {
		v.save() // now that badger holds the directory's lock
		v.start(db)
	}
	return &kv{db: db, dir: dir, opts: o, sync: syncer{dir: dir}, verifier: v}, nil
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

	verifier *verifier // nil with Options.DisableVerifyOnOpen
}

// check returns the error for a call named what: the store is closed, or a
// damaged table was found since Open.
func (s *kv) check(what string) error {
	if s.closed {
		return errClosed(what)
	}
	if err := s.verifier.failure(); err != nil {
		return fmt.Errorf("badger: %s: the store is damaged: %w", what, err)
	}
	return nil
}

// Get returns a copy of the value stored under key and true, or nil, false,
// nil when key is absent. It sees every batch whose Commit has returned. A
// damaged value, or a table block whose damage makes badger panic, yields
// an error wrapping backend.ErrCorrupt.
func (s *kv) Get(key []byte) (_ []byte, _ bool, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check("Get"); err != nil {
		return nil, false, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = readPanic(s.dir, "read key "+keyString(key), r)
		}
	}()
	var val []byte
	err = s.db.View(func(txn *bdg.Txn) error {
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
	if err := s.check("Sync"); err != nil {
		return err
	}
	return s.sync.sync(s.db)
}

// Close flushes the memtables to tables, syncs every file and releases the
// store and its directory lock. Every batch whose Commit returned is visible
// to a later Open. It then verifies the tables written since the last
// verification, except the newest (see the package documentation), and
// returns an error wrapping backend.ErrCorrupt when a table was found
// damaged since Open. Methods called after Close, Close included, return
// errors wrapping backend.ErrClosed.
func (s *kv) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed("Close")
	}
	s.closed = true
	if s.verifier == nil {
		return wrapErr(s.dir, "close the store", s.db.Close())
	}
	s.verifier.halt()
	if err := s.db.Close(); err != nil {
		return errors.Join(wrapErr(s.dir, "close the store", err), s.verifier.failure())
	}
	return s.verifier.atClose()
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
