// Package torture is the workload, the acknowledgement protocol and the
// verifier of the durability tests (kill -9, power loss, I/O faults), and
// the corruption trial runner and classifier. It is a library for tests: the
// test packages (torture/, powerloss/, internal/lazyfs/) drive it.
//
// # The workload
//
// A Workload appends from several goroutines (Workers) to random streams,
// with exact and Any expected versions and 1 to Shape.MaxEvents events per
// append. The content of every append is a pure function of the Shape and the
// append's AppendID (epoch, worker, sequence): Plan regenerates it. Every
// event carries its append's id, its index and the append's size in its
// metadata (keys MetaAppend, MetaIndex, MetaCount), so a verifier that finds
// a record in the log knows which append it belongs to and what its bytes
// must be, whether or not the append was acknowledged.
//
//	h := torture.NewHistory(shape)          // what was acknowledged
//	sm := new(conformance.HashState)
//	s, err := torture.Open(dir, sm, eventstore.WithBackend("pebble"))
//	stats, err := torture.Workload{Shape: shape, Epoch: 1}.Run(ctx, s, h)
//
// Run reports an append to its Sink only after Append returned nil (Ack), and
// an append that failed with a wrong expected version (Reject), which must
// then be absent from the log. A History is a Sink; it is safe for
// concurrent use, and History.Acks returns what was acknowledged so far:
// take it BEFORE a simulated crash (for example before vfs CrashClone) and
// every ack in it must survive the crash.
//
// Epochs: one directory is written by many runs in turn (one per kill); each
// run gets its own Epoch so that append ids, and therefore event ids, never
// repeat. The History spans all of them.
//
// # The verifier
//
// Check reopens nothing: it takes a Store opened with a fresh HashState (see
// Open) and checks, streaming over the whole log:
//
//   - the recovery report lost nothing (LostEvents == 0, no HoleAt, no
//     LostSnapshots, the head not below the HeadMark), its Generation is the
//     store's, and, with CheckOptions.Generation, the expected one;
//   - Verify passes (checksums, dense offsets, dense versions, indexes);
//   - offsets are dense from 1 and every stream's versions are dense from 1;
//   - every record is byte-identical to what its append submitted (Plan),
//     in the append's stream, at consecutive offsets and versions;
//   - every append is present whole or absent (no append in part), and at
//     most once;
//   - every acknowledged append is present at the offsets, version and
//     content its Ack reported;
//   - no rejected append is present;
//   - the recovered state (the HashState) equals conformance.Fold over the
//     whole log.
//
// It returns a Report with the figures (acknowledged appends and events
// checked, lost, unacknowledged-but-present) and an error listing the
// violations found (at most a few of each kind). Inspect returns the same
// report without the verdict (the corruption classifier uses it), and
// CheckWith can skip Store.Verify and resume the fold from an earlier check
// (CheckOptions), for long runs. Report.Survivors are the unacknowledged
// appends found present: a caller that goes on appending adopts them
// (History.Ack) so that later checks require them too.
//
// # Child processes
//
// The kill -9 and corruption tests run the store in a child process: the
// test binary re-executes itself. A test package's TestMain calls
// MaybeRunChild first, which runs the child's part and exits when the
// environment variable ChildEnv is set, and returns otherwise:
//
//	func TestMain(m *testing.M) {
//		torture.MaybeRunChild()
//		goleak.VerifyTestMain(m)
//	}
//
// StartWorkloadChild starts a child that opens the store (Sync, HashState,
// EveryN(50)) and runs a Workload, and feeds the child's acknowledgements,
// read from a pipe (the child's file descriptor 3, one JSON line each,
// written after Append returned nil), into a History. Child.Kill sends
// SIGKILL and returns once every line the child wrote has been read. A child
// also exits when its standard input reaches EOF, so a dead parent leaves no
// child behind.
//
// # The kill -9 loop
//
// KillLoop runs the whole kill -9 torture of one directory: start a workload
// child, kill it at a random moment drawn from the seed (during Open, after
// a random delay, or after a random number of acknowledgements), reopen and
// Check (the child's recovery report too: nothing lost, and the generation
// of the first check throughout), adopt the survivors, and go on with the
// next epoch. Its AfterKill
// hook runs between the kill and the reopen (a power-loss test can drop the
// unsynced writes there). Its error names the engine, the seed and the
// iteration; KillStats has the figures.
//
// Open retries a locked directory for a while (LockRetry): the store's
// flock stays held by a child forked, but not yet exec'd, by a test process
// that runs several loops at once.
//
// # Corruption trials
//
// BuildTemplate writes a store with a known History in a workload child and
// either closes it cleanly or kills the child after the last
// acknowledgement. RunTrial copies a template, applies one Damage (flip bits,
// zero a 4 KiB block, truncate, delete) to one file of the directory (engine
// files, snapshots, STORE, LOCK, HEADMARK), then opens and reads the copy in
// a child process and classifies the outcome (Outcome): detected, clean,
// prefix, tail-loss (undetected), error (loud, but not ErrCorrupt), silent,
// crash.
// Campaign plans and runs many trials (a few per damage kind on random
// files, or every file exhaustively) and Table renders the counts. See
// docs/reliability.md for the model and the figures.
package torture
