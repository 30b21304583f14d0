package conformance

import (
	"testing"
	"time"

	"github.com/durablelog/eventstore/backend"
)

// Harness describes the engine under test, and declares what it can do
// (Volatile, PowerCut), so that a test needing something it lacks takes
// another path or is skipped with the reason. Only Name is required.
type Harness struct {
	// Name is the name the engine is registered under, for example
	// "rocksdb". The suites look the engine up with backend.Lookup unless
	// Engine is set.
	Name string

	// Engine, when not nil, is the engine to test. Set it to test an engine
	// that is not registered.
	Engine backend.Engine

	// Config, when not nil, returns the engine-specific configuration
	// passed as backend.Options.Config (and eventstore.WithBackendConfig)
	// for a store in dir. Called once for each Open, also for a reopen of
	// the same dir.
	Config func(t testing.TB, dir string) any

	// NewDir, when not nil, returns a fresh empty directory for one store.
	// The default is t.TempDir().
	NewDir func(t testing.TB) string

	// Volatile declares that the stores of the harness keep their data in
	// the memory of the test process, not in files under their directory,
	// so nothing of a store outlives the process: the memory engine, or an
	// engine on an in-memory file system. Data must still survive Close and
	// a reopen of the same dir within the process. RunCrash, which kills
	// the process that writes, skips for such a harness, and so do the
	// tests that copy a store's engine files.
	Volatile bool

	// LogBackend declares a log backend (registered with logstore.Register,
	// such as PostgreSQL) rather than an engine: its data is not in the
	// store's directory, so the tests that open an engine under a store or
	// copy its files are skipped; the backend's own tests cover damage to
	// its data.
	LogBackend bool

	// PowerCut, when not nil, simulates a power cut, and declares that the
	// harness can: once it returns, every store of the harness has lost
	// what was not durable at the call (batches committed without sync
	// and not covered by a later synced commit or Sync), as if the machine
	// had lost power. The KVs and event stores open at the call are only
	// closed afterwards (their Close may fail; its writes must not reach
	// the durable state), and a later Open of their directories sees the
	// durable state. The power-cut tests of RunBackend and RunEventStore
	// run only with it. An engine on pebble's crashable in-memory file
	// system (vfs.NewCrashableMem) implements it by making Config return a
	// CrashClone of the file system from then on.
	PowerCut func(t testing.TB)

	// Kills is the number of times RunCrash kills the writer. The default
	// is 10; the flag -conformance.kills overrides it.
	Kills int

	// Timeout bounds each test of RunBackend and RunEventStore, and each
	// kill of RunCrash (start the writer, kill it, reopen and check). A
	// wait for the engine (a record, a goroutine) fails the test after half
	// of it, and a test still running after all of it makes the test binary
	// panic with every goroutine's stack: an engine that hangs fails the
	// suite rather than stall it. The default is 2 minutes.
	Timeout time.Duration
}

// DefaultTimeout is the default of Harness.Timeout.
const DefaultTimeout = 2 * time.Minute

func (h Harness) timeout() time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	return DefaultTimeout
}

// skipWithoutEngine skips a test that opens the engine under a store.
func (h Harness) skipWithoutEngine(t *testing.T) {
	t.Helper()
	if h.LogBackend {
		t.Skip("a log backend keeps its data outside the store's directory")
	}
}

// skipWithoutEngineFiles skips a test that needs the engine's files in the
// store's directory.
func (h Harness) skipWithoutEngineFiles(t *testing.T) {
	t.Helper()
	h.skipWithoutEngine(t)
	if h.Volatile {
		t.Skip("the engine keeps no files")
	}
}

func (h Harness) engine(t testing.TB) backend.Engine {
	t.Helper()
	if h.Engine != nil {
		return h.Engine
	}
	e, err := backend.Lookup(h.Name)
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	return e
}

func (h Harness) dir(t testing.TB) string {
	t.Helper()
	if h.NewDir != nil {
		return h.NewDir(t)
	}
	return t.TempDir()
}

func (h Harness) config(t testing.TB, dir string) any {
	t.Helper()
	if h.Config == nil {
		return nil
	}
	return h.Config(t, dir)
}
