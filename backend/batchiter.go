package backend

// Pair is one key and its value, as BatchIterator.NextBatch fills them.
type Pair struct {
	Key, Value []byte
}

// BatchIterator is an Iterator that can also move past many keys in one
// call. It is an optional capability of the Iterator that KV.NewIterator
// returns: the event store finds it with a type assertion and falls back
// on the Next loop when an engine lacks it. It pays off where each Next
// costs a call across a boundary, such as cgo.
type BatchIterator interface {
	Iterator
	// NextBatch moves past the next keys in the iterator's direction,
	// the same keys that as many calls of Next would visit, and fills
	// pairs[:n] with them and their values, in order. It fills at least
	// one pair when any key is left and len(pairs) > 0, at most
	// len(pairs), and stops early once the pairs filled reach maxBytes
	// of keys and values (maxBytes <= 0: no such limit).
	//
	// n == 0 means that no key is left or that an error stopped the
	// iteration; Err tells which, as after Next returned false. A
	// checksum failure detected by the engine wraps ErrCorrupt, and no
	// pair read after it is filled in.
	//
	// The slices filled in are valid only until the next call to Next,
	// NextBatch or Close, and must not be modified. Next and NextBatch
	// may be mixed: each continues after the last key the other visited.
	// After NextBatch, Key and Value return the last pair filled, or nil
	// when n == 0.
	NextBatch(pairs []Pair, maxBytes int) (n int)
}
