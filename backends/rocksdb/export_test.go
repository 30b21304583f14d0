package rocksdb

import "github.com/durablelog/eventstore/backend"

// KeepWALOnClose makes Close of kv leave the memtables in the write-ahead
// log, as a crash would, so that a test can damage the log of a closed store.
func KeepWALOnClose(db backend.KV) { db.(*kv).keepWAL = true }
