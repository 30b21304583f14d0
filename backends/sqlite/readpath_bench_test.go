package sqlite_test

import (
	"testing"

	"github.com/durablelog/eventstore/backends/sqlite"
	"github.com/durablelog/eventstore/benchsuite"
)

// BenchmarkReadPath compares the store's log scan and replay with the
// engine's own iterator on the same data, in one run (see
// benchsuite.ReadPath).
func BenchmarkReadPath(b *testing.B) {
	benchsuite.ReadPath(b, benchsuite.Target{Backend: sqlite.Name}, nil)
}
