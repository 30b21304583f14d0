package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

var importTests = []storeTest{
	{"ImportKeepsEverything", testImportKeepsEverything},
	{"ImportRejectsBrokenSequence", testImportRejects},
	{"ImportAtomicAgainstConcurrentAppend", testImportConcurrentAppend},
}

func seq(recs []eventstore.Record) func(func(eventstore.Record, error) bool) {
	return func(yield func(eventstore.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func testImportKeepsEverything(t *testing.T, h Harness) {
	src, _ := h.newStore(t)
	for i := range 5000 {
		ev := eventstore.Event{ID: string(rune('a'+i%26)) + string(rune('0'+i/26%10)) + string(rune('A'+i/260)), Type: "T", Data: []byte{byte(i)}, Metadata: map[string]string{"i": string(rune('a' + i%26))}}
		if i%100 == 0 {
			ev.ID = ""
		}
		mustAppend(t, src, []string{"a", "b", "c"}[i%3], eventstore.Any, ev, eventstore.Event{Type: "U"})
	}
	recs := readAll(t, src)
	sm := &HashState{}
	dst, _ := h.newStore(t, eventstore.WithStateMachine(sm))
	st, err := dst.Import(context.Background(), seq(recs))
	require.NoError(t, err)
	require.Equal(t, uint64(len(recs)), st.Records)
	require.Greater(t, st.Batches, uint64(1))
	got := readAll(t, dst)
	require.Equal(t, len(recs), len(got))
	for i := range recs {
		require.Equal(t, key(recs[i]), key(got[i]))
		require.True(t, recs[i].Time.Equal(got[i].Time), "the time of offset %d is kept", recs[i].Offset)
	}
	requireFolded(t, dst, sm)
	_, err = dst.Verify(context.Background())
	require.NoError(t, err)
	// Ids are indexed: a retry of an imported append is recognised.
	res, err := dst.Append(context.Background(), "a", 0, eventstore.Event{ID: recs[1].ID, Type: "T", Data: recs[1].Data})
	if recs[1].ID != "" && recs[1].Stream == "a" {
		require.NoError(t, err)
		require.Equal(t, recs[1].Offset, res.First)
	}
}

func testImportRejects(t *testing.T, h Harness) {
	src, _ := h.newStore(t)
	fill(t, src, 10, "a", "b")
	recs := readAll(t, src)
	dst, _ := h.newStore(t)
	_, err := dst.Import(context.Background(), seq(recs[1:]))
	require.ErrorIs(t, err, eventstore.ErrInvalidEvent, "a gap at the start")
	require.Equal(t, eventstore.Offset(0), dst.Head())
	broken := append([]eventstore.Record{}, recs...)
	broken[5].Version = 9
	_, err = dst.Import(context.Background(), seq(broken))
	require.Error(t, err)
	require.Less(t, dst.Head(), eventstore.Offset(10))
	bad := append([]eventstore.Record{}, recs...)
	bad[0].Version = 0
	dst2, _ := h.newStore(t)
	_, err = dst2.Import(context.Background(), seq(bad))
	require.ErrorIs(t, err, eventstore.ErrInvalidEvent)
}

// testImportConcurrentAppend: an append that runs while an import reads its
// records takes the offset the import's next batch expected. The import must
// fail before that batch is written, not after: the log holds the append and
// nothing of the batch.
func testImportConcurrentAppend(t *testing.T, h Harness) {
	ctx := context.Background()
	s, _ := h.newStore(t)
	mustAppend(t, s, "before", eventstore.NoStream, ev("T", "0"))
	var appended eventstore.AppendResult
	records := func(yield func(eventstore.Record, error) bool) {
		for i := range 3 {
			r := eventstore.Record{Event: ev("Imported", "x"), Stream: "imported", Offset: eventstore.Offset(2 + i), Version: uint64(1 + i), Time: time.Unix(1700000000, 0).UTC()}
			if !yield(r, nil) {
				return
			}
			if i == 0 {
				// Another writer, between two records of the same batch.
				appended = mustAppend(t, s, "other", eventstore.NoStream, ev("T", "1"))
			}
		}
	}
	st, err := s.Import(ctx, records)
	require.ErrorIs(t, err, eventstore.ErrInvalidEvent, "the import must notice the concurrent append")
	require.Zero(t, st.Records, "no imported record may be committed")
	require.Equal(t, eventstore.Offset(2), appended.First)
	recs := readAll(t, s)
	require.Len(t, recs, 2, "the log holds the first event and the concurrent append, nothing of the import")
	require.Equal(t, "other", recs[1].Stream)
	v, err := s.StreamVersion(ctx, "imported")
	require.NoError(t, err)
	require.Zero(t, v)
}
