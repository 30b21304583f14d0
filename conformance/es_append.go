package conformance

import (
	"context"
	"errors"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

var appendTests = []storeTest{
	{"OffsetsDenseFromOne", testOffsetsDense},
	{"AtomicMultiEvent", testAtomicMultiEvent},
	{"ExpectedVersionRules", testExpectedVersionRules},
	{"ConflictWritesNothing", testConflictWritesNothing},
	{"IdempotentRetry", testIdempotentRetry},
	{"IDReuseRejected", testIDReuseRejected},
	{"RecordFieldsRoundTrip", testRecordFieldsRoundTrip},
	{"DurableAcrossReopenSync", func(t *testing.T, h Harness) { testDurableAcrossReopen(t, h, eventstore.Sync) }},
	{"DurableAcrossReopenNoSync", func(t *testing.T, h Harness) { testDurableAcrossReopen(t, h, eventstore.NoSync) }},
}

func testOffsetsDense(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	require.Equal(t, eventstore.Offset(0), s.Head())
	r1 := mustAppend(t, s, "a", eventstore.NoStream, ev("T", "1"))
	require.Equal(t, eventstore.AppendResult{First: 1, Last: 1, Version: 1}, r1)
	r2 := mustAppend(t, s, "b", eventstore.Any, ev("T", "2"), ev("T", "3"))
	require.Equal(t, eventstore.AppendResult{First: 2, Last: 3, Version: 2}, r2)
	r3 := mustAppend(t, s, "a", 1, ev("T", "4"))
	require.Equal(t, eventstore.AppendResult{First: 4, Last: 4, Version: 2}, r3)
	require.Equal(t, eventstore.Offset(4), s.Head())
	checkDense(t, readAll(t, s))
}

func testAtomicMultiEvent(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	events := make([]eventstore.Event, 50)
	for i := range events {
		events[i] = ev("Step", string(rune('a'+i%26)))
	}
	res := mustAppend(t, s, "batch", eventstore.NoStream, events...)
	require.Equal(t, eventstore.Offset(1), res.First)
	require.Equal(t, eventstore.Offset(50), res.Last)
	require.Equal(t, uint64(50), res.Version)
	recs, err := s.ReadStream(context.Background(), "batch", 1, 0)
	require.NoError(t, err)
	require.Len(t, recs, 50)
	for i, r := range recs {
		require.Equal(t, events[i].Data, r.Data)
		require.Equal(t, res.First+eventstore.Offset(i), r.Offset)
		require.Equal(t, recs[0].Time, r.Time, "events of one append share the commit time")
	}
}

func testExpectedVersionRules(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	ctx := context.Background()
	var wev *eventstore.WrongExpectedVersionError

	_, err := s.Append(ctx, "s", eventstore.StreamExists, ev("T", "x"))
	require.ErrorIs(t, err, eventstore.ErrWrongExpectedVersion, "StreamExists on an empty stream")
	require.ErrorAs(t, err, &wev)
	require.Equal(t, eventstore.WrongExpectedVersionError{Stream: "s", Expected: eventstore.StreamExists, Actual: 0}, *wev)

	_, err = s.Append(ctx, "s", 3, ev("T", "x"))
	require.ErrorAs(t, err, &wev)
	require.Equal(t, eventstore.ExpectedVersion(3), wev.Expected)
	require.Contains(t, err.Error(), `"s"`)

	mustAppend(t, s, "s", eventstore.NoStream, ev("T", "1"))
	_, err = s.Append(ctx, "s", eventstore.NoStream, ev("T", "x"))
	require.ErrorAs(t, err, &wev)
	require.Equal(t, uint64(1), wev.Actual)

	mustAppend(t, s, "s", eventstore.StreamExists, ev("T", "2"))
	mustAppend(t, s, "s", eventstore.Any, ev("T", "3"))
	mustAppend(t, s, "s", 3, ev("T", "4"))
	_, err = s.Append(ctx, "s", 3, ev("T", "x"))
	require.ErrorAs(t, err, &wev)
	require.Equal(t, eventstore.WrongExpectedVersionError{Stream: "s", Expected: 3, Actual: 4}, *wev)
	v, err := s.StreamVersion(ctx, "s")
	require.NoError(t, err)
	require.Equal(t, uint64(4), v)
	v, err = s.StreamVersion(ctx, "unknown")
	require.NoError(t, err)
	require.Zero(t, v)
}

func testConflictWritesNothing(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	mustAppend(t, s, "s", eventstore.NoStream, ev("T", "1"))
	head := s.Head()
	_, err := s.Append(context.Background(), "s", 7, ev("T", "a"), ev("T", "b"), ev("T", "c"))
	require.ErrorIs(t, err, eventstore.ErrWrongExpectedVersion)
	require.Equal(t, head, s.Head())
	require.Len(t, readAll(t, s), 1)
	// Offsets stay dense after a rejected append.
	res := mustAppend(t, s, "s", 1, ev("T", "2"))
	require.Equal(t, head+1, res.First)
}

func testIdempotentRetry(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	ctx := context.Background()
	mustAppend(t, s, "other", eventstore.NoStream, ev("T", "0"))
	first := mustAppend(t, s, "pay", eventstore.NoStream, evID("p1", "Paid", "10"), evID("p2", "Paid", "20"))
	mustAppend(t, s, "pay", 2, evID("p3", "Paid", "30"))
	head := s.Head()

	// The same append, retried with the same expected version: the
	// original result, nothing written.
	again, err := s.Append(ctx, "pay", eventstore.NoStream, evID("p1", "Paid", "10"), evID("p2", "Paid", "20"))
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Equal(t, head, s.Head())

	// The last append retried.
	again, err = s.Append(ctx, "pay", 2, evID("p3", "Paid", "30"))
	require.NoError(t, err)
	require.Equal(t, eventstore.AppendResult{First: head, Last: head, Version: 3}, again)

	// Same ids in another order: a conflict, not a retry.
	_, err = s.Append(ctx, "pay", eventstore.NoStream, evID("p2", "Paid", "20"), evID("p1", "Paid", "10"))
	require.ErrorIs(t, err, eventstore.ErrWrongExpectedVersion)

	// A prefix of the ids with one missing: a conflict.
	_, err = s.Append(ctx, "pay", eventstore.NoStream, evID("p1", "Paid", "10"), ev("Paid", "20"))
	require.ErrorIs(t, err, eventstore.ErrWrongExpectedVersion)
	require.Equal(t, head, s.Head())

	// Retries survive a reopen: the id index is durable.
	dir := s.Dir()
	require.NoError(t, s.Close())
	s = h.open(t, dir)
	defer s.Close()
	again, err = s.Append(ctx, "pay", eventstore.NoStream, evID("p1", "Paid", "10"), evID("p2", "Paid", "20"))
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Equal(t, head, s.Head())
}

func testIDReuseRejected(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	ctx := context.Background()
	mustAppend(t, s, "s", eventstore.NoStream, evID("x", "T", "1"))
	head := s.Head()
	_, err := s.Append(ctx, "s", eventstore.Any, evID("x", "T", "2"))
	require.ErrorIs(t, err, eventstore.ErrInvalidEvent, "reuse of an id with Any")
	_, err = s.Append(ctx, "s", 1, evID("y", "T", "2"), evID("x", "T", "3"))
	require.ErrorIs(t, err, eventstore.ErrInvalidEvent, "reuse of an id with the right version")
	_, err = s.Append(ctx, "s", 1, evID("d", "T", "2"), evID("d", "T", "3"))
	require.ErrorIs(t, err, eventstore.ErrInvalidEvent, "the same id twice in one append")
	require.Equal(t, head, s.Head())
	// The same id in another stream is fine.
	mustAppend(t, s, "t", eventstore.NoStream, evID("x", "T", "1"))
}

func testRecordFieldsRoundTrip(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 31)
	}
	in := []eventstore.Event{
		{ID: "id-1", Type: "WithMeta", Data: []byte{0, 1, 2, 255}, Metadata: map[string]string{"b": "2", "a": "1", "": "empty key"}},
		{Type: "Empty"},
		{Type: "Big", Data: big},
		{Type: "Unicode ✓", Data: []byte("héllo"), Metadata: map[string]string{"k": ""}},
	}
	res := mustAppend(t, s, "stream/with:chars ✓", eventstore.NoStream, in...)
	check := func(s *eventstore.Store) {
		t.Helper()
		recs, err := s.ReadLog(context.Background(), res.First, 0)
		require.NoError(t, err)
		require.Len(t, recs, len(in))
		for i, r := range recs {
			require.Equal(t, in[i].ID, r.ID)
			require.Equal(t, in[i].Type, r.Type)
			require.Equal(t, len(in[i].Data), len(r.Data))
			require.True(t, string(in[i].Data) == string(r.Data), "data of event %d differs", i)
			if len(in[i].Metadata) == 0 {
				require.Empty(t, r.Metadata)
			} else {
				require.Equal(t, in[i].Metadata, r.Metadata)
			}
			require.Equal(t, "stream/with:chars ✓", r.Stream)
			require.Equal(t, uint64(i+1), r.Version)
			require.Equal(t, "UTC", r.Time.Location().String())
			require.False(t, r.Time.IsZero())
		}
	}
	check(s)
	dir := s.Dir()
	require.NoError(t, s.Close())
	s = h.open(t, dir)
	defer s.Close()
	check(s)
}

func testDurableAcrossReopen(t *testing.T, h Harness, d eventstore.Durability) {
	dir := h.dir(t)
	s := h.open(t, dir, eventstore.WithDurability(d))
	var want []string
	for i := range 30 {
		res := mustAppend(t, s, "s"+string(rune('a'+i%3)), eventstore.Any, ev("T", string(rune('A'+i%26))))
		require.Equal(t, eventstore.Offset(i+1), res.First)
	}
	want = nil
	for _, r := range readAll(t, s) {
		want = append(want, key(r))
	}
	require.NoError(t, s.Close())
	for round := range 2 {
		s = h.open(t, dir, eventstore.WithDurability(d))
		var got []string
		for _, r := range readAll(t, s) {
			got = append(got, key(r))
		}
		require.Equal(t, want, got, "round %d", round)
		// Appending after a reopen continues the offsets.
		res := mustAppend(t, s, "sa", eventstore.Any, ev("T", "more"))
		require.Equal(t, eventstore.Offset(len(want)+1), res.First)
		for _, r := range readAll(t, s)[len(want):] {
			want = append(want, key(r))
		}
		require.NoError(t, s.Close())
	}
	if !errors.Is(s.Close(), nil) {
		t.Fatal("Close after Close must return nil")
	}
}
