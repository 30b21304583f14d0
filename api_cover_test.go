package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/conformance"
	"github.com/durablelog/eventstore/internal/benchknobs"
	"github.com/durablelog/eventstore/internal/dump"
	"github.com/durablelog/eventstore/internal/layout"
	"github.com/durablelog/eventstore/internal/snapfile"
	"github.com/stretchr/testify/require"
)

// recordsOf yields recs, then err if it is not nil.
func recordsOf(recs []eventstore.Record, err error) iter.Seq2[eventstore.Record, error] {
	return func(yield func(eventstore.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
		if err != nil {
			yield(eventstore.Record{}, err)
		}
	}
}

// TestImportRefuses: Import checks every record before its batch is
// written, reports the reader's error, and refuses a closed store; the
// records of a rejected batch are not written.
func TestImportRefuses(t *testing.T) {
	ctx := context.Background()
	src := openMem(t, t.TempDir())
	fillStreams(t, src, 5)
	recs, err := src.ReadLog(ctx, 1, 0)
	require.NoError(t, err)
	require.NoError(t, src.Close())

	readErr := errors.New("torn file")
	gap := append([]eventstore.Record(nil), recs...)
	gap[3].Offset = 9
	v0 := append([]eventstore.Record(nil), recs...)
	v0[2].Version = 0
	badType := append([]eventstore.Record(nil), recs...)
	badType[1].Type = ""
	for _, c := range []struct {
		name    string
		recs    iter.Seq2[eventstore.Record, error]
		is      error
		contain string
	}{
		{"reader error", recordsOf(recs[:2], readErr), readErr, "read the records"},
		{"gap", recordsOf(gap, nil), eventstore.ErrInvalidEvent, "record at offset 9, expected offset 4"},
		{"version 0", recordsOf(v0, nil), eventstore.ErrInvalidEvent, "record at offset 3 has version 0"},
		{"invalid event", recordsOf(badType, nil), eventstore.ErrInvalidEvent, "record at offset 2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openMem(t, t.TempDir())
			defer s.Close()
			st, err := s.Import(ctx, c.recs)
			require.ErrorIs(t, err, c.is)
			require.ErrorContains(t, err, c.contain)
			require.Zero(t, st.Records, "the batch is written only once it is complete")
			require.Equal(t, eventstore.Offset(0), s.Head())
		})
	}

	s := openMem(t, t.TempDir())
	st, err := s.Import(ctx, recordsOf(recs, nil))
	require.NoError(t, err)
	require.Equal(t, uint64(5), st.Records)
	require.NoError(t, s.Close())
	_, err = s.Import(ctx, recordsOf(recs, nil))
	require.ErrorIs(t, err, eventstore.ErrClosed)
}

// TestBackupDestinationChecks: Backup wants a new or empty directory, and a
// cancelled context stops a dump without a manifest.
func TestBackupDestinationChecks(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, t.TempDir())
	defer s.Close()
	fillStreams(t, s, 3)

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	_, err := s.Backup(ctx, file)
	require.ErrorContains(t, err, "give a new or empty directory")
	// A dangling symbolic link reads as missing, and cannot be made a
	// directory.
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(filepath.Join(t.TempDir(), "gone", "away"), link))
	_, err = s.Backup(ctx, link)
	require.ErrorContains(t, err, "eventstore: backup: create "+link)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	dest := filepath.Join(t.TempDir(), "b")
	_, err = s.Backup(cctx, dest)
	require.ErrorIs(t, err, context.Canceled)
	_, err = dump.ReadManifest(dest)
	require.Error(t, err, "no manifest after a failed backup")
}

