package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

// TestMultiProcessSharedStreams has four processes of eight goroutines
// append to six shared streams, in turn with exact expected versions (read
// StreamVersion, append with it, on a WrongExpectedVersionError read again
// and retry) and with Any. Each process records the appends it had
// acknowledged. Then: the log is dense, every stream's versions are dense,
// every acknowledged append is in the log exactly once, at its offsets, with
// its content, nothing else is, and a subscriber of this process saw every
// offset once, in order, the same records.
func TestMultiProcessSharedStreams(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	s := openStore(t, env.options())
	sub := subscribe(t, s)
	streams := []string{"acct-1", "acct-2", "acct-3", "acct-4", "acct-5", "acct-6"}
	const procs, goroutines, appends = 4, 8, 12
	w := startWriters(t, env, procs, func(int) writerArgs {
		return writerArgs{Goroutines: goroutines, Appends: appends, Streams: streams, Mode: "mixed", MaxEvents: 3, Seed: 2}
	})
	n, conflicts := w.run(t)
	require.Equal(t, procs*goroutines*appends, n)
	t.Logf("%d appends, %d conflicts retried", n, conflicts)
	require.NotZero(t, conflicts, "no append had to retry: the exact expected versions were never contended")

	conn := env.conn(t)
	head := requireDenseSQL(t, conn)
	recs := sub.waitSeen(t, head, time.Minute)
	require.Len(t, recs, int(head))
	logRecs := readAll(t, s)
	require.Equal(t, logRecs, recs, "the subscriber saw other records than the log holds")

	acks := w.acks(t)
	require.Len(t, acks, n)
	claimed := make([]bool, head+1)
	versions := map[string]uint64{}
	for _, a := range acks {
		require.Equal(t, int(a.Res.Last-a.Res.First)+1, len(a.Events), "%+v", a)
		for j, e := range a.Events {
			off := a.Res.First + eventstore.Offset(j)
			require.LessOrEqual(t, int64(off), head)
			require.False(t, claimed[off], "offset %d acknowledged twice", off)
			claimed[off] = true
			r := logRecs[off-1]
			require.Equal(t, a.Stream, r.Stream, "offset %d", off)
			require.Equal(t, a.Res.Version-uint64(len(a.Events)-1-j), r.Version, "offset %d", off)
			require.Equal(t, e.ID, r.ID, "offset %d", off)
			require.Equal(t, e.Type, r.Type, "offset %d", off)
			require.Equal(t, e.Data, r.Data, "offset %d", off)
			require.Equal(t, len(e.Metadata), len(r.Metadata), "offset %d", off)
			for k, v := range e.Metadata {
				require.Equal(t, v, r.Metadata[k], "offset %d metadata %q", off, k)
			}
		}
		if a.Expected >= 0 {
			require.Equal(t, uint64(a.Expected)+uint64(len(a.Events)), a.Res.Version, "%+v", a)
		}
		versions[a.Stream] = max(versions[a.Stream], a.Res.Version)
	}
	for off := 1; off <= int(head); off++ {
		require.True(t, claimed[off], "offset %d holds %q, which no process acknowledged", off, logRecs[off-1].ID)
	}
	for _, st := range streams {
		v, err := s.StreamVersion(context.Background(), st)
		require.NoError(t, err)
		require.Equal(t, versions[st], v, "stream %s", st)
	}
	w.finish(t, head)
	_, err := s.Verify(context.Background())
	require.NoError(t, err)
}
