package eventstore

import (
	"fmt"
	"io"

	"github.com/durablelog/eventstore/logstore"
)

// Offset is a position in the single global log. The first event is at
// offset 1, offsets are dense (no gap, ever, also after a crash), and 0 means
// "before the first event". Within one Generation an offset is never given to
// two events. An offset is given again, to another event, only after the log
// lost events it once held (possible in NoSync mode after a power cut); Open
// then reports the loss and moves the store to a new generation, so a
// position that outlives the process is (Generation, Offset).
type Offset = logstore.Offset

// Event is what a caller appends: an optional ID, unique within its stream
// (a retry of an append whose events all carry IDs is recognised and not
// written twice, see Append), a Type of 1 to 255 bytes, the opaque Data (at
// most WithMaxEventSize, 4 MiB by default) and optional Metadata.
type Event = logstore.Event

// Record is a committed event with its place in the log: the Event, its
// Stream, its Offset in the global log, its Version within the stream (1, 2,
// 3, ... dense) and the commit Time in UTC (events committed together share
// it).
type Record = logstore.Record

// ExpectedVersion is the optimistic-concurrency condition of an append: the
// version the caller believes the stream is at. Any n > 0 requires the
// stream's current version to be exactly n.
type ExpectedVersion = logstore.ExpectedVersion

const (
	// Any skips the check.
	Any = logstore.Any
	// StreamExists requires the stream to have at least one event.
	StreamExists = logstore.StreamExists
	// NoStream requires the stream to be empty.
	NoStream = logstore.NoStream
)

// AppendResult tells where an append landed: First and Last are the offsets
// of its first and last event (the events in between have the offsets in
// between: an append is never interleaved with another), and Version is the
// stream's version after it.
type AppendResult = logstore.AppendResult

// StateMachine is the caller's state, rebuilt from the log. The store calls
// Apply for every committed event exactly once, in offset order, from one
// goroutine at a time; after Append returns, the state has applied that
// append's events. Snapshot and Restore save and load the whole state for
// fast restarts (see WithSnapshotPolicy).
type StateMachine interface {
	// Apply applies one committed record. An error stops the store: see
	// ErrStateMachine.
	Apply(Record) error
	// Snapshot writes the whole state to w. It is called in line with
	// Apply, so the state does not change while it runs.
	Snapshot(w io.Writer) error
	// Restore replaces the state with one that Snapshot wrote.
	Restore(r io.Reader) error
}

// Durability says when an append is acknowledged.
type Durability int

const (
	// Sync, the default, acknowledges an append once it is on stable
	// storage: it survives a process crash and a power cut.
	Sync Durability = iota
	// NoSync acknowledges an append once the engine has it in the
	// operating system's hands: it survives a crash of the process, not a
	// power cut or a kernel crash. The store syncs at least once a second
	// while appends are unsynced, and Close syncs, so a power cut loses at
	// most about the last second of appends. The next Open reports such a
	// loss (RecoveryReport.LostEvents) and moves the store to a new
	// Generation when it can see it: the head mark, which records the
	// acknowledged head after commits without an fsync of its own, reached
	// the disk, or a snapshot covers lost offsets, or the loss left a hole.
	// A loss whose every witness was lost with it is not reported: a reader
	// that kept a position beyond Head() in the same generation must treat
	// it as such a loss (see docs/recovery.md).
	NoSync
)

func (d Durability) String() string {
	switch d {
	case Sync:
		return "Sync"
	case NoSync:
		return "NoSync"
	}
	return fmt.Sprintf("Durability(%d)", int(d))
}
