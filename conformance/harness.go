package conformance

import (
	"testing"

	"github.com/durablelog/eventstore/backend"
)

// Harness describes the engine under test. Only Name is required.
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

	// Volatile declares that the engine keeps no data across a process
	// restart (the memory engine). Data must still survive Close and a
	// reopen of the same dir within one process.
	Volatile bool

	// LogBackend declares a log backend (registered with logstore.Register,
	// such as PostgreSQL) rather than an engine: its data is not in the
	// store's directory, so the tests that open an engine under a store or
	// copy its files are skipped; the backend's own tests cover damage to
	// its data.
	LogBackend bool
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
