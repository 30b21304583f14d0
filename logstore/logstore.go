// Package logstore defines the sequenced log that the event store runs on:
// the seam between the layers that every store shares (input checks,
// subscriptions, snapshots, recovery, the CLI) and the part that assigns
// offsets and versions and makes appends durable.
//
// Applications do not use this package; they use package eventstore. The
// data types and errors that cross the seam (Event, Record, Offset,
// ExpectedVersion, AppendResult, VerifyReport, WrongExpectedVersionError,
// CorruptionError and the sentinels) are declared here once, and package
// eventstore re-exports each of them with a type alias or the same value.
//
// A Log may offer optional capabilities, which the store finds with a type
// assertion, once, the way database/sql finds driver.Pinger: Checkpointer
// (an online, consistent copy of the log for backups). A Log without one
// makes the operation fail with ErrUnsupported, or the store take another
// path (a backup writes a dump instead).
//
// The implementation in this module, package logstore/kvlog, sequences appends
// itself over an ordered key-value engine (package backend): it runs group
// commit, checks expected versions and writes the checksummed records and the
// stream indexes. A database that sequences appends itself, such as
// PostgreSQL shared by several writers, implements Log directly, and
// everything above the seam works on it unchanged.
package logstore

import (
	"context"
	"time"
)

// AppendRequest is one atomic append to one stream.
type AppendRequest struct {
	Stream   string
	Expected ExpectedVersion
	Events   []Event
	// Time, when not zero, is recorded as the events' time instead of the
	// commit time. Imports use it to keep the original times.
	Time time.Time
	// At, when not zero, is the offset the request's first event must get.
	// The check is made when the request is sequenced, before anything is
	// written: a request that would land elsewhere fails with an error
	// wrapping ErrWrongOffset and writes nothing. Imports use it, so that an
	// append that runs during an import cannot shift the imported records.
	At Offset
}

// Log is a durable, totally ordered log of events grouped in streams.
//
// All methods may be called concurrently. After Close, every method returns an
// error wrapping backend.ErrClosed.
type Log interface {
	// Append commits req atomically and returns once it is durable in the
	// configured mode (see Config.Sync), or with an error, in which case
	// nothing of req was acknowledged. Offsets are assigned in commit order
	// and are dense from 1.
	//
	// A version mismatch returns a *WrongExpectedVersionError and writes nothing, unless
	// the request is a retry of a committed append (Expected >= 0, every
	// event has an id, and the events after version Expected carry the same
	// ids in the same order): then Append returns that append's result and
	// writes nothing. A retry returns only once the append it repeats is
	// durable and published (and OnCommit has run for it): a retry of an
	// append in the same commit completes with that commit and fails with
	// it. An id already used in the stream otherwise fails with an error
	// wrapping ErrDuplicateID.
	//
	// The context is honoured until the request joins a commit; after that
	// Append waits for the commit.
	Append(ctx context.Context, req AppendRequest) (AppendResult, error)

	// AppendBatch commits reqs, in order, atomically in one commit: either
	// every request passes its check and all are written, or the call
	// fails and writes nothing. It is the bulk path of imports and
	// migrations; ordinary appends use Append and group commit.
	AppendBatch(ctx context.Context, reqs []AppendRequest) ([]AppendResult, error)

	// Head returns the offset of the last committed and published record.
	Head() Offset

	// ReadLog returns the records from offset from (inclusive) on, at most
	// limit records (limit > 0) and about maxBytes of data (the first record
	// is always returned), never past Head at the time of the call.
	ReadLog(ctx context.Context, from Offset, limit, maxBytes int) ([]Record, error)

	// ReadStream returns the records of stream from version from
	// (inclusive) on, with the same limits as ReadLog.
	ReadStream(ctx context.Context, stream string, from uint64, limit, maxBytes int) ([]Record, error)

	// StreamVersion returns the stream's current version, 0 when it is empty.
	StreamVersion(ctx context.Context, stream string) (uint64, error)

	// Verify checks every record and index entry; see VerifyReport. Progress,
	// if not nil, is called now and then with the offset reached.
	Verify(ctx context.Context, progress func(Offset)) (VerifyReport, error)

	// Close stops accepting appends, fails queued ones with ErrClosed,
	// waits for the commit in flight and for running reads, and closes the
	// storage. A second Close returns an error wrapping ErrClosed.
	Close() error
}

// Config configures a Log implementation.
type Config struct {
	// Sync makes Append return only after the commit is on stable storage.
	Sync bool

	// OnCommit, if not nil, is called by the committing goroutine after
	// each commit is durable and published, with its records in offset
	// order, before the appends in it return. It must not call Append.
	OnCommit func([]Record)

	// MaxBatchEvents and MaxBatchBytes bound one group commit. A single
	// append larger than the bounds is committed alone.
	MaxBatchEvents int
	MaxBatchBytes  int

	// Now returns the commit time. The default is time.Now.
	Now func() time.Time

	// SyncInterval bounds, when Sync is false, how long a commit may stay
	// unsynced: the log makes its commits durable at least this often
	// while there are unsynced ones, so that a power cut loses at most
	// about this much. The default is DefaultSyncInterval.
	SyncInterval time.Duration

	// OnSync, if not nil, is called when Sync is false, on the committing
	// goroutine, after each periodic sync with the offset up to which the
	// log is now durable.
	OnSync func(durable Offset)

	// Observer, if not nil, receives the log's measurements.
	Observer Observer

	// CheckFrom, when not 0, makes the log check at open that it holds
	// every offset from CheckFrom up to its head: the part that a crash
	// may have left with a hole, because it was not known to be durable
	// (an engine that replays several write-ahead logs separately can keep
	// a newer one and lose the tail of an older one). A hole fails the
	// open with an error wrapping backend.ErrCorrupt that names it, unless
	// OnHole is set.
	CheckFrom Offset

	// OnHole, if not nil, repairs a hole that CheckFrom found: the log
	// calls OnHole(hole, head) first, so that the caller records the loss
	// durably (an error fails the open and changes nothing), then removes
	// the records from the hole up to the head, leaving the dense prefix
	// up to hole-1 as the log.
	OnHole func(hole, head Offset) error
}

// DefaultSyncInterval is the default Config.SyncInterval.
const DefaultSyncInterval = time.Second
