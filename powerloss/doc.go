// Package powerloss holds the power-loss and I/O fault-injection tests of
// the event store; it has no API. See docs/reliability.md for the model and
// the figures, and the test files:
//
//   - fuse_test.go: every engine (rocksdb, pebble, badger, sqlite) and the snapshot
//     files on internal/lazyfs, a FUSE file system that drops what was not
//     fsynced: run the torture workload in a child process, cut the power
//     at a random moment, remount, recover, verify, go on.
//   - pebble_test.go: pebble in process on vfs.NewCrashableMem, thousands of
//     crash clones taken while appends run, each reopened and verified.
//   - faults_test.go: I/O errors on write, sync and rename, through pebble's
//     errorfs, lazyfs rules and internal/faultkv, on every engine.
//   - nosync_test.go: NoSync mode on badger and sqlite, power cuts at random
//     moments and at WAL fsyncs: losses reported or counted, stores open.
//
// The short versions run in go test; the long ones (make powerloss) take
// flags, see config_test.go.
package powerloss