// TestBackupProgressLarge: a dump reports its progress every 4096 records
// and at the end.
func TestBackupProgressLarge(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, t.TempDir())
	defer s.Close()
	events := make([]eventstore.Event, 5000)
	for i := range events {
		events[i] = eventstore.Event{Type: "T", Data: []byte(fmt.Sprint(i))}
	}
	_, err := s.Append(ctx, "big", eventstore.NoStream, events...)
	require.NoError(t, err)
	var reached []eventstore.Offset
	rep, err := s.BackupProgress(ctx, filepath.Join(t.TempDir(), "b"), func(o eventstore.Offset) { reached = append(reached, o) })
	require.NoError(t, err)
	require.Equal(t, eventstore.Offset(5000), rep.Head)
	require.Equal(t, []eventstore.Offset{4096, 5000}, reached)
}

// TestStreamIteratorStopsOnCancel: a stream iterator checks its context
// between records, not only between chunks.
func TestStreamIteratorStopsOnCancel(t *testing.T) {
	s := openMem(t, t.TempDir())
	defer s.Close()
	appendN(t, s, "s", 5)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []uint64
	var last error
	for r, err := range s.Stream(ctx, "s", 1) {
		if err != nil {
			last = err
			break
		}
		got = append(got, r.Version)
		if r.Version == 2 {
			cancel()
		}
	}
	require.ErrorIs(t, last, context.Canceled)
	require.Equal(t, []uint64{1, 2}, got)
}

// TestSnapshotWriteFailure: a snapshot that cannot be written fails Snapshot
// with the cause, counts in SnapshotStatus, and leaves the store appending;
// the next snapshot succeeds once the cause is gone.
func TestSnapshotWriteFailure(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openMem(t, dir, eventstore.WithStateMachine(&conformance.HashState{}))
	defer s.Close()
	appendN(t, s, "s", 3)
	snaps := layout.Snapshots(dir)
	require.NoError(t, os.RemoveAll(snaps))
	require.NoError(t, os.WriteFile(snaps, []byte("in the way"), 0o644))
	err := s.Snapshot(ctx)
	require.ErrorContains(t, err, "eventstore: create "+snaps)
	st := s.SnapshotStatus()
	require.Equal(t, uint64(1), st.Failed)
	require.Equal(t, err, st.LastError)
	appendN(t, s, "s", 1)

	require.NoError(t, os.Remove(snaps))
	require.NoError(t, s.Snapshot(ctx))
	st = s.SnapshotStatus()
	require.NoError(t, st.LastError)
	require.Equal(t, eventstore.Offset(4), st.Last)
}

// TestQuantileEdges: the estimate of an empty histogram or one without
// bounds is NaN, a rank past every bucket is the last bound, and a rank
// that lands on an empty bucket's edge is that bucket's bound.
func TestQuantileEdges(t *testing.T) {
	require.True(t, math.IsNaN(eventstore.Histogram{}.Quantile(0.5)))
	require.True(t, math.IsNaN(eventstore.Histogram{Count: 3}.Quantile(0.5)), "no buckets")
	h := eventstore.Histogram{Bounds: []float64{1, 2, 4}, Counts: []uint64{2, 2, 4}, Count: 6}
	require.Equal(t, 4.0, h.Quantile(1), "a rank past the last bucket")
	require.Equal(t, 1.0, h.Quantile(1.0/3))
	require.Equal(t, 0.0, h.Quantile(0), "interpolated from 0 within the first bucket")
	empty := eventstore.Histogram{Bounds: []float64{1, 2}, Counts: []uint64{0, 4}, Count: 4}
	require.Equal(t, 1.0, empty.Quantile(0), "a rank of zero on an empty first bucket is its bound")
	require.InDelta(t, 0.5, eventstore.Histogram{Bounds: []float64{1}, Counts: []uint64{2}, Count: 2}.Quantile(0.5), 1e-9)
}

