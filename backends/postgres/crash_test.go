package postgres_test

import (
	"testing"

	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/conformance"
	"github.com/durablelog/eventstore/internal/pgtest"
)

// TestKill9 runs the conformance crash case against the shared server: the
// writer, a child process that runs this test again, appends to a store of
// this backend and is killed with SIGKILL at random moments (while it opens
// the store, after a delay, after some acknowledgements); after each kill
// this process reopens the store and checks every acknowledged append, the
// dense offsets and versions, and the recovered state
// (conformance.RunCrash). The child reaches the parent's server and
// database through pgtest.SharedDatabase; the store's schema follows from
// its directory, which both processes share.
func TestKill9(t *testing.T) {
	dsn := pgtest.SharedDatabase(t)
	conformance.RunCrash(t, conformance.Harness{
		Name:       postgres.Name,
		LogBackend: true,
		// 25 writer kills in make test; make torture runs 500.
		Kills: 25,
		Config: func(_ testing.TB, dir string) any {
			return postgres.Options{DSN: dsn, Schema: schemaFor(dir)}
		},
	})
}
