package powerloss

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/badger"
	"github.com/durablelog/eventstore/internal/headmark"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/internal/torture"
	"github.com/stretchr/testify/require"
)

// TestBadgerHoleForged makes, on real badger files, what
// TestBadgerNoSyncPowerCuts makes with a power cut: a log whose middle is
// missing (the lost tail of an older memtable WAL) while later records
// survive, after a session that did not close, whose head mark was durable
// below the hole. Sync mode refuses to open it, naming the hole; NoSync mode
// cuts the log back to the dense prefix below the hole, reports the loss
// and moves to the next generation, and the store then reads, verifies and
// appends normally.
func TestBadgerHoleForged(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	dir := filepath.Join(base, "store")
	opts, err := torture.StoreOptions(badger.Name, torture.ProfileSmall)
	require.NoError(t, err)
	noSync := append(opts, eventstore.WithDurability(eventstore.NoSync))
	s, err := eventstore.Open(dir, noSync...)
	require.NoError(t, err)
	for i := range 40 {
		events := make([]eventstore.Event, 1+i%3)
		for j := range events {
			events[j] = eventstore.Event{Type: "T", ID: fmt.Sprintf("e%d.%d", i, j), Data: []byte(fmt.Sprint(i, j))}
		}
		_, err := s.Append(ctx, fmt.Sprintf("s%d", i%4), eventstore.Any, events...)
		require.NoError(t, err)
	}
	head := s.Head()
	require.NoError(t, s.Close())

	hole := head / 2
	dropLogRecords(t, filepath.Join(dir, "engine"), hole, hole+4)
	f, m, err := headmark.Open(dir)
	require.NoError(t, err)
	require.True(t, m.Clean)
	require.NoError(t, f.WriteSync(headmark.Mark{Head: m.Head, Durable: eventstore.Offset(hole - 10), Generation: m.Generation}))
	require.NoError(t, f.Close())

	refused := filepath.Join(base, "sync")
	require.NoError(t, torture.CopyDir(dir, refused))
	_, err = eventstore.Open(refused, opts...)
	require.ErrorIs(t, err, eventstore.ErrCorrupt)
	require.ErrorContains(t, err, fmt.Sprintf("offset %d is missing", hole))

	s, err = eventstore.Open(dir, noSync...)
	require.NoError(t, err)
	rec := s.LastRecovery()
	require.EqualValues(t, hole, rec.HoleAt)
	require.EqualValues(t, hole-1, rec.Head)
	require.EqualValues(t, head-hole+1, rec.LostEvents)
	require.EqualValues(t, 2, rec.Generation)
	require.EqualValues(t, 2, s.Generation())
	_, err = s.Verify(ctx)
	require.NoError(t, err)
	recs, err := s.ReadLog(ctx, 1, 0)
	require.NoError(t, err)
	require.Len(t, recs, int(hole-1))
	for i := range 4 {
		stream := fmt.Sprintf("s%d", i)
		rs, err := s.ReadStream(ctx, stream, 1, 0)
		require.NoError(t, err)
		for j, r := range rs {
			require.EqualValues(t, j+1, r.Version, "stream %s", stream)
		}
	}
	res, err := s.Append(ctx, "s0", eventstore.Any, eventstore.Event{Type: "T", ID: "e39.0", Data: []byte("again")})
	require.NoError(t, err, "an id of a record that was cut is free again")
	require.EqualValues(t, hole, res.First)
	require.NoError(t, s.Close())

	s, err = eventstore.Open(dir, noSync...)
	require.NoError(t, err)
	require.EqualValues(t, 2, s.Generation(), "a clean reopen keeps the generation")
	require.Zero(t, s.LastRecovery().LostEvents)
	require.EqualValues(t, hole, s.Head())
	require.NoError(t, s.Close())
}

// dropLogRecords opens the badger engine in dir directly and removes the log
// records from offset from to to, with their stream and id index entries.
func dropLogRecords(t *testing.T, dir string, from, to eventstore.Offset) {
	t.Helper()
	kv, err := badger.Engine{}.Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	b := kv.NewBatch()
	for off := from; off <= to; off++ {
		v, found, err := kv.Get(record.LogKey(off))
		require.NoError(t, err)
		require.True(t, found, "offset %d", off)
		r, err := record.Decode(v)
		require.NoError(t, err)
		b.Delete(record.LogKey(off))
		b.Delete(record.StreamKey(r.Stream, r.Version))
		if r.ID != "" {
			b.Delete(record.IDKey(r.Stream, r.ID))
		}
	}
	require.NoError(t, b.Commit(true))
	b.Close()
	require.NoError(t, kv.Close())
}
