package pebble_test

import (
	"testing"

	"github.com/durablelog/eventstore/backends/pebble"
	"github.com/durablelog/eventstore/benchsuite"
)

// BenchmarkWorkloads runs the shared benchmark workloads on this engine.
// The full comparison report comes from `eventstore bench`.
func BenchmarkWorkloads(b *testing.B) {
	defer benchsuite.Cleanup()
	for _, w := range benchsuite.All() {
		b.Run(w.Name, func(b *testing.B) { benchsuite.Bench(b, benchsuite.Target{Backend: pebble.Name}, w) })
	}
}
