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
