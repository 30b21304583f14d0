package eventstore_test

import (
	"context"
	"os"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/conformance"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(lockChildEnv); dir != "" {
		os.Exit(lockChild(dir))
	}
	goleak.VerifyTestMain(m)
}

// TestConformance runs the whole event-store suite on the reference engine.
func TestConformance(t *testing.T) {
	conformance.RunEventStore(t, conformance.Harness{Name: memory.Name, Volatile: true})
}

func openMem(t *testing.T, dir string, opts ...eventstore.Option) *eventstore.Store {
	t.Helper()
	s, err := eventstore.Open(dir, append([]eventstore.Option{eventstore.WithBackend(memory.Name)}, opts...)...)
	require.NoError(t, err)
	return s
}

func appendN(t *testing.T, s *eventstore.Store, stream string, n int) {
	t.Helper()
	for range n {
		_, err := s.Append(context.Background(), stream, eventstore.Any, eventstore.Event{Type: "T", Data: []byte("x")})
		require.NoError(t, err)
	}
}
