package kvlog

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/internal/faultkv"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
	"github.com/stretchr/testify/require"
)

// punch opens the engine in dir directly and removes the records from
// offset from to to, with their index entries, as a lost write-ahead log
// leaves them.
func punch(t *testing.T, e backend.Engine, dir string, from, to logstore.Offset) {
	t.Helper()
	kv, err := e.Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	b := kv.NewBatch()
	for off := from; off <= to; off++ {
		v, found, err := kv.Get(record.LogKey(off))
		require.NoError(t, err)
		require.True(t, found)
		r, err := record.Decode(v)
		require.NoError(t, err)
		b.Delete(record.LogKey(off))
		b.Delete(record.StreamKey(r.Stream, r.Version))
		if r.ID != "" {
			b.Delete(record.IDKey(r.Stream, r.ID))
		}
	}
	require.NoError(t, b.Commit(true))
	require.NoError(t, kv.Close())
}

func openDir(t *testing.T, e backend.Engine, dir string, cfg logstore.Config) (*Log, error) {
	t.Helper()
	kv, err := e.Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	l, err := Open(kv, cfg)
	if err != nil {
		require.NoError(t, kv.Close())
	}
	return l, err
}

// TestHoleCheckAndCut: a hole in the part of the log that CheckFrom covers
// fails the open, or, with OnHole, is reported first and cut: the log is the
// dense prefix below the hole, with consistent indexes, and goes on from
// there.
func TestHoleCheckAndCut(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := memory.Engine{}
	l, err := openDir(t, e, dir, logstore.Config{Sync: true})
	require.NoError(t, err)
	for i := range 30 {
		_, err := l.Append(ctx, idReq("s"+string(rune('a'+i%3)), logstore.Any, "id"+string(rune('A'+i))))
		require.NoError(t, err)
	}
	require.NoError(t, l.Close())
	punch(t, e, dir, 21, 24) // records 25..30 survive beyond the hole

	// A check that starts above the hole sees nothing.
	l, err = openDir(t, e, dir, logstore.Config{Sync: true, CheckFrom: 25})
	require.NoError(t, err)
	require.Equal(t, logstore.Offset(30), l.Head())
	require.NoError(t, l.Close())

	_, err = openDir(t, e, dir, logstore.Config{Sync: true, CheckFrom: 10})
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, "offset 21 is missing")

	var gotHole, gotHead logstore.Offset
	l, err = openDir(t, e, dir, logstore.Config{Sync: true, CheckFrom: 10, OnHole: func(hole, head logstore.Offset) error {
		gotHole, gotHead = hole, head
		return nil
	}})
	require.NoError(t, err)
	require.Equal(t, logstore.Offset(21), gotHole)
	require.Equal(t, logstore.Offset(30), gotHead)
	require.Equal(t, logstore.Offset(20), l.Head())
	rep, err := l.Verify(ctx, nil)
	require.NoError(t, err, "the cut leaves consistent indexes")
	require.Equal(t, uint64(20), rep.Records)
	// The ids of the removed records are free again, the next offset is 21.
	res, err := l.Append(ctx, idReq("sb", logstore.Any, "idZ"))
	require.NoError(t, err)
	require.Equal(t, logstore.Offset(21), res.First)
	require.NoError(t, l.Close())
}

// TestHoleRepairRefused: an OnHole error fails the open and cuts nothing.
func TestHoleRepairRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := memory.Engine{}
	l, err := openDir(t, e, dir, logstore.Config{Sync: true})
	require.NoError(t, err)
	_, err = l.Append(ctx, req("s", 0, 10))
	require.NoError(t, err)
	require.NoError(t, l.Close())
	punch(t, e, dir, 5, 5)
	_, err = openDir(t, e, dir, logstore.Config{CheckFrom: 1, OnHole: func(logstore.Offset, logstore.Offset) error { return faultkv.ErrInjected }})
	require.ErrorIs(t, err, faultkv.ErrInjected)
	l, err = openDir(t, e, dir, logstore.Config{})
	require.NoError(t, err)
	defer l.Close()
	require.Equal(t, logstore.Offset(10), l.Head(), "nothing was cut")
}

// TestPeriodicSync: in NoSync mode, unsynced commits are synced within the
// interval, also when no further append comes, and OnSync reports the
// durable offset.
func TestPeriodicSync(t *testing.T) {
	e := &faultkv.Engine{Inner: memory.Engine{}}
	synced := make(chan logstore.Offset, 16)
	l := openLog(t, e, logstore.Config{SyncInterval: time.Millisecond, OnSync: func(d logstore.Offset) { synced <- d }})
	defer l.Close()
	_, err := l.Append(context.Background(), req("s", 0, 3))
	require.NoError(t, err)
	require.Equal(t, logstore.Offset(3), <-synced)
	require.Positive(t, e.Syncs.Load())
}

// TestPeriodicSyncFailureStops: a failed periodic sync stops the log like a
// failed commit.
func TestPeriodicSyncFailureStops(t *testing.T) {
	e := &faultkv.Engine{Inner: memory.Engine{}}
	l := openLog(t, e, logstore.Config{SyncInterval: time.Hour})
	defer l.Close()
	e.Inject(faultkv.Faults{SyncAfter: 1})
	l.cfg.SyncInterval = 0 // due at once: the next commit syncs
	_, err := l.Append(context.Background(), req("s", 0, 1))
	require.NoError(t, err, "the commit itself succeeded")
	_, err = l.Append(context.Background(), req("s", 1, 1))
	require.ErrorIs(t, err, logstore.ErrFailed)
	require.ErrorIs(t, err, faultkv.ErrInjected)
}
