package logstore

import (
	"fmt"
	"time"
)

// The data types that cross the seam. Each is declared here once; package
// eventstore re-exports them with type aliases, and applications use them
// through it (eventstore.Record, eventstore.Offset, ...).

// Offset is a position in the single global log. The first event is at
// offset 1, offsets are dense (no gap, ever, also after a crash), and 0 means
// "before the first event". Within one generation of a store an offset is
// never given to two events (see eventstore.Store.Generation).
type Offset uint64

// Event is what a caller appends.
type Event struct {
	// ID is an optional caller-chosen id, unique within its stream. A retry
	// of an append whose events all carry ids is recognised and not
	// written twice (see eventstore.Store.Append).
	ID string
	// Type is required, 1 to 255 bytes.
	Type string
	// Data is the opaque payload, at most the store's maximum event size
	// (eventstore.WithMaxEventSize, 4 MiB by default).
	Data []byte
	// Metadata is optional.
	Metadata map[string]string
}

// Record is a committed event with its place in the log.
type Record struct {
	Event
	// Stream is the stream the event was appended to: 1 to 255 bytes, no
	// NUL byte.
	Stream string
	// Offset is the event's position in the global log.
	Offset Offset
	// Version is the event's position within Stream: 1, 2, 3, ... dense.
	Version uint64
	// Time is the commit time, in UTC. Events committed together share it.
	Time time.Time
}

// ExpectedVersion is the optimistic-concurrency condition of an append: the
// version the caller believes the stream is at.
type ExpectedVersion int64

const (
	// Any skips the check.
	Any ExpectedVersion = -1
	// StreamExists requires the stream to have at least one event.
	StreamExists ExpectedVersion = -2
	// NoStream requires the stream to be empty.
	NoStream ExpectedVersion = 0
	// Any n > 0 requires the stream's current version to be exactly n.
)

// String renders v for messages: "any", "an existing stream", "no stream
// (0)" or the version.
func (v ExpectedVersion) String() string {
	switch v {
	case Any:
		return "any"
	case StreamExists:
		return "an existing stream"
	case NoStream:
		return "no stream (0)"
	}
	return fmt.Sprint(int64(v))
}

// Matches reports whether a stream at version passes the check.
func (v ExpectedVersion) Matches(version uint64) bool {
	switch {
	case v == Any:
		return true
	case v == StreamExists:
		return version > 0
	default:
		return v >= 0 && uint64(v) == version
	}
}

// AppendResult tells where an append landed.
type AppendResult struct {
	// First and Last are the offsets of the append's first and last event.
	// The events in between have the offsets in between: an append is
	// never interleaved with another.
	First, Last Offset
	// Version is the stream's version after the append.
	Version uint64
}

// VerifyReport summarises a Verify scan.
type VerifyReport struct {
	Head         Offset        // the last offset checked
	Records      uint64        // records checked, checksums included
	Streams      uint64        // distinct streams
	IndexEntries uint64        // stream-index entries checked against the log
	IDs          uint64        // event ids checked against the id index
	Bytes        uint64        // bytes of records read
	Duration     time.Duration // how long the scan took
}