// TestLostLogReported: a memory store whose engine data is gone (as a lost
// disk leaves it) while its directory keeps the head mark and a snapshot
// fails to open in Sync mode with ErrCorrupt, and opens in NoSync mode with
// the loss reported: the events counted as lost, a new generation, and the
// snapshot past the head set aside for good.
func TestLostLogReported(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openMem(t, dir, eventstore.WithStateMachine(&conformance.HashState{}))
	appendN(t, s, "s", 5)
	require.NoError(t, s.Snapshot(ctx))
	gen := s.Generation()
	require.NoError(t, s.Close())
	memory.Forget(layout.Engine(dir)) // the engine keeps its data under dir/engine

	_, err := eventstore.Open(dir, eventstore.WithBackend(memory.Name), eventstore.WithStateMachine(&conformance.HashState{}))
	require.ErrorIs(t, err, eventstore.ErrCorrupt)
	var ce *eventstore.CorruptionError
	require.ErrorAs(t, err, &ce)
	require.ErrorContains(t, err, "WithDurability(NoSync)")

	s = openMem(t, dir, eventstore.WithStateMachine(&conformance.HashState{}), eventstore.WithDurability(eventstore.NoSync))
	defer s.Close()
	rep := s.LastRecovery()
	require.Equal(t, uint64(5), rep.LostEvents)
	require.Equal(t, gen+1, s.Generation())
	require.Equal(t, gen+1, rep.Generation)
	require.Len(t, rep.LostSnapshots, 1)
	require.FileExists(t, rep.LostSnapshots[0])
	require.Equal(t, ".lost", filepath.Ext(rep.LostSnapshots[0]))
	require.Equal(t, eventstore.Offset(0), s.Head())
	res, err := s.Append(ctx, "s", eventstore.NoStream, eventstore.Event{Type: "T"})
	require.NoError(t, err)
	require.Equal(t, eventstore.Offset(1), res.First, "the lost offsets are given again, in the new generation")
}

// TestRecoverySkipsMisnamedSnapshot: a snapshot whose name disagrees with
// its header is set aside as damaged, and the replay of the whole log
// rebuilds the state; a long replay is counted.
func TestRecoverySkipsMisnamedSnapshot(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sm := &conformance.HashState{}
	s := openMem(t, dir, eventstore.WithStateMachine(sm))
	events := make([]eventstore.Event, 1200)
	for i := range events {
		events[i] = eventstore.Event{Type: "T", Data: []byte(fmt.Sprint(i))}
	}
	_, err := s.Append(ctx, "s", eventstore.NoStream, events...)
	require.NoError(t, err)
	require.NoError(t, s.Snapshot(ctx))
	wantSum, wantOff, _ := sm.Sum()
	require.NoError(t, s.Close())

	snaps := layout.Snapshots(dir)
	list, err := os.ReadDir(snaps)
	require.NoError(t, err)
	require.Len(t, list, 1)
	wrong := filepath.Join(snaps, snapfile.Name(7))
	require.NoError(t, os.Rename(filepath.Join(snaps, list[0].Name()), wrong))

	sm2 := &conformance.HashState{}
	s = openMem(t, dir, eventstore.WithStateMachine(sm2))
	defer s.Close()
	rep := s.LastRecovery()
	require.Len(t, rep.Skipped, 1)
	require.Contains(t, rep.Skipped[0].Reason, "the header says offset 1200, the name 7")
	require.FileExists(t, wrong+".broken")
	require.Equal(t, uint64(1200), rep.EventsReplayed)
	gotSum, gotOff, _ := sm2.Sum()
	require.Equal(t, wantOff, gotOff)
	require.Equal(t, wantSum, gotSum, "the replay rebuilds the state")
}

