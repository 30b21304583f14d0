package prommetrics_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/durablelog/eventstore"
	_ "github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/conformance"
	"github.com/durablelog/eventstore/prommetrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func open(t *testing.T, dir string) *eventstore.Store {
	t.Helper()
	s, err := eventstore.Open(dir, eventstore.WithBackend("memory"), eventstore.WithStateMachine(&conformance.HashState{}),
		eventstore.WithSnapshotPolicy(eventstore.Never()))
	require.NoError(t, err)
	return s
}

// TestCollector gathers from a registry holding the collector after a known
// workload: appends, a conflict, a retry, a snapshot, a reopen; it checks the
// exact counts, that the histograms count one observation per operation, and
// that the linter finds nothing.
func TestCollector(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "orders")
	s := open(t, dir)
	ev := eventstore.Event{ID: "a", Type: "T", Data: []byte("1234")}
	_, err := s.Append(ctx, "o-1", eventstore.NoStream, ev)
	require.NoError(t, err)
	_, err = s.Append(ctx, "o-1", eventstore.NoStream, ev) // retry
	require.NoError(t, err)
	_, err = s.Append(ctx, "o-1", 5, eventstore.Event{Type: "T"}) // conflict
	require.ErrorIs(t, err, eventstore.ErrWrongExpectedVersion)
	_, err = s.Append(ctx, "o-2", eventstore.NoStream, eventstore.Event{Type: "T", Data: []byte("xy")})
	require.NoError(t, err)
	require.NoError(t, s.Snapshot(ctx))

	reg := prometheus.NewRegistry()
	reg.MustRegister(prommetrics.NewCollector(s))
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)
	expect := func(want string, names ...string) {
		t.Helper()
		require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), names...))
	}
	expect(`
# HELP eventstore_appends_total Append calls that succeeded, recognised retries included.
# TYPE eventstore_appends_total counter
eventstore_appends_total{store="orders"} 3
# HELP eventstore_conflicts_total Appends refused with a wrong expected version.
# TYPE eventstore_conflicts_total counter
eventstore_conflicts_total{store="orders"} 1
# HELP eventstore_retries_total Appends recognised as retries of earlier ones (idempotent by event ids), which wrote nothing.
# TYPE eventstore_retries_total counter
eventstore_retries_total{store="orders"} 1
# HELP eventstore_events_appended_total Events committed (a recognised retry writes none; imported events count).
# TYPE eventstore_events_appended_total counter
eventstore_events_appended_total{store="orders"} 2
# HELP eventstore_appended_bytes_total Data and metadata bytes of the events committed.
# TYPE eventstore_appended_bytes_total counter
eventstore_appended_bytes_total{store="orders"} 6
# HELP eventstore_head_offset Offset of the last published event.
# TYPE eventstore_head_offset gauge
eventstore_head_offset{store="orders"} 2
# HELP eventstore_snapshots_total Snapshots written since Open.
# TYPE eventstore_snapshots_total counter
eventstore_snapshots_total{store="orders"} 1
# HELP eventstore_failed 1 once the store stopped after a failed write, fsync or state-machine Apply; it refuses appends until reopened.
# TYPE eventstore_failed gauge
eventstore_failed{store="orders"} 0
`, "eventstore_appends_total", "eventstore_conflicts_total", "eventstore_retries_total", "eventstore_events_appended_total",
		"eventstore_appended_bytes_total", "eventstore_head_offset", "eventstore_snapshots_total", "eventstore_failed")

	families, err := reg.Gather()
	require.NoError(t, err)
	counts := map[string]uint64{}
	for _, f := range families {
		if h := f.GetMetric()[0].GetHistogram(); h != nil {
			counts[f.GetName()] = h.GetSampleCount()
		}
	}
	require.Equal(t, uint64(4), counts["eventstore_append_duration_seconds"], "one per Append call")
	require.Equal(t, uint64(2), counts["eventstore_commit_duration_seconds"], "one per group commit that wrote")
	require.Equal(t, uint64(2), counts["eventstore_commit_group_events"])
	require.Equal(t, uint64(1), counts["eventstore_snapshot_duration_seconds"])
	require.Equal(t, uint64(1), counts["eventstore_snapshot_size_bytes"])
	require.NoError(t, s.Close())

	// A reopen: the counters start again; recovery is reported.
	s = open(t, dir)
	defer s.Close()
	reg = prometheus.NewRegistry()
	reg.MustRegister(prommetrics.NewCollector(s, prommetrics.WithStoreLabel("orders-eu")))
	expect(`
# HELP eventstore_appends_total Append calls that succeeded, recognised retries included.
# TYPE eventstore_appends_total counter
eventstore_appends_total{store="orders-eu"} 0
# HELP eventstore_recovery_replayed_events Events the last Open replayed into the state machine.
# TYPE eventstore_recovery_replayed_events gauge
eventstore_recovery_replayed_events{store="orders-eu"} 0
# HELP eventstore_head_offset Offset of the last published event.
# TYPE eventstore_head_offset gauge
eventstore_head_offset{store="orders-eu"} 2
`, "eventstore_appends_total", "eventstore_recovery_replayed_events", "eventstore_head_offset")
}

// TestTwoStores: two stores in one registry are told apart by the label.
func TestTwoStores(t *testing.T) {
	a, b := open(t, filepath.Join(t.TempDir(), "a")), open(t, filepath.Join(t.TempDir(), "b"))
	defer a.Close()
	defer b.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prommetrics.NewCollector(a), prommetrics.NewCollector(b))
	n, err := testutil.GatherAndCount(reg, "eventstore_head_offset")
	require.NoError(t, err)
	require.Equal(t, 2, n)
}
