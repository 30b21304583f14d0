package backend

// Optional capabilities. An engine implements them on its KV when it can; the
// event store finds them with a type assertion, the way database/sql finds
// driver.Pinger.

// Checkpointer is a KV that can write a consistent, openable copy of itself
// into a new directory while it stays open, typically with hard links.
type Checkpointer interface {
	// Checkpoint writes the copy into dir, which must not exist yet. The
	// copy contains at least every batch committed before the call.
	Checkpoint(dir string) error
}

// Compacter is a KV that can compact its files on request, to reclaim space
// or to measure the space a store needs after compaction.
type Compacter interface {
	// Compact compacts the whole key space and returns when it is done.
	Compact() error
}

// Namer is a KV that reports the engine and library version it runs, for
// benchmark reports and diagnostics, for example "rocksdb 7.8.3".
type Namer interface {
	EngineVersion() string
}

// BatchLimiter is a KV that cannot commit a batch beyond some size
// atomically. The event store keeps its group commits within the limits and
// rejects a single append that exceeds them.
type BatchLimiter interface {
	// MaxBatchSize is the largest batch in bytes, counted as the sum of
	// the lengths of all keys and values plus 16 bytes per Set or Delete.
	MaxBatchSize() int64
	// MaxBatchCount is the largest number of Set and Delete calls.
	MaxBatchCount() int64
}
