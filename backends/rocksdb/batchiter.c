// The copy loop behind iterator.NextBatch: many key/value pairs per cgo
// call, into a buffer that Go owns; and the step behind iterator.Next. They
// allocate nothing.

#include <string.h>

#include "batchiter.h"

int eventstore_rocksdb_fill(rocksdb_iterator_t* it, int reverse, int advance,
                            char* buf, size_t cap, size_t* lens, int max_pairs,
                            size_t max_bytes, int* state, size_t* need) {
  size_t used = 0;
  int n = 0;
  *need = 0;
  while (n < max_pairs) {
    if (advance) {
      if (reverse) {
        rocksdb_iter_prev(it);
      } else {
        rocksdb_iter_next(it);
      }
    }
    advance = 1;
    if (!rocksdb_iter_valid(it)) {
      *state = EVENTSTORE_FILL_END;
      return n;
    }
    size_t kl = 0, vl = 0;
    const char* k = rocksdb_iter_key(it, &kl);
    const char* v = rocksdb_iter_value(it, &vl);
    if (kl + vl > cap - used) {
      *state = EVENTSTORE_FILL_PENDING;
      *need = kl + vl;
      return n;
    }
    memcpy(buf + used, k, kl);
    used += kl;
    memcpy(buf + used, v, vl);
    used += vl;
    lens[2 * n] = kl;
    lens[2 * n + 1] = vl;
    n++;
    if (max_bytes > 0 && used >= max_bytes) {
      break;
    }
  }
  *state = EVENTSTORE_FILL_ON_LAST;
  return n;
}

eventstore_rocksdb_entry eventstore_rocksdb_step(rocksdb_iterator_t* it, int move) {
  switch (move) {
    case EVENTSTORE_STEP_FIRST:
      rocksdb_iter_seek_to_first(it);
      break;
    case EVENTSTORE_STEP_LAST:
      rocksdb_iter_seek_to_last(it);
      break;
    case EVENTSTORE_STEP_NEXT:
      rocksdb_iter_next(it);
      break;
    case EVENTSTORE_STEP_PREV:
      rocksdb_iter_prev(it);
      break;
  }
  eventstore_rocksdb_entry e = {0, NULL, 0, NULL, 0};
  if (!rocksdb_iter_valid(it)) {
    return e;
  }
  e.valid = 1;
  e.key = rocksdb_iter_key(it, &e.key_len);
  e.value = rocksdb_iter_value(it, &e.value_len);
  return e;
}
