package backend

import (
	"log/slog"
)

// Engine opens stores of one kind. It is what an engine package registers.
// Implementations must be safe for concurrent use.
type Engine interface {
	// Open opens, or creates when missing, the store whose files live in
	// dir. The caller creates dir beforehand and guarantees that no other
	// KV is open on the same dir (the event store holds an owner lock).
	//
	// Open must recover the engine's own state (for example replay its
	// write-ahead log) before it returns, and must fail, with an error
	// wrapping ErrCorrupt, rather than return a KV whose contents it knows
	// to be damaged.
	Open(dir string, opts Options) (KV, error)
}

// Options are the engine-independent settings passed to Engine.Open. The
// event store fills every field; an engine never sees a nil Logger.
type Options struct {
	// Logger receives the engine's diagnostics. Never nil.
	Logger *slog.Logger

	// Config holds engine-specific settings, such as *rocksdb.Options. It
	// is nil when the user set none, and the engine then uses its defaults.
	// An engine must return an error when Config has a type it does not
	// accept.
	Config any
}

// KV is an open ordered key-value store.
//
// Keys are compared as unsigned byte strings (bytes.Compare). Keys are never
// empty. Values may be empty.
//
// Concurrency: Get, NewIterator and NewBatch may be called from any number of
// goroutines at once, also while a batch commits. Sync may be called while a
// batch commits (the event store syncs the batches written so far while it
// writes the next one): an engine that cannot overlap them must order them
// itself, and a Sync must never report success for a batch whose Commit
// failed. The event store commits at most one batch at a time, but an engine
// must not rely on it. Close must not be called concurrently with any other
// method, and only once all iterators are closed and all batches are
// committed or closed.
type KV interface {
	// Get returns a copy of the value stored under key, which the caller
	// owns, and found=true; or nil, false, nil when key is absent. Get sees
	// every batch whose Commit has returned.
	Get(key []byte) (value []byte, found bool, err error)

	// NewIterator returns an iterator over the keys k with
	// opts.Lower <= k < opts.Upper (a nil bound is open), in ascending
	// order, or in descending order when opts.Reverse is set. The iterator
	// sees a consistent view that contains at least every batch whose
	// Commit returned before NewIterator was called.
	NewIterator(opts IterOptions) (Iterator, error)

	// NewBatch returns an empty batch. Batches are not safe for concurrent
	// use.
	NewBatch() Batch

	// Sync makes every committed batch durable, including those committed
	// without sync. It returns only once they are on stable storage, or
	// with an error, after which their durability is unknown.
	Sync() error

	// Close releases the store. Committed batches stay visible to a later
	// Open. Batches committed without sync may be lost on a power cut, but
	// Close returns an error rather than lose them in any other way.
	// Methods called after Close return errors wrapping ErrClosed.
	Close() error
}

// IterOptions bounds an iterator.
type IterOptions struct {
	// Lower is the inclusive lower bound; nil means the first key.
	Lower []byte
	// Upper is the exclusive upper bound; nil means past the last key.
	Upper []byte
	// Reverse iterates from the largest key down to the smallest.
	Reverse bool
}

// Iterator walks the keys of a KV in order. It starts before the first key:
// call Next to move to it. An Iterator is not safe for concurrent use.
type Iterator interface {
	// Next moves to the next key in the iterator's direction. It returns
	// false when there is none left or on an error; Err tells which.
	Next() bool

	// Key returns the current key. The slice is valid only until the next
	// call to Next or Close, and must not be modified.
	Key() []byte

	// Value returns the current value. The slice is valid only until the
	// next call to Next or Close, and must not be modified.
	Value() []byte

	// Err returns the error, if any, that stopped the iteration. A
	// checksum failure detected by the engine wraps ErrCorrupt.
	Err() error

	// Close releases the iterator. It must be called exactly once, also
	// after Next returned false. It returns Err if not already reported.
	Close() error
}

// Batch is a set of writes that Commit applies atomically: after a crash,
// either every write of a committed batch is present or none is.
type Batch interface {
	// Set stores value under key. The batch copies both slices.
	Set(key, value []byte)

	// Delete removes key, if present. The batch copies the slice.
	Delete(key []byte)

	// Len returns the number of Set and Delete calls so far.
	Len() int

	// Commit applies the batch atomically. With sync=true it must not
	// return before the batch is on stable storage (it survives a power
	// cut). With sync=false the batch must survive a crash of the process
	// once Commit returns, not necessarily a power cut.
	//
	// An error means the batch may or may not be applied or durable; the
	// caller must treat the store as failed and never retry the sync as if
	// it had worked. A batch is committed at most once; Commit releases it.
	Commit(sync bool) error

	// Close releases a batch that will not be committed. Calling Close
	// after Commit is allowed and does nothing.
	Close()
}
