package logstore

import "context"

// Checkpointer is a Log that can write a consistent, openable copy of its
// storage into a new directory while it stays open: the fast path of
// backups.
type Checkpointer interface {
	// Checkpoint writes the copy into dir, which must not exist yet, and
	// returns the offset of the last record the copy holds: at least the
	// head when Checkpoint was called. Appends may wait while it runs. It
	// fails with an error wrapping ErrUnsupported when the storage cannot
	// checkpoint itself, and with ErrClosed once the log is closing.
	Checkpoint(ctx context.Context, dir string) (Offset, error)
}

// LogAppender is a Log that can append what ReadLog returns to a caller's
// slice. A caller that reads the log chunk after chunk, and is done with a
// chunk's slice before it reads the next, then reuses one slice for all of
// them: the event store does for Log, Subscribe and the replay at Open.
type LogAppender interface {
	// AppendLog is ReadLog, with the records appended to dst and the
	// extended slice returned. On an error it returns nil. The records
	// share no memory with dst's earlier contents.
	AppendLog(ctx context.Context, dst []Record, from Offset, limit, maxBytes int) ([]Record, error)
}
