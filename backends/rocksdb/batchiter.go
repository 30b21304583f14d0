package rocksdb

// #include "batchiter.h"
import "C"

import (
	"unsafe"

	"github.com/durablelog/eventstore/backend"
	"github.com/linxGnu/grocksdb"
)

var _ backend.BatchIterator = (*iterator)(nil)

// grocksdb v1.7.14 does not export the C iterator of a grocksdb.Iterator,
// whose only field it is. These two arrays have a negative length, and
// the package does not compile, if a grocksdb upgrade changes its size.
var (
	_ [unsafe.Sizeof(grocksdb.Iterator{}) - unsafe.Sizeof(uintptr(0))]struct{}
	_ [unsafe.Sizeof(uintptr(0)) - unsafe.Sizeof(grocksdb.Iterator{})]struct{}
)

// cIterator returns the C iterator that g wraps.
func cIterator(g *grocksdb.Iterator) *C.rocksdb_iterator_t {
	return *(**C.rocksdb_iterator_t)(unsafe.Pointer(g))
}

// NextBatch copies pairs into a Go buffer of firstBufSize bytes, which
// doubles up to maxBufSize while batches fill it, and grows beyond for a
// pair larger than it: a short read allocates little, a long scan makes
// few calls.
const (
	firstBufSize = 16 << 10
	maxBufSize   = 256 << 10
)

// NextBatch implements backend.BatchIterator. One cgo call copies up to
// len(pairs) keys and values into a buffer of the iterator, instead of
// four cgo calls per key with Next; the pairs point into that buffer.
func (it *iterator) NextBatch(pairs []backend.Pair, maxBytes int) int {
	it.key, it.value = nil, nil
	if it.done || len(pairs) == 0 {
		return 0
	}
	it.s.mu.RLock()
	defer it.s.mu.RUnlock()
	if it.s.closed { // unreachable: Close released the iterator; kept for safety
		it.done, it.err = true, errClosed
		return 0
	}
	advance := it.started && !it.pending
	if !it.started {
		it.started = true
		if it.reverse {
			it.it.SeekToLast()
		} else {
			it.it.SeekToFirst()
		}
	}
	if len(it.buf) == 0 {
		it.buf = make([]byte, firstBufSize)
	} else if it.pending && len(it.buf) < maxBufSize {
		// The last batch filled the buffer. Its pairs stay valid in
		// the old one until this call returns.
		it.buf = make([]byte, 2*len(it.buf))
	}
	if cap(it.lens) < 2*len(pairs) {
		it.lens = make([]C.size_t, 2*len(pairs))
	}
	var state C.int
	var need C.size_t
	var n int
	for {
		n = int(C.eventstore_rocksdb_fill(cIterator(it.it), cBool(it.reverse), cBool(advance),
			(*C.char)(unsafe.Pointer(unsafe.SliceData(it.buf))), C.size_t(len(it.buf)),
			unsafe.SliceData(it.lens), C.int(len(pairs)), C.size_t(max(maxBytes, 0)), &state, &need))
		if n > 0 || state != C.EVENTSTORE_FILL_PENDING {
			break
		}
		it.buf = make([]byte, max(int(need), 2*len(it.buf))) // a pair larger than the buffer
		advance = false
	}
	it.pending = state == C.EVENTSTORE_FILL_PENDING
	if state == C.EVENTSTORE_FILL_END {
		it.done = true
		it.err = wrap("iterate", it.s.dir, it.it.Err())
	}
	at := 0
	for i := range n {
		kl, vl := int(it.lens[2*i]), int(it.lens[2*i+1])
		pairs[i] = backend.Pair{Key: it.buf[at : at+kl : at+kl], Value: it.buf[at+kl : at+kl+vl : at+kl+vl]}
		at += kl + vl
	}
	if n > 0 {
		it.key, it.value = pairs[n-1].Key, pairs[n-1].Value
	}
	return n
}

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
