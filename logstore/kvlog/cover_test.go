package kvlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/internal/faultkv"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
	"github.com/stretchr/testify/require"
)

// rawEdit opens the engine in dir directly (the log closed) and applies edit
// to a batch, as damage on disk would.
func rawEdit(t *testing.T, dir string, edit func(kv backend.KV, b backend.Batch)) {
	t.Helper()
	kv, err := memory.Engine{}.Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	b := kv.NewBatch()
	edit(kv, b)
	require.NoError(t, b.Commit(true))
	b.Close()
	require.NoError(t, kv.Close())
}

// seeded writes a log into a fresh directory: stream a with versions 1..3
// (ids a1..a3), stream b with versions 1..2 (no ids), interleaved, and closes
// it. Offsets: a1=1 b1=2 a2=3 b2=4 a3=5.
func seeded(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	l, err := openDir(t, memory.Engine{}, dir, logstore.Config{})
	require.NoError(t, err)
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		_, err := l.Append(ctx, idReq("a", logstore.ExpectedVersion(i-1), fmt.Sprint("a", i)))
		require.NoError(t, err)
		if i < 3 {
			_, err = l.Append(ctx, req("b", logstore.ExpectedVersion(i-1), 1))
			require.NoError(t, err)
		}
	}
	require.NoError(t, l.Close())
	return dir
}

func encoded(r logstore.Record) []byte { return record.Append(nil, &r) }

func getRec(t *testing.T, kv backend.KV, off logstore.Offset) logstore.Record {
	t.Helper()
	v, found, err := kv.Get(record.LogKey(off))
	require.NoError(t, err)
	require.True(t, found)
	r, err := record.Decode(v)
	require.NoError(t, err)
	return r
}

func requireCorrupt(t *testing.T, err error, contains string) {
	t.Helper()
	require.ErrorIs(t, err, backend.ErrCorrupt)
	var ce *logstore.CorruptionError
	require.ErrorAs(t, err, &ce)
	require.ErrorContains(t, err, contains)
}

