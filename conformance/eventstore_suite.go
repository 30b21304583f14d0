package conformance

import (
	"context"
	"fmt"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

// RunEventStore runs the event-store suite: every guarantee of package
// eventstore, on top of the engine that h describes, including durability
// across a reopen of the same directory, across a power cut when the harness
// can simulate one (Harness.PowerCut), and the snapshot and recovery engine.
// Each test is bounded by Harness.Timeout.
func RunEventStore(t *testing.T, h Harness) {
	t.Helper()
	groups := []struct {
		name  string
		tests []storeTest
	}{
		{"Append", appendTests},
		{"Read", readTests},
		{"Subscribe", subscribeTests},
		{"Input", inputTests},
		{"Lifecycle", lifecycleTests},
		{"Concurrency", concurrencyTests},
		{"Integrity", integrityTests},
		{"StateMachine", stateTests},
		{"Snapshots", snapshotTests},
		{"Import", importTests},
		{"Loss", lossTests},
		{"PowerCut", powerCutTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					startWatchdog(t, h.timeout())
					tc.fn(t, h)
				})
			}
		})
	}
}

type storeTest struct {
	name string
	fn   func(t *testing.T, h Harness)
}

// storeOptions returns the options that open h's engine in dir.
func (h Harness) storeOptions(t testing.TB, dir string, extra ...eventstore.Option) []eventstore.Option {
	t.Helper()
	opts := []eventstore.Option{eventstore.WithBackend(h.Name)}
	if h.Engine != nil {
		opts = []eventstore.Option{eventstore.WithEngine(h.Name, h.Engine)}
	}
	if cfg := h.config(t, dir); cfg != nil {
		opts = append(opts, eventstore.WithBackendConfig(cfg))
	}
	return append(opts, extra...)
}

// open opens a store of h's engine in dir; the test fails on an error.
func (h Harness) open(t testing.TB, dir string, extra ...eventstore.Option) *eventstore.Store {
	t.Helper()
	s, err := eventstore.Open(dir, h.storeOptions(t, dir, extra...)...)
	require.NoError(t, err, "open %s", dir)
	return s
}

// newStore opens a store in a fresh directory and closes it at the end.
func (h Harness) newStore(t testing.TB, extra ...eventstore.Option) (*eventstore.Store, string) {
	t.Helper()
	dir := h.dir(t)
	s := h.open(t, dir, extra...)
	t.Cleanup(func() { _ = s.Close() })
	return s, dir
}

func ev(typ, data string) eventstore.Event {
	return eventstore.Event{Type: typ, Data: []byte(data)}
}

func evID(id, typ, data string) eventstore.Event {
	return eventstore.Event{ID: id, Type: typ, Data: []byte(data)}
}

func mustAppend(t testing.TB, s *eventstore.Store, stream string, exp eventstore.ExpectedVersion, events ...eventstore.Event) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), stream, exp, events...)
	require.NoError(t, err, "append to %q", stream)
	return res
}

func readAll(t testing.TB, s *eventstore.Store) []eventstore.Record {
	t.Helper()
	recs, err := s.ReadLog(context.Background(), 0, 0)
	require.NoError(t, err)
	return recs
}

// checkDense asserts that recs are the whole log: offsets 1..n and every
// stream's versions dense from 1.
func checkDense(t testing.TB, recs []eventstore.Record) {
	t.Helper()
	versions := map[string]uint64{}
	for i, r := range recs {
		require.Equal(t, eventstore.Offset(i+1), r.Offset, "offsets must be dense")
		versions[r.Stream]++
		require.Equal(t, versions[r.Stream], r.Version, "versions of %q must be dense", r.Stream)
	}
}

func key(r eventstore.Record) string {
	return fmt.Sprintf("%d|%s|%d|%s|%s|%s|%v", r.Offset, r.Stream, r.Version, r.ID, r.Type, r.Data, r.Metadata)
}
