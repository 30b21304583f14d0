// Package benchsuite holds the benchmark workloads that every eventstore
// engine runs, written once, the way package conformance holds the tests.
//
// Each Workload is a plain function, so that it runs both as a testing.B
// benchmark (Bench, used by each backend's bench_test.go) and from the
// `eventstore bench` command, which repeats the workloads and writes the
// comparison report. Workloads cover appends (one writer, 16 and 64 writers
// with group commit, appends of 100, NoSync, event sizes), reads (log scan,
// stream read, Subscribe catch-up), restarts (Open with a state machine, with
// and without snapshots), and the baselines measured in the same run: the raw
// disk (write+fsync) and the raw engine (the same keys and bytes written and
// scanned straight through the engine contract, with no event-store layer).
//
// A workload says where it runs (Workload.RunsOn): the raw engine workloads
// only on engines, not on a log backend such as postgres; a Standalone one
// on no backend at all. Package peers holds, as Standalone workloads of the
// same names, the physical limit of the disk and the stores a Go user would
// otherwise write (SQLite, bbolt, tidwall/wal, plain pgx); package
// rocksloop, a plain grocksdb iterator loop for RocksDB.
package benchsuite