// TestVerifyFindsDamage damages a sound log in each way Verify checks and
// requires a CorruptionError naming what is wrong; the undamaged log
// verifies.
func TestVerifyFindsDamage(t *testing.T) {
	ctx := context.Background()
	dir := seeded(t)
	l, err := openDir(t, memory.Engine{}, dir, logstore.Config{})
	require.NoError(t, err)
	rep, err := l.Verify(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, logstore.VerifyReport{Head: 5, Records: 5, Streams: 2, IndexEntries: 5, IDs: 3, Bytes: rep.Bytes, Duration: rep.Duration}, rep)
	require.NoError(t, l.Close())

	cases := []struct {
		name     string
		edit     func(kv backend.KV, b backend.Batch)
		contains string
	}{
		{"record missing below the head", func(kv backend.KV, b backend.Batch) {
			b.Delete(record.LogKey(2))
		}, "record missing below the head"},
		{"version jump", func(kv backend.KV, b backend.Batch) {
			r := getRec(t, kv, 3)
			r.Version = 7
			b.Set(record.LogKey(3), encoded(r))
		}, "jumps from version 1 to 7"},
		{"bad log key", func(kv backend.KV, b backend.Batch) {
			b.Set([]byte{record.PrefixLog, 0}, []byte("x")) // sorts before offset 1
		}, "log"},
		{"record checksum", func(kv backend.KV, b backend.Batch) {
			v, _, err := kv.Get(record.LogKey(2))
			require.NoError(t, err)
			v = append([]byte(nil), v...)
			v[len(v)-1] ^= 0xff
			b.Set(record.LogKey(2), v)
		}, "log offset 2"},
		{"index not dense", func(kv backend.KV, b backend.Batch) {
			b.Delete(record.StreamKey("a", 2))
		}, "not dense"},
		{"index points elsewhere", func(kv backend.KV, b backend.Batch) {
			b.Set(record.StreamKey("a", 2), record.OffsetValue(4))
		}, "index points at offset 4"},
		{"index value malformed", func(kv backend.KV, b backend.Batch) {
			b.Set(record.StreamKey("a", 2), []byte{1, 2})
		}, `index of stream "a" version 2`},
		{"index short of the log", func(kv backend.KV, b backend.Batch) {
			b.Delete(record.StreamKey("a", 3))
		}, "the log holds 3 versions, the index 2"},
		{"index names an extra stream", func(kv backend.KV, b backend.Batch) {
			b.Set(record.StreamKey("ghost", 1), record.OffsetValue(1))
		}, "index points at offset 1"},
		{"index entry points at a missing record", func(kv backend.KV, b backend.Batch) {
			b.Set(record.StreamKey("a", 4), record.OffsetValue(5))
		}, "index points at offset 5"},
		{"bad stream key", func(kv backend.KV, b backend.Batch) {
			b.Set([]byte{record.PrefixStream, 'x'}, record.OffsetValue(1))
		}, "stream"},
		{"id names another version", func(kv backend.KV, b backend.Batch) {
			b.Set(record.IDKey("a", "a1"), record.Uint64(2))
		}, `names version 2, which carries id "a2"`},
		{"id value malformed", func(kv backend.KV, b backend.Batch) {
			b.Set(record.IDKey("a", "a1"), []byte{9})
		}, `id index of stream "a" id "a1"`},
		{"id missing", func(kv backend.KV, b backend.Batch) {
			b.Delete(record.IDKey("a", "a2"))
		}, "the log holds 3 ids, the index 2"},
		{"id of an event that has none", func(kv backend.KV, b backend.Batch) {
			b.Set(record.IDKey("b", "zz"), record.Uint64(1))
		}, `names version 1, which carries id ""`},
		{"bad id key", func(kv backend.KV, b backend.Batch) {
			b.Set([]byte{record.PrefixID, 'a'}, record.Uint64(1))
		}, "id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := seeded(t)
			rawEdit(t, dir, c.edit)
			l, err := openDir(t, memory.Engine{}, dir, logstore.Config{})
			require.NoError(t, err)
			defer l.Close()
			_, err = l.Verify(ctx, nil)
			requireCorrupt(t, err, c.contains)
		})
	}
}

// TestVerifyIgnoresLaterIDs: an id-index entry of a version committed after
// the head that Verify checks against is not damage. The entry is planted
// with the head held back, as a commit racing the scan leaves it.
func TestVerifyIgnoresLaterIDs(t *testing.T) {
	dir := seeded(t)
	l, err := openDir(t, memory.Engine{}, dir, logstore.Config{})
	require.NoError(t, err)
	defer l.Close()
	_, err = l.Append(context.Background(), idReq("a", 3, "a4"))
	require.NoError(t, err)
	l.head.Store(5) // as if a4 (offset 6) were committed after Verify read the head
	rep, err := l.Verify(context.Background(), nil)
	require.NoError(t, err)
	require.Equal(t, uint64(5), rep.Records)
	require.Equal(t, uint64(3), rep.IDs)
	require.True(t, l.isLater("a", 4, 5))
	require.False(t, l.isLater("a", 3, 5))
	require.False(t, l.isLater("a", 9, 5), "no such version")
	l.head.Store(6)
}

// TestVerifyStopsOnCancel: a cancelled context stops the scan with its
// cause once a few hundred records are read.
func TestVerifyStopsOnCancel(t *testing.T) {
	l := openLog(t, memory.Engine{}, logstore.Config{})
	defer l.Close()
	_, err := l.Append(context.Background(), req("s", 0, 600))
	require.NoError(t, err)
	cause := errors.New("stop now")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	_, err = l.Verify(ctx, nil)
	require.ErrorIs(t, err, cause)
	_, err = l.ReadLog(ctx, 1, 0, 0)
	require.ErrorIs(t, err, cause)
	_, err = l.ReadStream(ctx, "s", 1, 0, 0)
	require.ErrorIs(t, err, cause)
	_, err = l.StreamVersion(ctx, "s")
	require.ErrorIs(t, err, cause)
	_, err = l.AppendBatch(ctx, []logstore.AppendRequest{req("s", 600, 1)})
	require.ErrorIs(t, err, cause)
	v, err := l.StreamVersion(context.Background(), "s")
	require.NoError(t, err)
	require.Equal(t, uint64(600), v, "nothing appended with the cancelled context")
}

