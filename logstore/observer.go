package logstore

import "time"

// Observer receives a log's measurements, for the store's metrics
// (eventstore.Store.Metrics). A log calls it on its own goroutines: the
// methods must be cheap (atomic updates) and safe for concurrent use.
type Observer interface {
	// Commit reports one group commit that succeeded: the appends and
	// events it made durable, the events' data and metadata bytes, and
	// how long the storage took to write and sync it (the engine's write
	// and sync, or a database's transaction).
	Commit(appends, events int, bytes int64, d time.Duration)
	// Retry reports an append recognised as a retry of an earlier one
	// (idempotent by event ids), which wrote nothing.
	Retry()
}

// Failer is a Log that stops for good after a failed write or sync (an
// embedded engine's log): the store's metrics report the failed state.
type Failer interface {
	// Failed returns the failure that stopped the log, or nil.
	Failed() error
}

// QueueDepther is a Log that can tell how many appends wait for its
// committer: a gauge of the store's metrics.
type QueueDepther interface {
	// QueueDepth returns the number of appends queued and not yet taken
	// into a group commit.
	QueueDepth() int
}
