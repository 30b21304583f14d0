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

// What eventstore_rocksdb_step returns: valid, and the iterator's key and
// value (memory the iterator owns) when valid.
typedef struct {
  int valid;
  const char* key;
  size_t key_len;
  const char* value;
  size_t value_len;
} eventstore_rocksdb_entry;

// Moves of eventstore_rocksdb_step.
enum {
  EVENTSTORE_STEP_STAY = 0,
  EVENTSTORE_STEP_FIRST = 1,
  EVENTSTORE_STEP_LAST = 2,
  EVENTSTORE_STEP_NEXT = 3,
  EVENTSTORE_STEP_PREV = 4,
};

// eventstore_rocksdb_step moves it as move says and returns where it is:
// one cgo call per Next, and no Go pointer passed.
eventstore_rocksdb_entry eventstore_rocksdb_step(rocksdb_iterator_t* it, int move);

#endif
