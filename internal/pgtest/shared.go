package pgtest

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"sync"
	"testing"
)

// shared is the server of Shared, one per process.
var shared struct {
	mu      sync.Mutex
	running bool // Main is running the tests
	srv     *Server
	err     error // why the server could not start; not tried again
}

// Shared returns the test binary's shared server, and starts it on first
// use. Tests share it to spare an initdb each; NewDatabase gives each test
// a database of its own on it. It fails the test unless the tests run
// through Main, which stops the server when they are done. A test that
// stops, kills or restarts a server needs its own: Start.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.running {
		tb.Fatal("pgtest: Shared needs the tests to run through pgtest.Main, which stops the shared server at the end: " +
			"func TestMain(m *testing.M) { goleak.VerifyTestMain(pgtest.Main(m)) }")
	}
	if shared.err == nil && shared.srv == nil {
		// No Logf: the server outlives this test.
		srv, err := StartServer(context.Background(), Config{})
		if err != nil {
			shared.err = err
		} else {
			srv.shared = true
			shared.srv = srv
		}
	}
	if shared.err != nil {
		tb.Fatalf("pgtest: the shared server did not start: %v", shared.err)
	}
	return shared.srv
}

// TestingM is what Main wraps and returns: *testing.M, or anything else
// with its Run method, such as goleak.VerifyTestMain takes.
type TestingM interface {
	// Run runs the tests and returns the exit code.
	Run() int
}

// Main wraps m so that running it also stops the shared server (if a test
// started it) and removes its directory once the tests are done, before
// the caller looks for leaked goroutines:
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(pgtest.Main(m)) }
//
// Without goleak: os.Exit(pgtest.Main(m).Run()). When the server does
// not stop cleanly, Run prints why and exits non-zero.
func Main(m TestingM) TestingM {
	return mainM{m}
}

// mainM is the TestingM of Main.
type mainM struct{ m TestingM }

// Run runs the tests with Shared enabled, then stops the shared server.
func (w mainM) Run() int {
	shared.mu.Lock()
	shared.running = true
	shared.mu.Unlock()
	code := w.m.Run()
	if err := stopShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// stopShared stops and removes the shared server, if it was started.
func stopShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.running = false
	srv := shared.srv
	shared.srv, shared.err = nil, nil
	if srv == nil {
		return nil
	}
	if err := srv.close(); err != nil {
		return fmt.Errorf("pgtest: stop the shared server: %w", err)
	}
	return nil
}

// SharedDSNEnv returns the name of the environment variable through which
// SharedDatabase hands the DSN of the test named testName's database to the
// child processes that run that test again: "PGTEST_SHARED_DSN_" and a hash
// of the name.
func SharedDSNEnv(testName string) string {
	h := fnv.New64a()
	h.Write([]byte(testName))
	return fmt.Sprintf("PGTEST_SHARED_DSN_%016x", h.Sum64())
}

// SharedDatabase returns the DSN of a database of the test's own on the
// shared server, which the child processes that run the same test again
// (a crash test's writers, such as conformance.RunCrash starts) reach too.
// In the test binary that the test runs in, it makes the database
// (NewDatabase, dropped when the test ends) and sets SharedDSNEnv(tb.Name())
// to its DSN in the process's environment until the test ends, so that the
// processes started meanwhile inherit it. In a process whose environment
// already has that variable, a child, it returns the DSN found there and
// starts no server: the parent's server and database are the ones used,
// and the parent owns them. Children must inherit the parent's environment
// (os/exec does by default) and not outlive the test.
func SharedDatabase(tb testing.TB) string {
	tb.Helper()
	key := SharedDSNEnv(tb.Name())
	if dsn := os.Getenv(key); dsn != "" {
		return dsn
	}
	srv := Shared(tb)
	dsn := srv.DSN(srv.NewDatabase(tb))
	if err := os.Setenv(key, dsn); err != nil {
		tb.Fatalf("pgtest: export the DSN of the shared database: %v", err)
	}
	tb.Cleanup(func() { _ = os.Unsetenv(key) })
	return dsn
}
