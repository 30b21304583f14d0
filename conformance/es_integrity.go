package conformance

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/stretchr/testify/require"
)

var integrityTests = []storeTest{
	{"VerifyHealthy", testVerifyHealthy},
	{"FlippedRecordDetected", testFlippedRecord},
	{"MissingRecordDetected", testMissingRecord},
	{"MisplacedRecordDetected", testMisplacedRecord},
	{"WrongIndexDetected", testWrongIndex},
	{"DamagedHeadFailsOpen", testDamagedHead},
}

// tamper opens the engine under a closed store and applies fn to it.
func tamper(t *testing.T, h Harness, dir string, fn func(kv backend.KV)) {
	t.Helper()
	h.skipWithoutEngine(t)
	kv, err := h.engine(t).Open(filepath.Join(dir, "engine"), backend.Options{Logger: slog.New(slog.DiscardHandler), Config: h.config(t, dir)})
	require.NoError(t, err)
	fn(kv)
	require.NoError(t, kv.Close())
}

func setKey(t *testing.T, kv backend.KV, k, v []byte) {
	t.Helper()
	b := kv.NewBatch()
	if v == nil {
		b.Delete(k)
	} else {
		b.Set(k, v)
	}
	require.NoError(t, b.Commit(true))
}

func getKey(t *testing.T, kv backend.KV, k []byte) []byte {
	t.Helper()
	v, ok, err := kv.Get(k)
	require.NoError(t, err)
	require.True(t, ok, "key %x", k)
	return v
}

// damagedStore writes 10 events over two streams, closes, and tampers.
func damagedStore(t *testing.T, h Harness, fn func(kv backend.KV)) *eventstore.Store {
	dir := h.dir(t)
	s := h.open(t, dir)
	for i := range 10 {
		mustAppend(t, s, []string{"a", "b"}[i%2], eventstore.Any, evID(string(rune('A'+i)), "T", "payload"))
	}
	require.NoError(t, s.Close())
	tamper(t, h, dir, fn)
	s = h.open(t, dir)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func requireCorruptAt(t *testing.T, err error, off eventstore.Offset) {
	t.Helper()
	require.ErrorIs(t, err, eventstore.ErrCorrupt)
	var ce *eventstore.CorruptionError
	require.True(t, errors.As(err, &ce), "a *CorruptionError names the location: %v", err)
	if off > 0 {
		require.Equal(t, off, ce.Offset, "location in %v", err)
	}
}

func testVerifyHealthy(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	for i := range 30 {
		mustAppend(t, s, []string{"a", "b", "c"}[i%3], eventstore.Any, evID(string(rune('A'+i)), "T", "x"))
	}
	rep, err := s.Verify(context.Background())
	require.NoError(t, err)
	require.Equal(t, eventstore.Offset(30), rep.Head)
	require.Equal(t, uint64(30), rep.Records)
	require.Equal(t, uint64(3), rep.Streams)
	require.Equal(t, uint64(30), rep.IndexEntries)
	require.Equal(t, uint64(30), rep.IDs)
	require.Positive(t, rep.Bytes)
}

func testFlippedRecord(t *testing.T, h Harness) {
	s := damagedStore(t, h, func(kv backend.KV) {
		v := getKey(t, kv, record.LogKey(3))
		v[len(v)-2] ^= 0x10
		setKey(t, kv, record.LogKey(3), v)
	})
	ctx := context.Background()
	recs, err := s.ReadLog(ctx, 1, 2)
	require.NoError(t, err, "records before the damage read fine")
	require.Len(t, recs, 2)
	recs, err = s.ReadLog(ctx, 1, 0)
	requireCorruptAt(t, err, 3)
	require.Nil(t, recs, "no data is returned with a corruption error")
	_, err = s.ReadStream(ctx, "a", 1, 0)
	requireCorruptAt(t, err, 3)
	_, err = s.Verify(ctx)
	requireCorruptAt(t, err, 3)
	// The store stays usable for the undamaged parts.
	_, err = s.ReadStream(ctx, "b", 1, 0)
	require.NoError(t, err)
}

func testMissingRecord(t *testing.T, h Harness) {
	s := damagedStore(t, h, func(kv backend.KV) { setKey(t, kv, record.LogKey(4), nil) })
	_, err := s.ReadLog(context.Background(), 1, 0)
	requireCorruptAt(t, err, 4)
	_, err = s.ReadStream(context.Background(), "b", 1, 0)
	requireCorruptAt(t, err, 4)
	_, err = s.Verify(context.Background())
	requireCorruptAt(t, err, 4)
}

func testMisplacedRecord(t *testing.T, h Harness) {
	s := damagedStore(t, h, func(kv backend.KV) {
		setKey(t, kv, record.LogKey(5), getKey(t, kv, record.LogKey(7)))
	})
	_, err := s.ReadLog(context.Background(), 5, 1)
	requireCorruptAt(t, err, 5)
	_, err = s.Verify(context.Background())
	requireCorruptAt(t, err, 5)
}

func testWrongIndex(t *testing.T, h Harness) {
	s := damagedStore(t, h, func(kv backend.KV) {
		setKey(t, kv, record.StreamKey("a", 2), record.Uint64(2)) // offset 2 is stream "b"
	})
	_, err := s.ReadStream(context.Background(), "a", 1, 0)
	require.ErrorIs(t, err, eventstore.ErrCorrupt)
	require.Contains(t, err.Error(), `stream "a" version 2`)
	_, err = s.Verify(context.Background())
	require.ErrorIs(t, err, eventstore.ErrCorrupt)
	// Reading the whole log needs no index, and still works.
	recs, err := s.ReadLog(context.Background(), 1, 0)
	require.NoError(t, err)
	require.Len(t, recs, 10)
}

func testDamagedHead(t *testing.T, h Harness) {
	dir := h.dir(t)
	s := h.open(t, dir)
	fill(t, s, 5, "a")
	require.NoError(t, s.Close())
	tamper(t, h, dir, func(kv backend.KV) {
		v := getKey(t, kv, record.LogKey(5))
		v[0] ^= 0xff
		setKey(t, kv, record.LogKey(5), v)
	})
	_, err := eventstore.Open(dir, h.storeOptions(t, dir)...)
	requireCorruptAt(t, err, 5)
	require.Contains(t, err.Error(), dir)
}
