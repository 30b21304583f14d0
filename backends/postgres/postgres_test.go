package postgres_test

import (
	"fmt"
	"hash/fnv"
	"testing"

	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/conformance"
	"github.com/durablelog/eventstore/internal/pgtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	maybeRunChild() // exits when this process is a child of a multi-process test
	goleak.VerifyTestMain(pgtest.Main(m))
}

// schemaFor names the schema of the store in dir: a reopen of the same
// directory finds the same schema, and every test's store gets its own.
func schemaFor(dir string) string {
	h := fnv.New64a()
	h.Write([]byte(dir))
	return fmt.Sprintf("t_%016x", h.Sum64())
}

// harness runs a suite against the shared throwaway server of this test
// binary.
func harness(t *testing.T) conformance.Harness {
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	return conformance.Harness{
		Name:       postgres.Name,
		LogBackend: true,
		Config: func(_ testing.TB, dir string) any {
			return postgres.Options{DSN: srv.DSN(db), Schema: schemaFor(dir)}
		},
	}
}

func TestEventStore(t *testing.T) {
	t.Parallel()
	conformance.RunEventStore(t, harness(t))
}
