package torture_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/internal/torture"
	"github.com/stretchr/testify/require"
)

// TestTrialOutcomes builds a pebble template and checks the classification
// of damages with known outcomes, including a silent one made on purpose (a
// record rewritten with other data and a valid checksum) and a tail loss (the
// last append cut from the log, with the head mark deleted).
func TestTrialOutcomes(t *testing.T) {
	dir := t.TempDir()
	tpl, err := torture.BuildTemplate(filepath.Join(dir, "template"), "pebble", torture.ProfileDefault, 3, 60, false)
	require.NoError(t, err)
	require.Positive(t, tpl.Head)
	require.Equal(t, "closed", tpl.Name)

	file := func(kind string) torture.File {
		for _, f := range tpl.Files {
			if f.Kind == kind {
				return f
			}
		}
		t.Fatalf("no %s file in %v", kind, tpl.Files)
		return torture.File{}
	}
	work := func(name string) string { return filepath.Join(dir, name) }

	// Zeroing the STORE file: Open fails with ErrCorrupt naming it.
	store := file("store-file")
	r := torture.RunTrial(tpl, torture.Damage{Kind: torture.ZeroBlock, File: store.Rel, FileKind: store.Kind, Size: store.Size}, work("t1"), time.Minute)
	require.Equal(t, torture.Detected, r.Outcome, "%+v", r)
	require.Equal(t, "open", r.Stage)
	require.True(t, r.NamesFile, r.Err)

	// Deleting a snapshot: recovery uses an older one, all data is intact.
	snap := file("snapshot")
	r = torture.RunTrial(tpl, torture.Damage{Kind: torture.Delete, File: snap.Rel, FileKind: snap.Kind, Size: snap.Size}, work("t2"), time.Minute)
	require.Equal(t, torture.Clean, r.Outcome, "%+v", r)
	require.Equal(t, tpl.Head, r.Head)
	_, err = os.Stat(work("t2"))
	require.ErrorIs(t, err, os.ErrNotExist, "the trial's copy is removed")

	// A record rewritten with other data and a valid checksum: nothing in
	// the store can tell, only the comparison with what was written.
	forged := filepath.Join(dir, "forged")
	require.NoError(t, torture.CopyDir(tpl.Dir, forged))
	engine, err := backend.Lookup("pebble")
	require.NoError(t, err)
	kv, err := engine.Open(filepath.Join(forged, "engine"), backend.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	v, found, err := kv.Get(record.LogKey(eventstore.Offset(tpl.Head)))
	require.NoError(t, err)
	require.True(t, found)
	rec, err := record.Decode(v)
	require.NoError(t, err)
	rec.Data = append(rec.Data, "forged"...)
	b := kv.NewBatch()
	b.Set(record.LogKey(eventstore.Offset(tpl.Head)), record.Append(nil, &rec))
	require.NoError(t, b.Commit(true))
	b.Close()
	require.NoError(t, kv.Close())
	forgedTpl := *tpl
	forgedTpl.Dir = forged
	// The trial's own damage is harmless: deleting the engine's LOCK file.
	r = torture.RunTrial(&forgedTpl, torture.Damage{Kind: torture.Delete, File: "engine/LOCK", FileKind: "engine-lock"}, work("t3"), time.Minute)
	require.Equal(t, torture.Silent, r.Outcome, "%+v", r)
	require.Contains(t, r.Detail, string(torture.KindMismatch))

	// Deleting the head mark loses nothing: the store opens without the
	// check.
	r = torture.RunTrial(tpl, torture.Damage{Kind: torture.Delete, File: "HEADMARK", FileKind: "head-mark"}, work("t4"), time.Minute)
	require.Equal(t, torture.Clean, r.Outcome, "%+v", r)

	// The last append cut from the log, as a damaged write-ahead log
	// leaves it: the head mark makes it detected, naming the lost
	// offsets; without the mark it is a tail loss, which nothing reports.
	cut := filepath.Join(dir, "cut")
	require.NoError(t, torture.CopyDir(tpl.Dir, cut))
	h, err := torture.LoadHistory(tpl.HistoryFile)
	require.NoError(t, err)
	var last torture.Ack
	for _, a := range h.Acks() {
		if a.Last > last.Last {
			last = a
		}
	}
	require.EqualValues(t, tpl.Head, last.Last)
	dropRecords(t, engine, filepath.Join(cut, "engine"), last.First, last.Last)
	cutTpl := *tpl
	cutTpl.Dir = cut
	r = torture.RunTrial(&cutTpl, torture.Damage{Kind: torture.Delete, File: "engine/LOCK", FileKind: "engine-lock"}, work("t5"), time.Minute)
	require.Equal(t, torture.Detected, r.Outcome, "%+v", r)
	require.True(t, r.NamesOffset, r.Err)
	require.Contains(t, r.Err, fmt.Sprintf("%d to %d", last.First, last.Last))
	r = torture.RunTrial(&cutTpl, torture.Damage{Kind: torture.Delete, File: "HEADMARK", FileKind: "head-mark"}, work("t6"), time.Minute)
	require.Equal(t, torture.TailLoss, r.Outcome, "%+v", r)
	require.Equal(t, last.Events, r.LostEvents)
}

// dropRecords opens the engine in dir directly and removes the log records
// from offset from to to, with their stream and id index entries.
func dropRecords(t *testing.T, engine backend.Engine, dir string, from, to eventstore.Offset) {
	t.Helper()
	kv, err := engine.Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	b := kv.NewBatch()
	for off := from; off <= to; off++ {
		v, found, err := kv.Get(record.LogKey(off))
		require.NoError(t, err)
		require.True(t, found, "offset %d", off)
		rec, err := record.Decode(v)
		require.NoError(t, err)
		b.Delete(record.LogKey(off))
		b.Delete(record.StreamKey(rec.Stream, rec.Version))
		if rec.ID != "" {
			b.Delete(record.IDKey(rec.Stream, rec.ID))
		}
	}
	require.NoError(t, b.Commit(true))
	b.Close()
	require.NoError(t, kv.Close())
}
