package eventstore_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/conformance"
	"github.com/durablelog/eventstore/internal/snapfile"
	"github.com/stretchr/testify/require"
)

var errDisk = errorString("simulated disk failure")

type errorString string

func (e errorString) Error() string { return string(e) }

// failingSync makes the fsync step of the next n snapshot writes fail, as a
// disk error would, in the background writer.
func failingSync(n int64) (snapfile.Hooks, *atomic.Int64) {
	left := &atomic.Int64{}
	left.Store(n)
	return snapfile.Hooks{AfterSync: func(string) error {
		if left.Add(-1) >= 0 {
			return errDisk
		}
		return nil
	}}, left
}

// TestSnapshotRetriedAfterFailure: a snapshot whose fsync failed in the
// background leaves the bookkeeping where it was, so that each way of
// taking a snapshot tries again instead of waiting for new events.
func TestSnapshotRetriedAfterFailure(t *testing.T) {
	ctx := context.Background()

	t.Run("Store.Snapshot with no new events", func(t *testing.T) {
		hooks, _ := failingSync(1)
		s := openMem(t, t.TempDir(), eventstore.WithStateMachine(&conformance.HashState{}),
			eventstore.WithSnapshotPolicy(eventstore.Never()), eventstore.WithSnapshotHooks(hooks))
		defer s.Close()
		appendN(t, s, "a", 10)
		require.ErrorIs(t, s.Snapshot(ctx), errDisk)
		require.NoError(t, s.Snapshot(ctx), "a second Snapshot must write the snapshot, not return the first one's error")
		st := s.SnapshotStatus()
		require.Equal(t, eventstore.Offset(10), st.Last)
		require.Equal(t, uint64(1), st.Taken)
		require.Equal(t, uint64(1), st.Failed)
	})

	t.Run("EveryN retries at the next commit", func(t *testing.T) {
		hooks, _ := failingSync(1)
		s := openMem(t, t.TempDir(), eventstore.WithStateMachine(&conformance.HashState{}),
			eventstore.WithSnapshotPolicy(eventstore.EveryN(10)), eventstore.WithSnapshotHooks(hooks))
		appendN(t, s, "a", 10) // the trigger at offset 10 fails in the background
		require.ErrorIs(t, eventstore.DrainSnapshots(s), errDisk, "the queued snapshot failed")
		appendN(t, s, "a", 1) // the next commit tries again, at offset 11
		require.NoError(t, s.Close(), "Close waits for the background writer")
		st := s.SnapshotStatus()
		require.Equal(t, eventstore.Offset(11), st.Last, "the retry ran at the next commit, not 10 events later")
		require.Equal(t, uint64(1), st.Taken)
	})

	t.Run("OnClose retries at Close", func(t *testing.T) {
		dir := t.TempDir()
		hooks, _ := failingSync(1)
		s := openMem(t, dir, eventstore.WithStateMachine(&conformance.HashState{}),
			eventstore.WithSnapshotPolicy(eventstore.AnyOf(eventstore.EveryN(10), eventstore.OnClose())), eventstore.WithSnapshotHooks(hooks))
		appendN(t, s, "a", 10) // the trigger at offset 10 fails in the background
		require.ErrorIs(t, eventstore.DrainSnapshots(s), errDisk, "the queued snapshot failed")
		require.NoError(t, s.Close(), "Close takes the snapshot that failed")
		sm := &conformance.HashState{}
		s = openMem(t, dir, eventstore.WithStateMachine(sm))
		defer s.Close()
		require.Equal(t, eventstore.Offset(10), s.LastRecovery().SnapshotOffset)
		require.Zero(t, s.LastRecovery().EventsReplayed)
	})

	t.Run("a failing Snapshot method is retried with backoff", func(t *testing.T) {
		sm := &conformance.HashState{}
		sm.FailSnapshot.Store(true)
		s := openMem(t, t.TempDir(), eventstore.WithStateMachine(sm), eventstore.WithSnapshotPolicy(eventstore.EveryN(5)))
		defer s.Close()
		appendN(t, s, "a", 5+1+2+4) // attempts at 5, 6, 8 and 12
		require.Equal(t, uint64(4), s.SnapshotStatus().Failed)
		appendN(t, s, "a", 7) // the next attempt waits 8 events after 12
		require.Equal(t, uint64(4), s.SnapshotStatus().Failed)
		sm.FailSnapshot.Store(false)
		appendN(t, s, "a", 1) // offset 20
		require.NoError(t, s.Snapshot(ctx))
		st := s.SnapshotStatus()
		require.Equal(t, eventstore.Offset(20), st.Last)
		require.NoError(t, st.LastError)
	})
}
