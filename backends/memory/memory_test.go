package memory_test

import (
	"testing"

	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/conformance"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var harness = conformance.Harness{Name: memory.Name, Volatile: true}

func TestBackend(t *testing.T) { conformance.RunBackend(t, harness) }

func TestEventStore(t *testing.T) { conformance.RunEventStore(t, harness) }

// TestKill9 is skipped: the memory engine keeps nothing across processes
// (Harness.Volatile).
func TestKill9(t *testing.T) { conformance.RunCrash(t, harness) }