// TestEngineFailuresOnRead injects iterator and read failures: every read
// reports the engine's error, wrapped, and the log stays usable.
func TestEngineFailuresOnRead(t *testing.T) {
	ctx := context.Background()
	e := &faultkv.Engine{Inner: memory.Engine{}}
	l := openLog(t, e, logstore.Config{})
	defer l.Close()
	_, err := l.Append(ctx, idReq("s", 0, "x", "y"))
	require.NoError(t, err)

	e.Inject(faultkv.Faults{IterAfter: 1})
	_, err = l.Verify(ctx, nil)
	require.ErrorIs(t, err, faultkv.ErrInjected)
	_, err = l.ReadLog(ctx, 1, 0, 0)
	require.ErrorIs(t, err, faultkv.ErrInjected)
	_, err = l.ReadStream(ctx, "s", 1, 0, 0)
	require.ErrorIs(t, err, faultkv.ErrInjected)
	_, err = l.StreamVersion(ctx, "s")
	require.ErrorIs(t, err, faultkv.ErrInjected)
	require.ErrorContains(t, err, `read the version of stream "s"`)

	e.Inject(faultkv.Faults{GetAfter: 1})
	_, err = l.ReadStream(ctx, "s", 1, 0, 0)
	require.ErrorIs(t, err, faultkv.ErrInjected)
	require.ErrorContains(t, err, "read log offset 1")
	_, err = l.Verify(ctx, nil)
	require.ErrorIs(t, err, faultkv.ErrInjected)
	// The id check of an append reads the id index.
	_, err = l.Append(ctx, idReq("s", 2, "z"))
	require.ErrorIs(t, err, faultkv.ErrInjected)
	// A retry reads the original events through the stream index.
	_, err = l.Append(ctx, idReq("s", 0, "x", "y"))
	require.ErrorIs(t, err, faultkv.ErrInjected)
	require.ErrorContains(t, err, `read index of stream "s" version 1`)

	e.Inject(faultkv.Faults{})
	require.NoError(t, l.Failed(), "a failed read does not stop the log")
	res, err := l.Append(ctx, idReq("s", 0, "x", "y"))
	require.NoError(t, err, "the retry is recognised once reads work again")
	require.Equal(t, logstore.AppendResult{First: 1, Last: 2, Version: 2}, res)
	recs, err := l.ReadStream(ctx, "s", 1, 0, 0)
	require.NoError(t, err)
	require.Len(t, recs, 2)
}

