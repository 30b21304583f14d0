// Package conformance holds the test suites that every eventstore engine must
// pass: RunBackend checks the engine contract of package backend;
// RunEventStore checks every guarantee of package eventstore on top of the
// engine, including durability across a reopen of the same directory; and
// RunCrash kills a process that writes to a store with SIGKILL, again and
// again, and checks after each kill that every acknowledged event survived.
//
// The engines in this module run the three suites in their own tests. A
// third-party engine does the same in a few lines:
//
//	package mykv_test
//
//	import (
//		"testing"
//
//		"github.com/durablelog/eventstore/conformance"
//		_ "example.com/mykv" // registers "mykv"
//	)
//
//	var h = conformance.Harness{Name: "mykv"}
//
//	func TestBackend(t *testing.T)    { conformance.RunBackend(t, h) }
//	func TestEventStore(t *testing.T) { conformance.RunEventStore(t, h) }
//	func TestKill9(t *testing.T)      { conformance.RunCrash(t, h) }
//
// Run them with -race: the suites include concurrent cases.
//
// # The crash case
//
// The process that RunCrash kills is the test binary itself: RunCrash starts
// it again, with -test.run selecting the test that called RunCrash
// (TestKill9/Kill9 above) and an environment variable that makes RunCrash,
// reached again in that process, open the store and append until it is
// killed, reporting each acknowledgement on a pipe. TestMain needs nothing
// for it (goleak.VerifyTestMain, or no TestMain, is fine); the test must
// reach RunCrash the same way in both processes, and Harness.Config must give
// the same configuration in both. A run makes 10 kills by default, in about
// 10 to 20 seconds per engine under -race; -conformance.kills=N makes N, and
// -conformance.seed repeats a run whose seed a failure logged.
//
// # Capabilities
//
// A Harness declares what the stores of its engine can do; a test that needs
// what the harness lacks is skipped with the reason, the way go-cloud's
// drivertest gates tests on a driver's capabilities:
//
//   - Volatile: the stores live in the memory of the test process (the
//     memory engine, an engine on an in-memory file system). RunCrash is
//     skipped, and so are the tests that copy a store's engine files.
//   - PowerCut: the harness can simulate a power cut, for example by running
//     the engine on pebble's crashable in-memory file system (see the tests
//     of backends/pebble). The power-cut tests of RunBackend and
//     RunEventStore run only with it: synced batches survive, unsynced ones
//     whole or not at all, and every append acknowledged in Sync mode
//     survives with its content.
//
// # Time
//
// Harness.Timeout (default 2 minutes) bounds each test and each kill of
// RunCrash: a wait for something the engine should make happen fails the test
// after half of it, and a test still running after all of it makes the test
// binary panic with every goroutine's stack, so an engine that hangs fails
// the suite instead of stalling it.
//
// The package's own tests run the suites on engines with deliberate flaws (a
// commit that drops a write, an iterator that skips or swaps keys, a Get that
// misses the last batch, a synced commit that is not durable) and require
// each suite to fail on them, and to pass on the same engines without the
// flaw.
package conformance
