package sqlite_test

import (
	"testing"

	"github.com/durablelog/eventstore/backends/sqlite"
	"github.com/durablelog/eventstore/benchsuite"
)

// BenchmarkWorkloads runs the shared benchmark workloads on this engine.
// The full comparison report comes from `eventstore bench`. With -short,
// the workloads that fill 100K events or more are skipped.
func BenchmarkWorkloads(b *testing.B) {
	defer benchsuite.Cleanup()
	for _, w := range benchsuite.All() {
		if testing.Short() && benchsuite.Large(w) {
			continue
		}
		b.Run(w.Name, func(b *testing.B) { benchsuite.Bench(b, benchsuite.Target{Backend: sqlite.Name}, w) })
	}
}
