package conformance

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

var readTests = []storeTest{
	{"ReadLogRangesAndLimits", testReadLogRanges},
	{"ReadStreamRangesAndLimits", testReadStreamRanges},
	{"LogIteratorChunksAndBreak", testLogIterator},
	{"StreamIterator", testStreamIterator},
	{"ReadsHonourContext", testReadsHonourContext},
}

// fill appends n events round-robin over streams, one per append.
func fill(t testing.TB, s *eventstore.Store, n int, streams ...string) {
	t.Helper()
	for i := range n {
		mustAppend(t, s, streams[i%len(streams)], eventstore.Any, ev("T", fmt.Sprint(i+1)))
	}
}

func testReadLogRanges(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	ctx := context.Background()
	fill(t, s, 20, "a", "b")
	recs, err := s.ReadLog(ctx, 5, 3)
	require.NoError(t, err)
	require.Len(t, recs, 3)
	require.Equal(t, eventstore.Offset(5), recs[0].Offset)
	require.Equal(t, "5", string(recs[0].Data))
	recs, err = s.ReadLog(ctx, 18, 0)
	require.NoError(t, err)
	require.Len(t, recs, 3)
	recs, err = s.ReadLog(ctx, 21, 0)
	require.NoError(t, err)
	require.Empty(t, recs, "reading past the head gives nothing")
	recs, err = s.ReadLog(ctx, 0, -1)
	require.NoError(t, err)
	require.Len(t, recs, 20)
	checkDense(t, recs)
}

func testReadStreamRanges(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	ctx := context.Background()
	fill(t, s, 30, "a", "b", "c")
	recs, err := s.ReadStream(ctx, "b", 0, 0)
	require.NoError(t, err)
	require.Len(t, recs, 10)
	for i, r := range recs {
		require.Equal(t, "b", r.Stream)
		require.Equal(t, uint64(i+1), r.Version)
		require.Equal(t, eventstore.Offset(3*i+2), r.Offset)
	}
	recs, err = s.ReadStream(ctx, "b", 4, 2)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	require.Equal(t, uint64(4), recs[0].Version)
	require.Equal(t, uint64(5), recs[1].Version)
	recs, err = s.ReadStream(ctx, "b", 11, 0)
	require.NoError(t, err)
	require.Empty(t, recs)
	recs, err = s.ReadStream(ctx, "nobody", 0, 0)
	require.NoError(t, err)
	require.Empty(t, recs)
	// A stream whose name is a prefix of another's is kept apart.
	mustAppend(t, s, "ab", eventstore.NoStream, ev("T", "x"))
	recs, err = s.ReadStream(ctx, "a", 0, 0)
	require.NoError(t, err)
	require.Len(t, recs, 10)
}

func testLogIterator(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	ctx := context.Background()
	// More than one read chunk, in appends of several events.
	for i := range 70 {
		mustAppend(t, s, fmt.Sprint("s", i%7), eventstore.Any, ev("T", "a"), ev("T", "b"), ev("T", "c"), ev("T", "d"), ev("T", "e"))
	}
	n := 0
	for r, err := range s.Log(ctx, 1) {
		require.NoError(t, err)
		n++
		require.Equal(t, eventstore.Offset(n), r.Offset)
	}
	require.Equal(t, 350, n)
	n = 0
	for r, err := range s.Log(ctx, 300) {
		require.NoError(t, err)
		if n == 0 {
			require.Equal(t, eventstore.Offset(300), r.Offset)
		}
		n++
		if n == 10 {
			break
		}
	}
	require.Equal(t, 10, n, "break ends the iteration")
}

func testStreamIterator(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	ctx := context.Background()
	fill(t, s, 600, "x", "y")
	var v uint64
	for r, err := range s.Stream(ctx, "y", 1) {
		require.NoError(t, err)
		v++
		require.Equal(t, v, r.Version)
		require.Equal(t, "y", r.Stream)
	}
	require.Equal(t, uint64(300), v)
	for r, err := range s.Stream(ctx, "y", 299) {
		require.NoError(t, err)
		require.GreaterOrEqual(t, r.Version, uint64(299))
	}
	for _, err := range s.Stream(ctx, "", 1) {
		require.ErrorIs(t, err, eventstore.ErrInvalidEvent)
	}
}

func testReadsHonourContext(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	fill(t, s, 600, "a")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	var last error
	for _, err := range s.Log(ctx, 1) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 10 {
			cancel()
		}
	}
	require.ErrorIs(t, last, context.Canceled)
	require.Less(t, n, 600)
	_, err := s.ReadLog(ctx, 1, 0)
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.ReadStream(ctx, "a", 1, 0)
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.StreamVersion(ctx, "a")
	require.True(t, errors.Is(err, context.Canceled))
}
