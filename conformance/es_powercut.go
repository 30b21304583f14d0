package conformance

import (
	"fmt"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

// The power-cut tests run only when the harness can simulate a power cut
// (Harness.PowerCut): the store is cut off while open, closed, and reopened
// on what the engine made durable.
var powerCutTests = []storeTest{
	{"SyncAppendsSurvive", testPowerCutSyncAppends},
	{"NoSyncCloseIsDurable", testPowerCutAfterNoSyncClose},
	{"NoSyncLosesOnlyATail", testPowerCutNoSyncTail},
}

// appended is what one append submitted and what it was acknowledged with.
type appended struct {
	stream, data string
	res          eventstore.AppendResult
}

// appendSome makes n single-event appends over three streams, numbered from
// first.
func appendSome(t testing.TB, s *eventstore.Store, first, n int) []appended {
	t.Helper()
	out := make([]appended, 0, n)
	for i := first; i < first+n; i++ {
		a := appended{stream: fmt.Sprint("p", i%3), data: fmt.Sprint("event ", i)}
		a.res = mustAppend(t, s, a.stream, eventstore.Any, ev("T", a.data))
		out = append(out, a)
	}
	return out
}

// requireAppended asserts that recs holds every append of acked at the offset
// and version it was acknowledged with, with its content.
func requireAppended(t testing.TB, recs []eventstore.Record, acked []appended) {
	t.Helper()
	for _, a := range acked {
		require.GreaterOrEqual(t, len(recs), int(a.res.First), "the acknowledged append at offset %d is missing", a.res.First)
		r := recs[a.res.First-1]
		require.Equal(t, a.stream, r.Stream, "stream at offset %d", a.res.First)
		require.Equal(t, a.data, string(r.Data), "data at offset %d", a.res.First)
		require.Equal(t, a.res.Version, r.Version, "version at offset %d", a.res.First)
	}
}

// powerCutStore cuts the power under the open store s, closes it (its
// Close may fail), and reopens dir with a fresh HashState.
func powerCutStore(t *testing.T, h Harness, dir string, s *eventstore.Store, extra ...eventstore.Option) (*eventstore.Store, *HashState) {
	t.Helper()
	h.PowerCut(t)
	_ = s.Close()
	sm := &HashState{}
	s = openSM(t, h, dir, sm, extra...)
	t.Cleanup(func() { _ = s.Close() })
	return s, sm
}

// testPowerCutSyncAppends: in Sync mode every acknowledged append survives a
// power cut, at its offset, with its content, and the recovered state (from
// a snapshot and the log) equals a fold over the log.
func testPowerCutSyncAppends(t *testing.T, h Harness) {
	skipWithoutPowerCut(t, h)
	dir := h.dir(t)
	every := eventstore.WithSnapshotPolicy(eventstore.EveryN(7))
	s := openSM(t, h, dir, &HashState{}, every)
	acked := appendSome(t, s, 0, 60)
	s, sm := powerCutStore(t, h, dir, s, every)
	require.Zero(t, s.LastRecovery().LostEvents)
	recs := readAll(t, s)
	require.Len(t, recs, len(acked))
	checkDense(t, recs)
	requireAppended(t, recs, acked)
	requireFolded(t, s, sm)
}

// testPowerCutAfterNoSyncClose: in NoSync mode, Close makes every append
// durable.
func testPowerCutAfterNoSyncClose(t *testing.T, h Harness) {
	skipWithoutPowerCut(t, h)
	dir := h.dir(t)
	nosync := eventstore.WithDurability(eventstore.NoSync)
	s := openSM(t, h, dir, &HashState{}, nosync)
	acked := appendSome(t, s, 0, 40)
	require.NoError(t, s.Close())
	s = h.open(t, dir, nosync)
	s, sm := powerCutStore(t, h, dir, s, nosync)
	require.Zero(t, s.LastRecovery().LostEvents)
	recs := readAll(t, s)
	require.Len(t, recs, len(acked))
	requireAppended(t, recs, acked)
	requireFolded(t, s, sm)
}

// testPowerCutNoSyncTail: in NoSync mode a power cut may lose what was
// appended since the last sync, and only that: the log is a dense prefix of
// what was appended, at least what a Close made durable, and the recovered
// state is its fold.
func testPowerCutNoSyncTail(t *testing.T, h Harness) {
	skipWithoutPowerCut(t, h)
	dir := h.dir(t)
	nosync := eventstore.WithDurability(eventstore.NoSync)
	s := openSM(t, h, dir, &HashState{}, nosync)
	durable := appendSome(t, s, 0, 40)
	require.NoError(t, s.Close())
	s = openSM(t, h, dir, &HashState{}, nosync)
	tail := appendSome(t, s, 40, 30)
	s, sm := powerCutStore(t, h, dir, s, nosync)
	recs := readAll(t, s)
	require.GreaterOrEqual(t, len(recs), len(durable), "a power cut lost what Close had made durable")
	require.LessOrEqual(t, len(recs), len(durable)+len(tail))
	checkDense(t, recs)
	requireAppended(t, recs, append(durable, tail[:len(recs)-len(durable)]...))
	requireFolded(t, s, sm)
	rep := s.LastRecovery()
	t.Logf("%d of %d events appended after the last sync survived the power cut; the store reports %d lost", len(recs)-len(durable), len(tail), rep.LostEvents)
}
