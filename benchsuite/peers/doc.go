// Package peers holds the baselines that a Go user would otherwise write
// instead of using the event store, measured by the same workloads in the
// same run (see `eventstore bench`):
//
//   - "sqlite-events": an events table in SQLite (github.com/mattn/go-sqlite3),
//     written the way its users write one: events(position INTEGER PRIMARY
//     KEY, stream, version, type, data, UNIQUE(stream, version)), WAL mode,
//     synchronous=FULL, one transaction per append, the expected-version check
//     in the INSERT itself;
//   - "bbolt": go.etcd.io/bbolt, a bucket for the global log and one per
//     stream, one Update transaction per append (bbolt fsyncs every commit);
//   - "tidwall-wal": github.com/tidwall/wal, an append-only log library, synced
//     on every write: the "custom log" off the shelf, with no streams and no
//     concurrency control, the upper bound of the simple approach;
//   - "disk": the physical limit, a hand-written log over a preallocated file:
//     concurrent appends share one pwrite and one fdatasync (group commit),
//     and a read is a sequential pass over the file;
//   - "pgx": for the postgres backend, plain pgx sessions that INSERT and
//     COMMIT rows of 200 bytes, one at a time or 100 per statement.
//
// Each peer but pgx is a Log; Workloads gives a peer's workloads, named as
// the event store's own (benchsuite) so that the report puts them side by
// side: one and 16 synced writers, each appending single events to its own
// stream (the peer's own locking serialises them), appends of 100, a full
// scan, and a restart of a million events, which for a peer means reading
// everything back.
package peers
