package badger

import (
	"bytes"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/durablelog/eventstore/backend"
)

// NewIterator returns an iterator over the keys k with
// o.Lower <= k < o.Upper (nil bounds are open), ascending, or descending when
// o.Reverse is set. It reads a snapshot: a badger read-only transaction
// opened now, which contains every batch whose Commit has returned.
func (s *kv) NewIterator(o backend.IterOptions) (backend.Iterator, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check("NewIterator"); err != nil {
		return nil, err
	}
	it := &iterator{s: s, reverse: o.Reverse}
	// Bounds in badger's key space: every key carries keyPrefix, so
	// [keyPrefix] is below all of them and [keyPrefix+1] above.
	it.lower = []byte{keyPrefix}
	if o.Lower != nil {
		it.lower = withPrefix(o.Lower)
	}
	it.upper = []byte{keyPrefix + 1}
	if o.Upper != nil {
		it.upper = withPrefix(o.Upper)
	}
	it.txn = s.db.NewTransaction(false)
	// Values are copied one at a time in Next: badger's prefetching would
	// start a goroutine per item to copy values that may never be read.
	it.it = it.txn.NewIterator(bdg.IteratorOptions{Reverse: o.Reverse, PrefetchValues: false})
	return it, nil
}

// iterator walks a badger iterator within its bounds. Key and Value are
// copies into buffers that the next call to Next reuses.
type iterator struct {
	s            *kv
	txn          *bdg.Txn
	it           *bdg.Iterator
	lower, upper []byte // with keyPrefix; lower inclusive, upper exclusive
	reverse      bool

	started  bool
	done     bool // exhausted or failed
	closed   bool
	key, val []byte // current item; key includes keyPrefix
	err      error
	reported bool // Err returned err
}

// Next moves to the next key in the iterator's direction. It returns false
// at the end of the range or on an error, which Err then returns. A table
// block whose damage makes badger panic is such an error, wrapping
// backend.ErrCorrupt.
func (it *iterator) Next() (ok bool) {
	if it.done || it.closed {
		return false
	}
	it.s.mu.RLock()
	defer it.s.mu.RUnlock()
	if it.s.closed {
		return it.fail(errClosed("Iterator.Next"))
	}
	defer func() {
		if r := recover(); r != nil {
			ok = it.fail(readPanic(it.s.dir, "iterate", r))
		}
	}()
	if !it.started {
		it.started = true
		if it.reverse {
			it.it.Seek(it.upper) // the largest key <= upper
		} else {
			it.it.Seek(it.lower) // the smallest key >= lower
		}
	} else {
		it.it.Next()
	}
	for ; it.it.Valid(); it.it.Next() {
		item := it.it.Item()
		k := item.Key()
		if it.reverse {
			if bytes.Compare(k, it.upper) >= 0 {
				continue // upper itself: the bound is exclusive
			}
			if bytes.Compare(k, it.lower) < 0 {
				break
			}
		} else if bytes.Compare(k, it.upper) >= 0 {
			break
		}
		it.key = item.KeyCopy(it.key[:0])
		v, err := readValue(item, it.val[:0])
		if err != nil {
			return it.fail(wrapErr(it.s.dir, "read the value of key "+keyString(it.key[1:]), err))
		}
		it.val = v
		return true
	}
	it.done = true
	it.key, it.val = nil, nil
	return false
}

func (it *iterator) fail(err error) bool {
	it.err = err
	it.done = true
	it.key, it.val = nil, nil
	return false
}

// Key returns the current key, valid until the next call to Next or Close.
func (it *iterator) Key() []byte {
	if it.key == nil {
		return nil
	}
	return it.key[1:]
}

// Value returns the current value, valid until the next call to Next or
// Close.
func (it *iterator) Value() []byte { return it.val }

// Err returns the error that stopped the iteration, if any. A checksum
// failure wraps backend.ErrCorrupt.
func (it *iterator) Err() error {
	if it.err != nil {
		it.reported = true
	}
	return it.err
}

// Close releases the badger iterator and its read transaction. It returns the
// iteration error unless Err already returned it. Once the store is closed,
// Close releases nothing and returns an error wrapping backend.ErrClosed:
// badger's resources went with the store, and releasing the iterator's
// references to tables and memtables after DB.Close would act on files badger
// has already closed.
func (it *iterator) Close() error {
	if it.closed {
		return nil
	}
	it.closed = true
	it.key, it.val = nil, nil
	it.s.mu.RLock()
	defer it.s.mu.RUnlock()
	if it.s.closed {
		return errClosed("Iterator.Close")
	}
	it.it.Close()
	it.txn.Discard()
	if it.reported {
		return nil
	}
	return it.err
}
