package kvlog

import "github.com/durablelog/eventstore/backend"

// scanBatch is how many pairs a scan asks a backend.BatchIterator for per
// call.
const scanBatch = 256

// scan calls visit for each key and value of it, in order, until visit
// returns true (scan then returns true) or an error, or the keys run out. It
// moves it with NextBatch when the engine's iterator is a
// backend.BatchIterator, with Next otherwise; maxBytes, when > 0, is the
// number of value bytes past which visit will stop the scan, so that a
// batch does not read far beyond it. The slices visit gets are valid only
// during the call. The caller checks it.Err once scan returns false.
func scan(it backend.Iterator, maxBytes int, visit func(key, val []byte) (bool, error)) (bool, error) {
	bi, ok := it.(backend.BatchIterator)
	if !ok {
		for it.Next() {
			if stop, err := visit(it.Key(), it.Value()); stop || err != nil {
				return stop, err
			}
		}
		return false, nil
	}
	pairs := make([]backend.Pair, scanBatch)
	seen := 0
	for {
		limit := 0
		if maxBytes > 0 {
			// Keys count in a batch's bytes, values in maxBytes: the
			// batch may stop a little early, never late.
			limit = max(maxBytes-seen, 1)
		}
		n := bi.NextBatch(pairs, limit)
		if n == 0 {
			return false, nil
		}
		for _, p := range pairs[:n] {
			seen += len(p.Value)
			if stop, err := visit(p.Key, p.Value); stop || err != nil {
				return stop, err
			}
		}
	}
}
