package peers

import (
	"context"
	"errors"
)

// Any skips the expected-version check of Log.Append.
const Any int64 = -1

// ErrWrongVersion is returned by Log.Append when the stream is not at the
// expected version. It may be wrapped: use errors.Is.
var ErrWrongVersion = errors.New("peers: wrong expected version")

// Event is one event as a peer keeps it.
type Event struct {
	// Position is the event's place in the global order, from 1; Stream
	// and Version its place in its stream (Version from 1; 0 in a peer that
	// keeps no streams).
	Position uint64
	Stream   string
	Version  uint64
	Type     string
	Data     []byte
}

// Log is the store a peer makes: events of streams in one global order.
// Its methods may be called from several goroutines at once; the Log
// serialises them as the library underneath does.
type Log interface {
	// Append appends events (their Type and Data; the Log sets the rest)
	// to stream, when the stream is at version expected (Any: whatever its
	// version), and returns the position of the last. The events are
	// durable when it returns. On a wrong version it writes nothing and
	// returns an error wrapping ErrWrongVersion. A Log without streams
	// ignores expected.
	Append(ctx context.Context, stream string, expected int64, events []Event) (uint64, error)
	// Scan calls fn with every event in position order; fn must not keep
	// Data after it returns.
	Scan(ctx context.Context, fn func(Event) error) error
	// Close closes the Log.
	Close() error
}

// Peer is a way to keep events other than the event store.
type Peer struct {
	// Name is the name the report gives the peer, for example "bbolt".
	Name string
	// Streams says whether the peer keeps streams and checks expected
	// versions; the tidwall-wal and disk peers do not.
	Streams bool
	// Writers64 says whether the peer also runs the 64-writer workload:
	// the physical limit does, beside the store's.
	Writers64 bool
	// Open opens, or creates, the peer's store in the directory dir.
	Open func(dir string, o Options) (Log, error)
}

// Options are the choices a Log is opened with.
type Options struct {
	// NoSync makes appends durable only at the operating system's
	// discretion: the workloads fill the logs they read back this way,
	// as the store's do. The default syncs every append.
	NoSync bool
}

// All returns the peers that keep events in a local directory, in report
// order: the physical limit first.
func All() []Peer { return []Peer{Disk, SQLite, Bolt, WAL} }
