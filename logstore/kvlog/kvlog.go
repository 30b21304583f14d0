// Package kvlog implements logstore.Log over an ordered key-value engine
// (package backend): one goroutine sequences appends, checks expected
// versions and commits them in groups, and the records and stream indexes
// are laid out as package internal/record documents.
package kvlog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
)

// Defaults for the group-commit bounds of logstore.Config.
const (
	DefaultMaxBatchEvents = 8192
	DefaultMaxBatchBytes  = 16 << 20
)

// writesPerEvent is the most engine writes one event takes: the record, the
// stream index entry and the id index entry.
const writesPerEvent = 3

// Room kept below an engine's batch limits (backend.BatchLimiter) for what
// the engine adds to a batch itself: a commit marker of up to
// engineReservedBytes, and engineReservedWrites writes.
const (
	engineReservedBytes  = 64
	engineReservedWrites = 1
)

// Caps on the limits, so that an engine that reports no practical limit
// (math.MaxInt64) does not overflow the int arithmetic of group commit.
const (
	maxLimitBytes  = 1 << 40
	maxLimitEvents = 1 << 30
)

// queueDepth is how many appends may wait for the committer.
const queueDepth = 4096

// Log is a logstore.Log over a backend.KV.
type Log struct {
	kv  backend.KV
	cfg logstore.Config

	head atomic.Uint64 // last published offset
	// applied is the last offset whose OnCommit has returned: a retry of
	// an append at or below it may complete at once.
	applied atomic.Uint64

	// mu orders Close after running reads and enqueues: they hold it for
	// reading, Close for writing.
	mu     sync.RWMutex
	closed bool
	// closing is set when Close starts, before it waits for mu: new reads
	// and appends fail at once instead of queueing behind Close, and long
	// scans (Verify) stop between two records.
	closing atomic.Bool

	reqs chan *pending
	quit chan struct{} // closed by Close: the committer drains and exits
	done chan struct{} // closed when the committer has exited

	failed atomic.Pointer[error] // the commit error that stopped the log

	// The engine's hard limits on one batch (backend.BatchLimiter); 0 when
	// it has none.
	limitBytes, limitEvents int

	// Owned by the committer goroutine.
	versions versionCache
	carry    *pending
	buf      []byte
	// durable is the offset up to which the log is known durable, and
	// lastSync when it was last made so (NoSync mode).
	durable   logstore.Offset
	lastSync  time.Time
	syncTimer *time.Timer
	// written is the head including the groups written and not yet
	// published (Sync mode): the committer sequences after it.
	written logstore.Offset

	// flights carries written groups to the syncer (Sync mode only; nil in
	// NoSync mode); syncerDone is closed when the syncer has exited.
	flights    chan *flight
	syncerDone chan struct{}
}

var _ logstore.Log = (*Log)(nil)

