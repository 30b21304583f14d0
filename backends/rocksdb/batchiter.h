// See batchiter.c and batchiter.go.

#ifndef EVENTSTORE_ROCKSDB_BATCHITER_H
#define EVENTSTORE_ROCKSDB_BATCHITER_H

#include <stddef.h>

#include "rocksdb/c.h"

// Where eventstore_rocksdb_fill leaves the iterator.
enum {
  // On the last pair copied (or where it was, when none was).
  EVENTSTORE_FILL_ON_LAST = 0,
  // On a pair not copied, which did not fit: *need is its size.
  EVENTSTORE_FILL_PENDING = 1,
  // Not valid: past the last key, or stopped by an error.
  EVENTSTORE_FILL_END = 2,
};

// eventstore_rocksdb_fill moves it forward (backward when reverse), first
// past its current entry when advance is set, and copies each key and value
// it reaches into buf, back to back, recording their lengths in lens (key,
// value, key, ...), until max_pairs pairs are copied, max_bytes (when > 0)
// are used, the next pair does not fit in cap, or it is no longer valid. It
// returns the number of pairs copied and says in *state where it left it.
int eventstore_rocksdb_fill(rocksdb_iterator_t* it, int reverse, int advance,
                            char* buf, size_t cap, size_t* lens, int max_pairs,
                            size_t max_bytes, int* state, size_t* need);

#endif
