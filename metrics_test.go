package eventstore_test

import (
	"context"
	"math"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/conformance"
	"github.com/durablelog/eventstore/internal/faultkv"
	"github.com/stretchr/testify/require"
)

// TestMetricsCounts runs a known workload and checks every counter and the
// histograms' counts.
func TestMetricsCounts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sm := &conformance.HashState{}
	s := openMem(t, dir, eventstore.WithStateMachine(sm), eventstore.WithSnapshotPolicy(eventstore.Never()))
	ev := func(id string) eventstore.Event {
		return eventstore.Event{ID: id, Type: "T", Data: []byte("12345"), Metadata: map[string]string{"k": "v"}}
	}
	_, err := s.Append(ctx, "a", eventstore.NoStream, ev("1"), ev("2"))
	require.NoError(t, err)
	_, err = s.Append(ctx, "a", 2, ev("3"))
	require.NoError(t, err)
	_, err = s.Append(ctx, "a", eventstore.NoStream, ev("1"), ev("2")) // a retry
	require.NoError(t, err)
	_, err = s.Append(ctx, "a", 7, ev("9")) // a conflict
	require.ErrorIs(t, err, eventstore.ErrWrongExpectedVersion)
	_, err = s.Append(ctx, "", eventstore.Any, ev("x")) // invalid
	require.ErrorIs(t, err, eventstore.ErrInvalidEvent)
	require.NoError(t, s.Snapshot(ctx))

	subCtx, cancel := context.WithCancel(ctx)
	seen := make(chan eventstore.Offset)
	go func() {
		for r, err := range s.Subscribe(subCtx, 1) {
			if err != nil {
				return
			}
			if r.Offset == 1 {
				seen <- r.Offset
				<-subCtx.Done() // stays at offset 1: two events behind
			}
		}
	}()
	<-seen

	m := s.Metrics()
	require.Equal(t, uint64(3), m.Appends, "the retry counts as an append that succeeded")
	require.Equal(t, uint64(3), m.EventsAppended, "the retry wrote nothing")
	require.Equal(t, uint64(3*(5+2)), m.BytesAppended)
	require.Equal(t, uint64(1), m.Conflicts)
	require.Equal(t, uint64(1), m.Retries)
	require.Equal(t, uint64(1), m.AppendErrors)
	require.Equal(t, uint64(5), m.AppendDuration.Count, "one observation per Append call")
	require.Equal(t, uint64(2), m.CommitDuration.Count, "two group commits wrote events")
	require.Equal(t, uint64(2), m.CommitGroupEvents.Count)
	require.Equal(t, 3.0, m.CommitGroupEvents.Sum)
	require.Equal(t, 2.0, m.CommitGroupAppends.Sum)
	require.Equal(t, eventstore.Offset(3), m.Head)
	require.Equal(t, uint64(1), m.Generation)
	require.False(t, m.Failed)
	require.Equal(t, uint64(1), m.SnapshotsTaken)
	require.Zero(t, m.SnapshotsFailed)
	require.Equal(t, uint64(1), m.SnapshotDuration.Count)
	require.Equal(t, uint64(1), m.SnapshotBytes.Count)
	require.Positive(t, m.SnapshotBytes.Sum)
	require.Equal(t, eventstore.Offset(3), m.LastSnapshot)
	require.Equal(t, uint64(1), m.Subscribers)
	require.Equal(t, uint64(2), m.SubscriberLagMax)
	require.Equal(t, uint64(1), m.SubscriberLag.Count)
	cancel()
	require.NoError(t, s.Close())

	s = openMem(t, dir, eventstore.WithStateMachine(&conformance.HashState{}))
	defer s.Close()
	m = s.Metrics()
	require.Zero(t, m.Appends, "counters start at Open")
	require.Positive(t, m.RecoveryDuration)
	require.Zero(t, m.RecoveryReplayed, "the snapshot covered the log")
	require.Zero(t, m.Subscribers)
}

// TestHistogramQuantile checks the interpolation on a known distribution.
func TestHistogramQuantile(t *testing.T) {
	h := eventstore.Histogram{Bounds: []float64{1, 2, 4}, Counts: []uint64{10, 20, 30}, Count: 40}
	require.InDelta(t, 1.0, h.Quantile(0.25), 1e-9)
	require.InDelta(t, 1.5, h.Quantile(0.375), 1e-9)
	require.InDelta(t, 4.0, h.Quantile(0.9), 1e-9, "past the last bound: the last bound")
	require.True(t, math.IsNaN(eventstore.Histogram{}.Quantile(0.5)))
}

// TestMetricsFailedOnCommitFailure: a failed engine write or fsync sets the
// failed gauge, as a failed Apply does.
func TestMetricsFailedOnCommitFailure(t *testing.T) {
	for name, f := range map[string]faultkv.Faults{"write": {CommitAfter: 1}, "fsync": {SyncAfter: 1}} {
		t.Run(name, func(t *testing.T) {
			e := &faultkv.Engine{Inner: memory.Engine{}}
			s := openFaulty(t, t.TempDir(), e)
			defer s.Close()
			appendN(t, s, "a", 2)
			require.False(t, s.Metrics().Failed)
			e.Inject(f)
			_, err := s.Append(context.Background(), "a", eventstore.Any, eventstore.Event{Type: "T"})
			require.ErrorIs(t, err, eventstore.ErrFailed)
			m := s.Metrics()
			require.True(t, m.Failed)
			require.Equal(t, uint64(1), m.AppendErrors)
			require.Equal(t, uint64(2), m.Appends)
		})
	}
}