// Open starts a log over kv, which it owns from now on: Close closes it. Open
// finds the head from the last record, whose checksum it checks, and creates
// the layout's format key in an empty store.
func Open(kv backend.KV, cfg logstore.Config) (*Log, error) {
	if cfg.MaxBatchEvents <= 0 {
		cfg.MaxBatchEvents = DefaultMaxBatchEvents
	}
	if cfg.MaxBatchBytes <= 0 {
		cfg.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Log{
		kv:       kv,
		cfg:      cfg,
		reqs:     make(chan *pending, queueDepth),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		versions: newVersionCache(1 << 16),
	}
	if bl, ok := kv.(backend.BatchLimiter); ok {
		// Each event takes up to writesPerEvent writes.
		l.limitBytes = int(min(bl.MaxBatchSize()-engineReservedBytes, maxLimitBytes))
		l.limitEvents = int(min((bl.MaxBatchCount()-engineReservedWrites)/writesPerEvent, maxLimitEvents))
		l.cfg.MaxBatchBytes = min(l.cfg.MaxBatchBytes, l.limitBytes)
		l.cfg.MaxBatchEvents = min(l.cfg.MaxBatchEvents, l.limitEvents)
	}
	if cfg.SyncInterval <= 0 {
		l.cfg.SyncInterval = logstore.DefaultSyncInterval
	}
	head, err := l.recoverHead()
	if err != nil {
		return nil, err
	}
	if head, err = l.repairHole(head); err != nil {
		return nil, err
	}
	if head > 0 {
		// What the engine recovered may sit in files it has not synced
		// (its write-ahead log, in the page cache after a process crash):
		// make it durable before the head is trusted and built on.
		if err := kv.Sync(); err != nil {
			return nil, fmt.Errorf("sync the recovered log: %w", err)
		}
	}
	l.head.Store(uint64(head))
	l.applied.Store(uint64(head))
	l.durable, l.written = head, head
	if cfg.Sync {
		l.flights = make(chan *flight, flightDepth)
		l.syncerDone = make(chan struct{})
		go l.sync()
	}
	go l.run()
	return l, nil
}

// repairHole checks the log from Config.CheckFrom up to head and, on a hole,
// fails or, with Config.OnHole, cuts the log back to the dense prefix. It
// returns the head after the repair.
func (l *Log) repairHole(head logstore.Offset) (logstore.Offset, error) {
	hole, err := l.checkDense(l.cfg.CheckFrom, head)
	if err != nil || hole == 0 {
		return head, err
	}
	if l.cfg.OnHole == nil {
		return 0, holeError(hole, head)
	}
	if err := l.cfg.OnHole(hole, head); err != nil {
		return 0, err
	}
	if err := l.cut(hole, head); err != nil {
		return 0, err
	}
	return hole - 1, nil
}

func (l *Log) recoverHead() (logstore.Offset, error) {
	format, found, err := l.kv.Get(record.FormatKey)
	if err != nil {
		return 0, fmt.Errorf("read the layout version: %w", err)
	}
	head, err := l.lastOffset()
	if err != nil {
		return 0, err
	}
	switch {
	case !found && head == 0:
		b := l.kv.NewBatch()
		defer b.Close()
		b.Set(record.FormatKey, []byte{record.LayoutVersion})
		if err := b.Commit(true); err != nil {
			return 0, fmt.Errorf("write the layout version: %w", err)
		}
	case !found:
		return 0, &logstore.CorruptionError{Key: "meta key \"format\"", Err: fmt.Errorf("%w: the log has records but no layout version", backend.ErrCorrupt)}
	case len(format) != 1 || format[0] == 0:
		return 0, &logstore.CorruptionError{Key: "meta key \"format\"", Err: fmt.Errorf("%w: malformed layout version %x", backend.ErrCorrupt, format)}
	case format[0] > record.LayoutVersion:
		return 0, fmt.Errorf("the store uses layout version %d, this build reads up to %d: upgrade eventstore", format[0], record.LayoutVersion)
	}
	return head, nil
}

// lastOffset reads the largest log key and checks its record.
func (l *Log) lastOffset() (logstore.Offset, error) {
	it, err := l.kv.NewIterator(backend.IterOptions{Lower: []byte{record.PrefixLog}, Upper: []byte{record.PrefixLog + 1}, Reverse: true})
	if err != nil {
		return 0, fmt.Errorf("find the head: %w", err)
	}
	defer it.Close()
	if !it.Next() {
		if err := it.Err(); err != nil {
			return 0, fmt.Errorf("find the head: %w", err)
		}
		return 0, nil
	}
	off, err := record.ParseLogKey(it.Key())
	if err != nil {
		return 0, &logstore.CorruptionError{Key: record.Describe(it.Key()), Err: err}
	}
	rec, err := record.Decode(it.Value())
	if err == nil && rec.Offset != off {
		err = fmt.Errorf("%w: record holds offset %d", backend.ErrCorrupt, rec.Offset)
	}
	if err != nil {
		return 0, &logstore.CorruptionError{Key: fmt.Sprintf("log offset %d (the head)", off), Offset: off, Err: err}
	}
	return off, nil
}

// Head returns the last published offset.
func (l *Log) Head() logstore.Offset { return logstore.Offset(l.head.Load()) }

// fail records err as the failure that stopped the log, unless one was
// recorded before: the first failure is the cause of the others.
func (l *Log) fail(err error) { l.failed.CompareAndSwap(nil, &err) }

// Failed returns the commit error that stopped the log, or nil.
func (l *Log) Failed() error {
	if p := l.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// rlock takes the read side of mu, failing when the log is closed or
// closing.
func (l *Log) rlock() error {
	if l.closing.Load() {
		return fmt.Errorf("%w", backend.ErrClosed)
	}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return fmt.Errorf("%w", backend.ErrClosed)
	}
	return nil
}

// Close stops the log and closes the engine.
func (l *Log) Close() error {
	l.closing.Store(true)
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return fmt.Errorf("%w", backend.ErrClosed)
	}
	l.closed = true
	l.mu.Unlock()
	close(l.quit)
	<-l.done
	var errs []error
	if !l.cfg.Sync && l.Failed() == nil {
		if err := l.kv.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("sync on close: %w", err))
		}
	}
	if err := l.kv.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close the engine: %w", err))
	}
	return errors.Join(errs...)
}

// interrupted reports why a scan holding the read lock must stop between two
// records: the log is closing, or ctx is done.
func (l *Log) interrupted(ctx context.Context) error {
	if l.closing.Load() {
		return fmt.Errorf("%w: the log is closing", backend.ErrClosed)
	}
	return checkCtx(ctx)
}

func checkCtx(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	return nil
}

// QueueDepth implements logstore.QueueDepther.
func (l *Log) QueueDepth() int { return len(l.reqs) }
