package conformance

import (
	"context"
	"errors"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

var stateTests = []storeTest{
	{"AppliedBeforeAppendReturns", testAppliedBeforeReturn},
	{"FullReplayWithoutSnapshots", testFullReplay},
	{"ApplyErrorFailsStop", testApplyErrorFailsStop},
	{"ApplyErrorDuringRecoveryFailsOpen", testApplyErrorInRecovery},
	{"SnapshotNeedsStateMachine", testSnapshotNeedsSM},
}

// requireFolded asserts that sm equals a fresh fold over the whole log.
func requireFolded(t testing.TB, s *eventstore.Store, sm *HashState) {
	t.Helper()
	c, l, h, err := Fold(readAll(t, s))
	require.NoError(t, err)
	gc, gl, gh := sm.Sum()
	require.Equal(t, c, gc, "records applied")
	require.Equal(t, l, gl, "last offset applied")
	require.Equal(t, h, gh, "state hash")
}

func testAppliedBeforeReturn(t *testing.T, h Harness) {
	sm := &HashState{}
	s, _ := h.newStore(t, eventstore.WithStateMachine(sm))
	for i := range 20 {
		res := mustAppend(t, s, "a", eventstore.Any, ev("T", "x"), ev("T", "y"))
		_, last, _ := sm.Sum()
		require.Equal(t, res.Last, last, "append %d returned before its events were applied", i)
	}
	requireFolded(t, s, sm)
}

func testFullReplay(t *testing.T, h Harness) {
	dir := h.dir(t)
	sm := &HashState{}
	s := h.open(t, dir, eventstore.WithStateMachine(sm), eventstore.WithSnapshotPolicy(eventstore.Never()))
	fill(t, s, 40, "a", "b", "c")
	require.NoError(t, s.Close())
	sm2 := &HashState{}
	s = h.open(t, dir, eventstore.WithStateMachine(sm2), eventstore.WithSnapshotPolicy(eventstore.Never()))
	defer s.Close()
	rep := s.LastRecovery()
	require.Equal(t, uint64(40), rep.EventsReplayed)
	require.Equal(t, eventstore.Offset(0), rep.SnapshotOffset)
	require.Equal(t, eventstore.Offset(40), rep.Head)
	require.Equal(t, h.Name, rep.Backend)
	require.Positive(t, rep.BytesReplayed)
	requireFolded(t, s, sm2)
}

func testApplyErrorFailsStop(t *testing.T, h Harness) {
	dir := h.dir(t)
	sm := &HashState{FailAt: 4}
	s := h.open(t, dir, eventstore.WithStateMachine(sm))
	ctx := context.Background()
	fill(t, s, 3, "a")
	res, err := s.Append(ctx, "a", eventstore.Any, ev("T", "4"), ev("T", "5"))
	require.ErrorIs(t, err, eventstore.ErrStateMachine)
	require.ErrorIs(t, err, eventstore.ErrFailed)
	require.ErrorIs(t, err, ErrInjected)
	require.Contains(t, err.Error(), "offset 4")
	require.Equal(t, eventstore.Offset(4), res.First, "the events are durable and the result says where")
	_, err = s.Append(ctx, "a", eventstore.Any, ev("T", "6"))
	require.ErrorIs(t, err, eventstore.ErrFailed, "appends are refused after a failed Apply")
	require.ErrorIs(t, s.Snapshot(ctx), eventstore.ErrFailed)
	require.NoError(t, s.Close())

	sm2 := &HashState{}
	s = h.open(t, dir, eventstore.WithStateMachine(sm2))
	defer s.Close()
	require.Equal(t, eventstore.Offset(5), s.Head())
	requireFolded(t, s, sm2)
	mustAppend(t, s, "a", 5, ev("T", "6"))
}

func testApplyErrorInRecovery(t *testing.T, h Harness) {
	dir := h.dir(t)
	s := h.open(t, dir)
	fill(t, s, 5, "a")
	require.NoError(t, s.Close())
	_, err := eventstore.Open(dir, h.storeOptions(t, dir, eventstore.WithStateMachine(&HashState{FailAt: 3}))...)
	require.ErrorIs(t, err, eventstore.ErrStateMachine)
	require.True(t, errors.Is(err, ErrInjected))
	require.Contains(t, err.Error(), "offset 3")
	// The failed Open released the directory.
	s = h.open(t, dir)
	require.NoError(t, s.Close())
}

func testSnapshotNeedsSM(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	require.ErrorIs(t, s.Snapshot(context.Background()), eventstore.ErrNoStateMachine)
	require.Equal(t, eventstore.SnapshotStatus{}, s.SnapshotStatus())
}
