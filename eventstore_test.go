package eventstore_test

import (
	"testing"

	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/conformance"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestConformance runs the whole event-store suite on the reference engine.
func TestConformance(t *testing.T) {
	conformance.RunEventStore(t, conformance.Harness{Name: memory.Name, Volatile: true})
}