// TestOpenRefusals: a non-positive open timeout, a directory that cannot be
// created, and a lock file that cannot be opened fail Open with errors that
// say so.
func TestOpenRefusals(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		_, err := eventstore.Open(t.TempDir(), eventstore.WithBackend(memory.Name), eventstore.WithOpenTimeout(d))
		require.ErrorContains(t, err, "the timeout must be positive")
	}

	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(filepath.Join(t.TempDir(), "gone", "away"), link))
	_, err := eventstore.Open(link, eventstore.WithBackend(memory.Name))
	require.ErrorContains(t, err, "eventstore: create "+link)

	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, layout.LockFile), 0o755))
	_, err = eventstore.Open(dir, eventstore.WithBackend(memory.Name))
	require.ErrorContains(t, err, "eventstore: open the lock file")
	require.NotErrorIs(t, err, eventstore.ErrLocked)
}

// TestSubscriptionEndsOnClose: a subscription that has records in hand when
// the store closes yields ErrClosed before the next one.
func TestSubscriptionEndsOnClose(t *testing.T) {
	s := openMem(t, t.TempDir())
	appendN(t, s, "s", 3)
	var got []eventstore.Offset
	var last error
	for r, err := range s.Subscribe(context.Background(), 1) {
		if err != nil {
			last = err
			break
		}
		got = append(got, r.Offset)
		require.NoError(t, s.Close())
	}
	require.ErrorIs(t, last, eventstore.ErrClosed)
	require.Equal(t, []eventstore.Offset{1}, got)
}

// TestSnapshotEdges: a snapshot of an empty store is a no-op, and the
// pruning after a snapshot sets aside a snapshot file past the head (one
// that saw events the log does not hold) as *.lost instead of keeping it.
func TestSnapshotEdges(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openMem(t, dir, eventstore.WithStateMachine(&conformance.HashState{}))
	defer s.Close()
	require.NoError(t, s.Snapshot(ctx))
	require.Zero(t, s.SnapshotStatus().Taken, "nothing to snapshot in an empty store")

	appendN(t, s, "s", 3)
	snaps := layout.Snapshots(dir)
	require.NoError(t, os.MkdirAll(snaps, 0o755))
	ahead := filepath.Join(snaps, snapfile.Name(100))
	require.NoError(t, os.WriteFile(ahead, []byte("from a log that had more"), 0o644))
	require.NoError(t, s.Snapshot(ctx))
	st := s.SnapshotStatus()
	require.Equal(t, uint64(1), st.Taken)
	require.Equal(t, eventstore.Offset(3), st.Last)
	require.NoFileExists(t, ahead)
	require.FileExists(t, ahead+".lost")
	require.FileExists(t, filepath.Join(snaps, snapfile.Name(3)))
}

// applyFails is a state machine whose Apply fails at offset failAt.
type applyFails struct{ failAt eventstore.Offset }

func (applyFails) Fingerprint() string { return "apply-fails" }
func (a applyFails) Apply(r eventstore.Record) error {
	if r.Offset == a.failAt {
		return errors.New("apply refused")
	}
	return nil
}
func (applyFails) Snapshot(io.Writer) error { return nil }
func (applyFails) Restore(io.Reader) error  { return nil }

// TestImportStopsOnFailedStore: an import whose first batch fails the
// store (its state machine refuses a record) stops before the next batch
// with the failure; the stats count the committed batch. An empty import
// is a no-op.
func TestImportStopsOnFailedStore(t *testing.T) {
	ctx := context.Background()
	src := openMem(t, t.TempDir())
	events := make([]eventstore.Event, 4100)
	for i := range events {
		events[i] = eventstore.Event{Type: "T", Data: []byte(fmt.Sprint(i))}
	}
	_, err := src.Append(ctx, "s", eventstore.NoStream, events...)
	require.NoError(t, err)
	recs, err := src.ReadLog(ctx, 1, 0)
	require.NoError(t, err)
	require.Len(t, recs, 4100)
	require.NoError(t, src.Close())

	s := openMem(t, t.TempDir(), eventstore.WithStateMachine(applyFails{failAt: 10}))
	defer s.Close()
	st, err := s.Import(ctx, recordsOf(nil, nil))
	require.NoError(t, err)
	require.Zero(t, st.Records)

	st, err = s.Import(ctx, recordsOf(recs, nil))
	require.ErrorIs(t, err, eventstore.ErrFailed)
	require.ErrorIs(t, err, eventstore.ErrStateMachine)
	require.ErrorContains(t, err, "apply refused")
	require.Equal(t, uint64(4096), st.Records, "the first batch is committed")
	require.Equal(t, uint64(1), st.Batches)
	require.Equal(t, eventstore.Offset(4096), s.Head())
}