// TestReadsFindDamage: the reads check what they return against the indexes
// and the records' own offsets and report damage as CorruptionError.
func TestReadsFindDamage(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name     string
		edit     func(kv backend.KV, b backend.Batch)
		read     func(l *Log) error
		contains string
	}{
		{"log hole", func(kv backend.KV, b backend.Batch) { b.Delete(record.LogKey(3)) },
			func(l *Log) error { _, err := l.ReadLog(ctx, 1, 0, 0); return err }, "log offset 3"},
		{"log tail missing", func(kv backend.KV, b backend.Batch) { b.Delete(record.LogKey(4)) },
			func(l *Log) error { _, err := l.ReadLog(ctx, 4, 1, 0); return err }, "log offset 4"},
		{"record under the wrong offset", func(kv backend.KV, b backend.Batch) {
			b.Set(record.LogKey(2), encoded(getRec(t, kv, 3)))
		}, func(l *Log) error { _, err := l.ReadLog(ctx, 1, 0, 0); return err }, "holds offset 3"},
		{"stream index gap", func(kv backend.KV, b backend.Batch) { b.Delete(record.StreamKey("a", 2)) },
			func(l *Log) error { _, err := l.ReadStream(ctx, "a", 1, 0, 0); return err }, "next entry is version 3"},
		{"stream index value malformed", func(kv backend.KV, b backend.Batch) { b.Set(record.StreamKey("a", 1), []byte{1}) },
			func(l *Log) error { _, err := l.ReadStream(ctx, "a", 1, 0, 0); return err }, `index of stream "a" version 1`},
		{"stream index points elsewhere", func(kv backend.KV, b backend.Batch) { b.Set(record.StreamKey("a", 2), record.OffsetValue(2)) },
			func(l *Log) error { _, err := l.ReadStream(ctx, "a", 1, 0, 0); return err }, "index points at offset 2"},
		{"stream index to a missing record", func(kv backend.KV, b backend.Batch) { b.Delete(record.LogKey(3)) },
			func(l *Log) error { _, err := l.ReadStream(ctx, "a", 1, 0, 0); return err }, "record missing below the head"},
		{"last version malformed", func(kv backend.KV, b backend.Batch) { b.Set(record.StreamKey("a", 3), []byte{1}) },
			func(l *Log) error { _, err := l.StreamVersion(ctx, "a"); return err }, `index of stream "a" version 3`},
		{"retry through a missing index entry", func(kv backend.KV, b backend.Batch) { b.Delete(record.StreamKey("a", 1)) },
			func(l *Log) error { _, err := l.Append(ctx, idReq("a", 0, "a1")); return err }, "index entry missing below the stream's version"},
		{"retry through a malformed index entry", func(kv backend.KV, b backend.Batch) { b.Set(record.StreamKey("a", 1), []byte{1}) },
			func(l *Log) error { _, err := l.Append(ctx, idReq("a", 0, "a1")); return err }, `index of stream "a" version 1`},
		{"retry through an index entry pointing elsewhere", func(kv backend.KV, b backend.Batch) { b.Set(record.StreamKey("a", 1), record.OffsetValue(2)) },
			func(l *Log) error { _, err := l.Append(ctx, idReq("a", 0, "a1")); return err }, "index points at offset 2"},
		{"id index value malformed", func(kv backend.KV, b backend.Batch) { b.Set(record.IDKey("a", "a1"), []byte{1}) },
			func(l *Log) error { _, err := l.Append(ctx, idReq("a", 3, "a1")); return err }, `id index of stream "a" id "a1"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := seeded(t)
			rawEdit(t, dir, c.edit)
			l, err := openDir(t, memory.Engine{}, dir, logstore.Config{})
			require.NoError(t, err)
			defer l.Close()
			requireCorrupt(t, c.read(l), c.contains)
			require.NoError(t, l.Failed(), "damage found by a read does not stop the log")
		})
	}
}

// TestReadBounds: limit and maxBytes cut a read short, and a read from
// beyond the head is empty.
func TestReadBounds(t *testing.T) {
	ctx := context.Background()
	l := openLog(t, memory.Engine{}, logstore.Config{})
	defer l.Close()
	r := req("s", 0, 10)
	for i := range r.Events {
		r.Events[i].Data = make([]byte, 100)
	}
	_, err := l.Append(ctx, r)
	require.NoError(t, err)
	recs, err := l.ReadStream(ctx, "s", 3, 4, 0)
	require.NoError(t, err)
	require.Len(t, recs, 4)
	require.Equal(t, uint64(3), recs[0].Version)
	recs, err = l.ReadStream(ctx, "s", 0, 0, 250)
	require.NoError(t, err)
	require.Len(t, recs, 3, "stops at the record that reaches maxBytes")
	recs, err = l.ReadLog(ctx, 2, 0, 1)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, logstore.Offset(2), recs[0].Offset)
	recs, err = l.ReadLog(ctx, 11, 0, 0)
	require.NoError(t, err)
	require.Empty(t, recs)
	v, err := l.StreamVersion(ctx, "nope")
	require.NoError(t, err)
	require.Zero(t, v)
	require.Zero(t, l.QueueDepth())
}

// TestOpenFindsDamage: Open checks the layout version and the head record.
func TestOpenFindsDamage(t *testing.T) {
	cases := []struct {
		name string
		edit func(kv backend.KV, b backend.Batch)
		want func(t *testing.T, err error)
	}{
		{"records without a layout version", func(kv backend.KV, b backend.Batch) { b.Delete(record.FormatKey) },
			func(t *testing.T, err error) { requireCorrupt(t, err, "no layout version") }},
		{"malformed layout version", func(kv backend.KV, b backend.Batch) { b.Set(record.FormatKey, []byte{1, 2}) },
			func(t *testing.T, err error) { requireCorrupt(t, err, "malformed layout version 0102") }},
		{"zero layout version", func(kv backend.KV, b backend.Batch) { b.Set(record.FormatKey, []byte{0}) },
			func(t *testing.T, err error) { requireCorrupt(t, err, "malformed layout version") }},
		{"newer layout version", func(kv backend.KV, b backend.Batch) { b.Set(record.FormatKey, []byte{record.LayoutVersion + 1}) },
			func(t *testing.T, err error) {
				require.ErrorContains(t, err, "upgrade eventstore")
				require.NotErrorIs(t, err, backend.ErrCorrupt)
			}},
		{"head record under the wrong offset", func(kv backend.KV, b backend.Batch) { b.Set(record.LogKey(5), encoded(getRec(t, kv, 4))) },
			func(t *testing.T, err error) { requireCorrupt(t, err, "log offset 5 (the head)") }},
		{"head record damaged", func(kv backend.KV, b backend.Batch) { b.Set(record.LogKey(5), []byte("junk")) },
			func(t *testing.T, err error) { requireCorrupt(t, err, "log offset 5 (the head)") }},
		{"malformed last log key", func(kv backend.KV, b backend.Batch) { b.Set([]byte{record.PrefixLog, 0xff}, []byte("x")) },
			func(t *testing.T, err error) { requireCorrupt(t, err, "") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := seeded(t)
			rawEdit(t, dir, c.edit)
			_, err := openDir(t, memory.Engine{}, dir, logstore.Config{})
			c.want(t, err)
		})
	}
}

// TestOpenEngineFailures: an engine failure while Open reads the layout
// version or the head, or syncs what it recovered, fails the open with the
// engine's error.
func TestOpenEngineFailures(t *testing.T) {
	for _, c := range []struct {
		name     string
		f        faultkv.Faults
		fresh    bool
		contains string
	}{
		{"layout version read", faultkv.Faults{GetAfter: 1}, false, "read the layout version"},
		{"head read", faultkv.Faults{IterAfter: 1}, false, "find the head"},
		{"layout version write", faultkv.Faults{CommitAfter: 1}, true, "write the layout version"},
		{"sync of the recovered log", faultkv.Faults{SyncAfter: 1}, false, "sync the recovered log"},
		{"hole check", faultkv.Faults{IterAfter: 2}, false, "check the log from offset 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if !c.fresh {
				dir = seeded(t)
			}
			e := &faultkv.Engine{Inner: memory.Engine{}}
			kv, err := e.Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler)})
			require.NoError(t, err)
			defer kv.Close()
			e.Inject(c.f)
			_, err = Open(kv, logstore.Config{CheckFrom: 1})
			require.ErrorIs(t, err, faultkv.ErrInjected)
			require.ErrorContains(t, err, c.contains)
		})
	}
}

// TestHoleCutFailures: a failure while cutting a hole fails the open and
// leaves the hole for the next open to cut.
func TestHoleCutFailures(t *testing.T) {
	for _, c := range []struct {
		name string
		f    faultkv.Faults
	}{
		{"iterator", faultkv.Faults{IterAfter: 3}},
		{"commit", faultkv.Faults{CommitAfter: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := seeded(t)
			rawEdit(t, dir, func(kv backend.KV, b backend.Batch) { b.Delete(record.LogKey(3)) })
			e := &faultkv.Engine{Inner: memory.Engine{}}
			kv, err := e.Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler)})
			require.NoError(t, err)
			e.Inject(c.f)
			var holes []logstore.Offset
			cfg := logstore.Config{CheckFrom: 1, OnHole: func(hole, head logstore.Offset) error { holes = append(holes, hole, head); return nil }}
			_, err = Open(kv, cfg)
			require.ErrorIs(t, err, faultkv.ErrInjected)
			require.ErrorContains(t, err, "cut the log at offset 3")
			require.NoError(t, kv.Close())

			l, err := openDir(t, memory.Engine{}, dir, cfg)
			require.NoError(t, err)
			defer l.Close()
			require.Equal(t, []logstore.Offset{3, 5, 3, 5}, holes, "the second open finds the same hole")
			require.Equal(t, logstore.Offset(2), l.Head())
			_, err = l.Verify(context.Background(), nil)
			require.NoError(t, err)
		})
	}
}

// TestHoleCutRefusesDamageBeyond: a damaged record above the hole stops
// the cut: its index entries cannot be found.
func TestHoleCutRefusesDamageBeyond(t *testing.T) {
	dir := seeded(t)
	rawEdit(t, dir, func(kv backend.KV, b backend.Batch) {
		b.Delete(record.LogKey(2))
		b.Set(record.LogKey(4), encoded(getRec(t, kv, 3)))
	})
	_, err := openDir(t, memory.Engine{}, dir, logstore.Config{CheckFrom: 1, OnHole: func(hole, head logstore.Offset) error { return nil }})
	requireCorrupt(t, err, "a record beyond it is damaged")
}

// ckEngine wraps the memory engine with a backend.Checkpointer that records
// its calls and fails with err when set.
type ckEngine struct {
	memory.Engine
	err  error
	dirs *[]string
}

type ckKV struct {
	backend.KV
	e ckEngine
}

func (e ckEngine) Open(dir string, o backend.Options) (backend.KV, error) {
	kv, err := e.Engine.Open(dir, o)
	return ckKV{kv, e}, err
}

func (k ckKV) Checkpoint(dir string) error {
	*k.e.dirs = append(*k.e.dirs, dir)
	if k.e.err != nil {
		return k.e.err
	}
	return os.MkdirAll(dir, 0o755)
}

// TestCheckpoint: a checkpoint runs between commits and returns the head it
// holds; it is refused with a cancelled context, on a failed log and by an
// engine that cannot checkpoint, and the engine's error is returned.
func TestCheckpoint(t *testing.T) {
	ctx := context.Background()
	t.Run("unsupported", func(t *testing.T) {
		l := openLog(t, memory.Engine{}, logstore.Config{})
		defer l.Close()
		_, err := l.Checkpoint(ctx, t.TempDir())
		require.ErrorIs(t, err, logstore.ErrUnsupported)
	})
	t.Run("ok", func(t *testing.T) {
		var dirs []string
		l := openLog(t, ckEngine{dirs: &dirs}, logstore.Config{Sync: true})
		defer l.Close()
		_, err := l.Append(ctx, req("s", 0, 3))
		require.NoError(t, err)
		dst := filepath.Join(t.TempDir(), "ck")
		head, err := l.Checkpoint(ctx, dst)
		require.NoError(t, err)
		require.Equal(t, logstore.Offset(3), head)
		require.Equal(t, []string{dst}, dirs)
		require.DirExists(t, dst)

		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = l.Checkpoint(cctx, dst)
		require.ErrorIs(t, err, context.Canceled)
		require.Len(t, dirs, 1, "no checkpoint with a cancelled context")

		require.NoError(t, l.Close())
		_, err = l.Checkpoint(ctx, dst)
		require.ErrorIs(t, err, backend.ErrClosed)
	})
	t.Run("engine error", func(t *testing.T) {
		var dirs []string
		boom := errors.New("disk full")
		l := openLog(t, ckEngine{dirs: &dirs, err: boom}, logstore.Config{})
		defer l.Close()
		_, err := l.Checkpoint(ctx, "/nowhere/ck")
		require.ErrorIs(t, err, boom)
		require.ErrorContains(t, err, "checkpoint into /nowhere/ck")
		require.NoError(t, l.Failed(), "a failed checkpoint does not stop the log")
	})
	t.Run("failed log", func(t *testing.T) {
		var dirs []string
		e := &faultkv.Engine{Inner: ckEngine{dirs: &dirs}}
		kv, err := e.Open(t.TempDir(), backend.Options{Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		l, err := Open(ckKV{kv, ckEngine{dirs: &dirs}}, logstore.Config{})
		require.NoError(t, err)
		defer l.Close()
		e.Inject(faultkv.Faults{CommitAfter: 1})
		_, err = l.Append(ctx, req("s", 0, 1))
		require.ErrorIs(t, err, logstore.ErrFailed)
		_, err = l.Checkpoint(ctx, t.TempDir())
		require.ErrorIs(t, err, logstore.ErrFailed)
		require.ErrorIs(t, err, faultkv.ErrInjected)
		require.Empty(t, dirs)
	})
}

// TestFailedLogRefuses: after a failed commit, appends and batches are
// refused with ErrFailed wrapping the first failure, and Close does not
// sync what is not known to be written.
func TestFailedLogRefuses(t *testing.T) {
	ctx := context.Background()
	e := &faultkv.Engine{Inner: memory.Engine{}}
	l := openLog(t, e, logstore.Config{})
	e.Inject(faultkv.Faults{CommitAfter: 1})
	_, err := l.AppendBatch(ctx, []logstore.AppendRequest{req("s", 0, 1)})
	require.ErrorIs(t, err, logstore.ErrFailed)
	require.ErrorIs(t, l.Failed(), faultkv.ErrInjected)
	_, err = l.AppendBatch(ctx, []logstore.AppendRequest{req("s", 0, 1)})
	require.ErrorIs(t, err, logstore.ErrFailed)
	require.ErrorIs(t, err, faultkv.ErrInjected)
	_, err = l.Append(ctx, req("s", 0, 1))
	require.ErrorIs(t, err, logstore.ErrFailed)
	syncs := e.Syncs.Load()
	require.NoError(t, l.Close())
	require.Equal(t, syncs, e.Syncs.Load(), "no sync on close of a failed log")
}

// TestAppendBatchChecks: an empty batch is a no-op, a batch over the
// engine's limits is refused whole, and a failing request fails the batch
// with its index and writes nothing.
func TestAppendBatchChecks(t *testing.T) {
	ctx := context.Background()
	l := openLog(t, limited{}, logstore.Config{})
	defer l.Close()
	ress, err := l.AppendBatch(ctx, nil)
	require.NoError(t, err)
	require.Nil(t, ress)
	_, err = l.AppendBatch(ctx, []logstore.AppendRequest{req("a", 0, 6), req("b", 0, 6)})
	require.ErrorIs(t, err, logstore.ErrBatchTooLarge)
	_, err = l.AppendBatch(ctx, []logstore.AppendRequest{req("a", 0, 1), req("b", 3, 1)})
	var we *logstore.WrongExpectedVersionError
	require.ErrorAs(t, err, &we)
	require.ErrorContains(t, err, "request 1 of the batch")
	require.Equal(t, logstore.Offset(0), l.Head())
	ress, err = l.AppendBatch(ctx, []logstore.AppendRequest{req("a", 0, 1), req("b", 0, 2)})
	require.NoError(t, err)
	require.Equal(t, []logstore.AppendResult{{First: 1, Last: 1, Version: 1}, {First: 2, Last: 3, Version: 2}}, ress)
}

// TestCloseReportsEngineErrors: a failing sync on close (NoSync mode) is
// reported by Close, which still closes the engine.
func TestCloseReportsEngineErrors(t *testing.T) {
	e := &faultkv.Engine{Inner: memory.Engine{}}
	dir := t.TempDir()
	kv, err := e.Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	l, err := Open(kv, logstore.Config{})
	require.NoError(t, err)
	e.Inject(faultkv.Faults{SyncAfter: 1})
	err = l.Close()
	require.ErrorIs(t, err, faultkv.ErrInjected)
	require.ErrorContains(t, err, "sync on close")
	// The engine is closed: the directory opens again.
	kv, err = memory.Engine{}.Open(dir, backend.Options{})
	require.NoError(t, err)
	require.NoError(t, kv.Close())
}
