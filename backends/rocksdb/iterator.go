package rocksdb

// #include "batchiter.h"
import "C"

import (
	"bytes"
	"unsafe"

	"github.com/durablelog/eventstore/backend"
	"github.com/linxGnu/grocksdb"
)

// iterator is a backend.Iterator over a RocksDB iterator bounded with
// iterate_lower_bound and iterate_upper_bound.
//
// RocksDB keeps pointers to the bounds, and to the ReadOptions holding them,
// for the life of the C iterator, so the bounds are copied to the C heap and
// both are freed only when the iterator is released.
type iterator struct {
	s       *kv
	it      *grocksdb.Iterator    // nil for a range that is empty by its bounds
	ro      *grocksdb.ReadOptions // alive as long as it
	lower   []byte                // C heap copy of the lower bound, or nil
	upper   []byte                // C heap copy of the upper bound, or nil
	reverse bool

	started  bool // the C iterator has been positioned
	pending  bool // it is on a key NextBatch did not return: Next stays
	done     bool // Next returns false from now on
	closed   bool // Close was called
	key      []byte
	value    []byte
	err      error
	reported bool // Err returned err

	buf  []byte     // NextBatch's copies of keys and values
	lens []C.size_t // NextBatch's lengths: key, value, key, ...
}

// newIterator creates the iterator for o. s.mu must be held.
func newIterator(s *kv, o backend.IterOptions) *iterator {
	it := &iterator{s: s, reverse: o.Reverse}
	if o.Upper != nil && (len(o.Upper) == 0 || (o.Lower != nil && bytes.Compare(o.Lower, o.Upper) >= 0)) {
		it.done = true // no key can be in the range: keys are never empty
		return it
	}
	it.ro = grocksdb.NewDefaultReadOptions()
	it.ro.SetVerifyChecksums(true)
	if it.lower = cBytes(o.Lower); it.lower != nil {
		it.ro.SetIterateLowerBound(it.lower)
	}
	if it.upper = cBytes(o.Upper); it.upper != nil {
		it.ro.SetIterateUpperBound(it.upper)
	}
	it.it = s.db.NewIterator(it.ro)
	return it
}

// Next implements backend.Iterator. The first call positions the iterator on
// the first key in its direction.
func (it *iterator) Next() bool {
	if it.done {
		return false
	}
	it.s.mu.RLock()
	defer it.s.mu.RUnlock()
	if it.s.closed { // unreachable: Close released the iterator; kept for safety
		it.done, it.err = true, errClosed
		return false
	}
	move := C.int(C.EVENTSTORE_STEP_NEXT)
	switch {
	case it.pending:
		move = C.EVENTSTORE_STEP_STAY // NextBatch stopped on a key it did not return
		it.pending = false
	case !it.started:
		it.started = true
		move = C.EVENTSTORE_STEP_FIRST
		if it.reverse {
			move = C.EVENTSTORE_STEP_LAST
		}
	case it.reverse:
		move = C.EVENTSTORE_STEP_PREV
	}
	// One cgo call moves and reads the entry. Key and Value are views of
	// memory the C iterator owns until it moves or is destroyed, which is
	// exactly the contract's validity.
	e := C.eventstore_rocksdb_step(cIterator(it.it), move)
	if e.valid == 0 {
		it.done, it.key, it.value = true, nil, nil
		it.err = wrap("iterate", it.s.dir, it.it.Err())
		return false
	}
	it.key = unsafe.Slice((*byte)(unsafe.Pointer(e.key)), int(e.key_len))
	it.value = unsafe.Slice((*byte)(unsafe.Pointer(e.value)), int(e.value_len))
	return true
}

// Key implements backend.Iterator.
func (it *iterator) Key() []byte { return it.key }

// Value implements backend.Iterator.
func (it *iterator) Value() []byte { return it.value }

// Err implements backend.Iterator. A checksum failure wraps
// backend.ErrCorrupt.
func (it *iterator) Err() error {
	if it.err != nil {
		it.reported = true
	}
	return it.err
}

// Close implements backend.Iterator. It returns the error that stopped the
// iteration unless Err already returned it, and an error wrapping
// backend.ErrClosed when the KV was closed first. Calls after the first
// return nil.
func (it *iterator) Close() error {
	if it.closed {
		return nil
	}
	it.closed = true
	it.s.mu.RLock()
	defer it.s.mu.RUnlock()
	if it.s.closed { // the KV's Close released the iterator
		return errClosed
	}
	if it.it != nil {
		it.s.forget(it)
		it.release(nil)
	}
	if it.reported {
		return nil
	}
	return it.err
}

// release frees the C objects. s.mu must be held. A non-nil err becomes the
// iterator's error, unless it already has one.
func (it *iterator) release(err error) {
	it.it.Close()
	it.ro.Destroy()
	freeCBytes(it.lower)
	freeCBytes(it.upper)
	it.it, it.ro, it.lower, it.upper = nil, nil, nil, nil
	it.done, it.key, it.value = true, nil, nil
	if it.err == nil {
		it.err = err
	}
}