// TestMetricsWithoutCounters: with the metrics turned off (a benchmark
// knob), Metrics still reports the head, the generation and whether the
// store failed, here by its state machine.
func TestMetricsWithoutCounters(t *testing.T) {
	benchknobs.NoMetrics.Store(true)
	defer benchknobs.NoMetrics.Store(false)
	s := openMem(t, t.TempDir(), eventstore.WithStateMachine(applyFails{failAt: 3}))
	defer s.Close()
	appendN(t, s, "s", 2)
	m := s.Metrics()
	require.Equal(t, eventstore.Offset(2), m.Head)
	require.Equal(t, s.Generation(), m.Generation)
	require.False(t, m.Failed)
	require.Zero(t, m.Appends, "no counters")
	_, err := s.Append(context.Background(), "s", eventstore.Any, eventstore.Event{Type: "T"})
	require.ErrorIs(t, err, eventstore.ErrStateMachine)
	require.True(t, s.Metrics().Failed)
}

// TestCloseReportsFinalSnapshotFailure: with the OnClose policy, a final
// snapshot that cannot be written is Close's error; the store is closed all
// the same (the directory opens again) and the events are kept.
func TestCloseReportsFinalSnapshotFailure(t *testing.T) {
	dir := t.TempDir()
	s := openMem(t, dir, eventstore.WithStateMachine(&conformance.HashState{}), eventstore.WithSnapshotPolicy(eventstore.OnClose()))
	appendN(t, s, "s", 2)
	snaps := layout.Snapshots(dir)
	require.NoError(t, os.RemoveAll(snaps))
	require.NoError(t, os.WriteFile(snaps, []byte("in the way"), 0o644))
	require.ErrorContains(t, s.Close(), "eventstore: create "+snaps)
	require.NoError(t, s.Close(), "a second Close is a no-op")

	require.NoError(t, os.Remove(snaps))
	s = openMem(t, dir, eventstore.WithStateMachine(&conformance.HashState{}))
	defer s.Close()
	require.Equal(t, eventstore.Offset(2), s.Head())
	require.Equal(t, uint64(2), s.LastRecovery().EventsReplayed, "no snapshot: the whole log is replayed")
}

// ckMemory is the memory engine with a checkpoint that fails with err, or
// writes an empty engine directory.
type ckMemory struct {
	memory.Engine
	err error
}

type ckMemoryKV struct {
	backend.KV
	err error
}

func (e ckMemory) Open(dir string, o backend.Options) (backend.KV, error) {
	kv, err := e.Engine.Open(dir, o)
	return ckMemoryKV{kv, e.err}, err
}

func (k ckMemoryKV) Checkpoint(dir string) error {
	if k.err != nil {
		return k.err
	}
	return os.MkdirAll(dir, 0o755)
}

// TestBackupCheckpointPath: an engine that can checkpoint is backed up by a
// checkpoint beside a copy of the STORE file; its failure fails the backup,
// naming the engine, without a fall back to a dump.
func TestBackupCheckpointPath(t *testing.T) {
	ctx := context.Background()
	s, err := eventstore.Open(t.TempDir(), eventstore.WithEngine(memory.Name, ckMemory{}))
	require.NoError(t, err)
	defer s.Close()
	appendN(t, s, "s", 3)
	dest := filepath.Join(t.TempDir(), "b")
	rep, err := s.Backup(ctx, dest)
	require.NoError(t, err)
	require.Equal(t, eventstore.BackupCheckpoint, rep.Method)
	require.Equal(t, eventstore.Offset(3), rep.Head)
	require.DirExists(t, layout.Engine(dest))
	require.FileExists(t, filepath.Join(dest, layout.StoreFile))
	require.NoFileExists(t, filepath.Join(dest, dump.DumpFileName))

	boom := errors.New("disk full")
	s2, err := eventstore.Open(t.TempDir(), eventstore.WithEngine(memory.Name, ckMemory{err: boom}))
	require.NoError(t, err)
	defer s2.Close()
	appendN(t, s2, "s", 1)
	dest = filepath.Join(t.TempDir(), "b")
	_, err = s2.Backup(ctx, dest)
	require.ErrorIs(t, err, boom)
	require.ErrorContains(t, err, "checkpoint the memory engine")
	require.NoFileExists(t, filepath.Join(dest, dump.DumpFileName))
	_, err = dump.ReadManifest(dest)
	require.Error(t, err)
}

// TestSnapshotWaitCancelled: Snapshot returns the context's cause when the
// context ends while the snapshot is being made durable; the snapshot
// completes all the same.
func TestSnapshotWaitCancelled(t *testing.T) {
	held, release := make(chan struct{}), make(chan struct{})
	hooks := snapfile.Hooks{AfterSync: func(string) error {
		close(held)
		<-release
		return nil
	}}
	s := openMem(t, t.TempDir(), eventstore.WithStateMachine(&conformance.HashState{}), eventstore.WithSnapshotHooks(hooks))
	defer s.Close()
	appendN(t, s, "s", 2)
	cause := errors.New("caller gave up")
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Snapshot(ctx) }()
	<-held
	cancel(cause)
	require.ErrorIs(t, <-done, cause)
	close(release)
	require.NoError(t, s.Snapshot(context.Background()), "waits for the snapshot in the queue")
	st := s.SnapshotStatus()
	require.Equal(t, uint64(1), st.Taken)
	require.Equal(t, eventstore.Offset(2), st.Last)
}

// TestDamagedHeadMark: a head mark with no valid slot fails Open with
// ErrCorrupt naming the file; once it is removed, as the error advises, the
// store opens with its events.
func TestDamagedHeadMark(t *testing.T) {
	dir := t.TempDir()
	s := openMem(t, dir)
	appendN(t, s, "s", 2)
	require.NoError(t, s.Close())
	mark := filepath.Join(dir, layout.HeadMarkFile)
	fi, err := os.Stat(mark)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(mark, make([]byte, fi.Size()), 0o644))

	_, err = eventstore.Open(dir, eventstore.WithBackend(memory.Name))
	require.ErrorIs(t, err, eventstore.ErrCorrupt)
	var ce *eventstore.CorruptionError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, mark, ce.File)

	require.NoError(t, os.Remove(mark))
	s = openMem(t, dir)
	defer s.Close()
	require.Equal(t, eventstore.Offset(2), s.Head())
}

// TestIteratorsStopOnBreak: a loop that breaks out of the log and stream
// iterators ends them (an iterator that called yield again would panic),
// and later iterations start afresh.
func TestIteratorsStopOnBreak(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, t.TempDir())
	defer s.Close()
	appendN(t, s, "s", 5)
	for name, seq := range map[string]iter.Seq2[eventstore.Record, error]{
		"stream": s.Stream(ctx, "s", 2),
		"log":    s.Log(ctx, 2),
	} {
		var got []eventstore.Offset
		for r, err := range seq {
			require.NoError(t, err, name)
			got = append(got, r.Offset)
			if len(got) == 2 {
				break
			}
		}
		require.Equal(t, []eventstore.Offset{2, 3}, got, name)
		n := 0
		for _, err := range seq {
			require.NoError(t, err, name)
			n++
		}
		require.Equal(t, 4, n, "%s: a second range runs from the start again", name)
	}
}
