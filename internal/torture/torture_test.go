package torture_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/conformance"
	"github.com/durablelog/eventstore/internal/torture"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	torture.MaybeRunChild()
	goleak.VerifyTestMain(m)
}

var ctx = context.Background()

// written runs a workload of n appends on a new memory store and returns the
// closed store's directory and history.
func written(t *testing.T, n int) (string, *torture.History) {
	t.Helper()
	dir := t.TempDir()
	h := torture.NewHistory(torture.Shape{Seed: 42})
	s, err := torture.Open(dir, new(conformance.HashState), eventstore.WithBackend("memory"))
	require.NoError(t, err)
	st, err := torture.Workload{Shape: h.Shape(), Epoch: 1, MaxAppends: n}.Run(ctx, s, h)
	require.NoError(t, err)
	require.EqualValues(t, n, st.Appends)
	require.EqualValues(t, n, st.Acked+st.Rejected)
	require.Len(t, h.Rejected(), int(st.Rejected))
	require.NoError(t, s.Close())
	return dir, h
}

func reopen(t *testing.T, dir string) (*eventstore.Store, *conformance.HashState) {
	t.Helper()
	sm := new(conformance.HashState)
	s, err := torture.Open(dir, sm, eventstore.WithBackend("memory"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s, sm
}

func TestCheckIntact(t *testing.T) {
	dir, h := written(t, 300)
	s, sm := reopen(t, dir)
	rep, err := torture.Check(ctx, s, sm, h)
	require.NoError(t, err)
	appends, events := h.Len()
	require.Equal(t, appends, rep.AckedAppends)
	require.Equal(t, events, rep.AckedEvents)
	require.EqualValues(t, events, rep.Records)
	require.Zero(t, rep.LostAppends)
	require.Zero(t, rep.UnackedAppends)
	require.Equal(t, len(h.Rejected()), rep.RejectedChecked)
	require.Equal(t, rep.StateHash, rep.FoldHash)
	require.True(t, rep.OK())
}

func TestCheckFindsTailLoss(t *testing.T) {
	dir, h := written(t, 50)
	s, sm := reopen(t, dir)
	head := s.Head()
	p := torture.Plan(h.Shape(), torture.AppendID{Epoch: 9, Seq: 1})
	h.Ack(torture.Ack{ID: p.ID, Stream: p.Stream, First: head + 1, Last: head + eventstore.Offset(len(p.Events)),
		Version: 99, Events: len(p.Events), Hash: p.Hash()})
	rep, err := torture.Check(ctx, s, sm, h)
	require.Error(t, err)
	require.Equal(t, 1, rep.LostAppends)
	require.Equal(t, len(p.Events), rep.LostEvents)
	require.True(t, rep.OnlyTailLoss())
}

// TestCheckFindsReportedLoss: a store whose last append was cut from the
// log, opened in NoSync mode, reports the loss and moves to generation 2;
// Check flags the report, the lost append and the generation change.
func TestCheckFindsReportedLoss(t *testing.T) {
	dir, h := written(t, 50)
	var last torture.Ack
	for _, a := range h.Acks() {
		if a.Last > last.Last {
			last = a
		}
	}
	dropRecords(t, memory.Engine{}, filepath.Join(dir, "engine"), last.First, last.Last)
	sm := new(conformance.HashState)
	s, err := torture.Open(dir, sm, eventstore.WithBackend("memory"), eventstore.WithDurability(eventstore.NoSync))
	require.NoError(t, err)
	defer s.Close()
	rep, err := torture.CheckWith(ctx, s, sm, h, torture.CheckOptions{Generation: 1})
	require.Error(t, err)
	require.EqualValues(t, 2, rep.Generation)
	require.Equal(t, 1, rep.LostAppends)
	require.Equal(t, 2, rep.Counts[torture.KindRecovery], "the loss, and the log below the head mark: %v", err)
	require.Equal(t, 1, rep.Counts[torture.KindGeneration], "%v", err)
	require.ErrorContains(t, torture.RecoveryErr(rep.Recovery, 1), "expected 1")
	require.NoError(t, torture.RecoveryErr(eventstore.RecoveryReport{Generation: 1, Head: 5, HeadMark: 5}, 1))
	require.ErrorContains(t, torture.RecoveryErr(eventstore.RecoveryReport{Generation: 1, Head: 5, HeadMark: 6}, 1), "below the head mark")
	require.ErrorContains(t, torture.RecoveryErr(eventstore.RecoveryReport{Generation: 1, HoleAt: 3}, 0), "hole at offset 3")
}

func TestCheckFindsMisplacedAck(t *testing.T) {
	dir, h := written(t, 50)
	s, sm := reopen(t, dir)
	a := h.Acks()[3]
	a.First, a.Last = a.First+1, a.Last+1
	h.Ack(a)
	rep, err := torture.Check(ctx, s, sm, h)
	require.ErrorContains(t, err, string(torture.KindAckMismatch))
	require.Equal(t, 1, rep.Counts[torture.KindAckMismatch])
	require.False(t, rep.OnlyTailLoss())
}

func TestCheckFindsRejectedPresent(t *testing.T) {
	dir, h := written(t, 50)
	s, sm := reopen(t, dir)
	h.Reject(h.Acks()[0].ID)
	rep, err := torture.Check(ctx, s, sm, h)
	require.ErrorContains(t, err, string(torture.KindRejectedPresent))
	require.Equal(t, 1, rep.Counts[torture.KindRejectedPresent])
}

// TestCheckFindsBadRecords appends records the workload would never write:
// a foreign event, an append in part, and an append whose bytes differ.
func TestCheckFindsBadRecords(t *testing.T) {
	dir, h := written(t, 20)
	s, sm := reopen(t, dir)
	_, err := s.Append(ctx, "x", eventstore.Any, eventstore.Event{Type: "Foreign", Data: []byte("?")})
	require.NoError(t, err)

	part := torture.Plan(h.Shape(), torture.AppendID{Epoch: 7, Seq: 1})
	for len(part.Events) < 2 {
		part = torture.Plan(h.Shape(), torture.AppendID{Epoch: 7, Seq: part.ID.Seq + 1})
	}
	_, err = s.Append(ctx, part.Stream, eventstore.Any, part.Events[0])
	require.NoError(t, err)

	bad := torture.Plan(h.Shape(), torture.AppendID{Epoch: 8, Seq: 1})
	bad.Events[0].Data = append(bytes.Clone(bad.Events[0].Data), '!')
	_, err = s.Append(ctx, bad.Stream, eventstore.Any, bad.Events...)
	require.NoError(t, err)

	rep, err := torture.Check(ctx, s, sm, h)
	require.Error(t, err)
	require.Equal(t, 1, rep.Counts[torture.KindForeign], "%v", err)
	require.Equal(t, 1, rep.Counts[torture.KindPartial], "%v", err)
	require.Equal(t, 1, rep.Counts[torture.KindMismatch], "%v", err)
}

func TestCheckFindsStateMismatch(t *testing.T) {
	dir, h := written(t, 20)
	s, _ := reopen(t, dir)
	var other conformance.HashState // never restored nor replayed
	rep, err := torture.Check(ctx, s, &other, h)
	require.ErrorContains(t, err, string(torture.KindState))
	require.Equal(t, 1, rep.Counts[torture.KindState])
}

func TestCheckResumesFold(t *testing.T) {
	dir, h := written(t, 100)
	s, sm := reopen(t, dir)
	first, err := torture.Check(ctx, s, sm, h)
	require.NoError(t, err)
	for _, a := range first.Survivors {
		h.Ack(a)
	}
	_, err = torture.Workload{Shape: h.Shape(), Epoch: 2, MaxAppends: 50}.Run(ctx, s, h)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s, sm = reopen(t, dir)
	full, err := torture.Check(ctx, s, sm, h)
	require.NoError(t, err)
	resumed, err := torture.CheckWith(ctx, s, sm, h, torture.CheckOptions{SkipVerify: true, FoldFrom: first.FoldPoint})
	require.NoError(t, err)
	require.Equal(t, full.FoldHash, resumed.FoldHash)
	require.Equal(t, full.StateHash, resumed.FoldHash)
}

func TestPlan(t *testing.T) {
	shape := torture.Shape{Seed: 1}
	id := torture.AppendID{Epoch: 3, Worker: 2, Seq: 77}
	parsed, err := torture.ParseAppendID(id.String())
	require.NoError(t, err)
	require.Equal(t, id, parsed)
	for _, bad := range []string{"", "e1.w2", "x1.w2.s3", "e1.w70000.s3", "e1.w2.s-1"} {
		_, err := torture.ParseAppendID(bad)
		require.Error(t, err, bad)
	}
	a, b := torture.Plan(shape, id), torture.Plan(shape, id)
	require.Equal(t, a, b, "a pure function of shape and id")
	require.Equal(t, a.Hash(), b.Hash())
	require.NotEqual(t, a.Hash(), torture.Plan(torture.Shape{Seed: 2}, id).Hash())
	require.NotEqual(t, a.Hash(), torture.Plan(shape, torture.AppendID{Epoch: 3, Worker: 2, Seq: 78}).Hash())
	for i, e := range a.Events {
		require.Equal(t, id.String(), e.Metadata[torture.MetaAppend])
		require.Equal(t, strconv.Itoa(i), e.Metadata[torture.MetaIndex])
		require.Equal(t, strconv.Itoa(len(a.Events)), e.Metadata[torture.MetaCount])
	}
}

// TestHistoryForget: the acknowledgements past a head are dropped, the
// others kept.
func TestHistoryForget(t *testing.T) {
	_, h := written(t, 30)
	acks := h.Acks()
	head := acks[len(acks)/2].Last
	var wantApps, wantEvents int
	for _, a := range acks {
		if a.First > head {
			wantApps++
			wantEvents += a.Events
		}
	}
	require.Positive(t, wantApps)
	apps, events := h.Forget(head)
	require.Equal(t, wantApps, apps)
	require.Equal(t, wantEvents, events)
	require.Len(t, h.Acks(), len(acks)-wantApps)
	require.Equal(t, head, h.Acks()[len(h.Acks())-1].Last)
}

func TestHistorySaveLoad(t *testing.T) {
	_, h := written(t, 30)
	path := filepath.Join(t.TempDir(), "h.json")
	require.NoError(t, h.Save(path))
	g, err := torture.LoadHistory(path)
	require.NoError(t, err)
	require.Equal(t, h.Shape(), g.Shape())
	require.Equal(t, h.Acks(), g.Acks())
	require.ElementsMatch(t, h.Rejected(), g.Rejected())
}

func TestDamage(t *testing.T) {
	dir := t.TempDir()
	content := bytes.Repeat([]byte{0xAB}, 10000)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "engine"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "engine", "000001.log"), content, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "engine", "LOCK"), nil, 0o644))
	// A sparse file: 4 KiB of data, then a 1 MiB hole.
	f, err := os.Create(filepath.Join(dir, "engine", "000001.vlog"))
	require.NoError(t, err)
	_, err = f.Write(content[:4096])
	require.NoError(t, err)
	require.NoError(t, f.Truncate(1<<20))
	require.NoError(t, f.Close())

	files, err := torture.ListFiles(dir)
	require.NoError(t, err)
	require.Len(t, files, 3)
	kinds := map[string]torture.File{}
	for _, f := range files {
		kinds[f.Kind] = f
	}
	require.Equal(t, int64(10000), kinds["wal"].Size)
	require.Equal(t, int64(1<<20), kinds["vlog"].Size)
	require.Equal(t, int64(4096), kinds["vlog"].Used, "damage goes where the data is")

	rng := rand.New(rand.NewPCG(1, 2))
	_, ok := torture.PlanDamage(rng, kinds["engine-lock"], torture.FlipBits)
	require.False(t, ok, "an empty file can only be deleted")

	for _, kind := range torture.DamageKinds {
		work := filepath.Join(t.TempDir(), "copy")
		require.NoError(t, torture.CopyDir(dir, work))
		d, ok := torture.PlanDamage(rng, kinds["wal"], kind)
		require.True(t, ok)
		changed, err := d.Apply(work)
		require.NoError(t, err)
		require.True(t, changed)
		got, err := os.ReadFile(filepath.Join(work, d.File))
		switch kind {
		case torture.Delete:
			require.ErrorIs(t, err, os.ErrNotExist)
		case torture.Truncate:
			require.NoError(t, err)
			require.Equal(t, content[:d.Offset], got)
		case torture.FlipBits:
			require.NoError(t, err)
			diff := 0
			for i := range got {
				diff += popcount(got[i] ^ content[i])
			}
			require.Equal(t, len(d.Bits), diff)
		case torture.ZeroBlock:
			require.NoError(t, err)
			require.Zero(t, d.Offset%4096)
			end := min(d.Offset+4096, int64(len(content)))
			require.Equal(t, make([]byte, end-d.Offset), got[d.Offset:end])
			require.Equal(t, content[:d.Offset], got[:d.Offset])
			require.Equal(t, content[end:], got[end:])
		}
		require.Contains(t, d.String(), d.File)
		// The sparse file was copied whole, holes included.
		v, err := os.ReadFile(filepath.Join(work, "engine", "000001.vlog"))
		require.NoError(t, err)
		require.Len(t, v, 1<<20)
		require.Equal(t, content[:4096], v[:4096])
	}
}

func popcount(b byte) int {
	n := 0
	for ; b != 0; b &= b - 1 {
		n++
	}
	return n
}

func TestFileKinds(t *testing.T) {
	for rel, kind := range map[string]string{
		"STORE": "store-file", "LOCK": "store-lock", "HEADMARK": "head-mark", "snapshots/snap-00000000000000000050.snap": "snapshot",
		"engine/000004.log": "wal", "engine/00001.mem": "wal", "engine/000007.sst": "sst",
		"engine/MANIFEST-000005": "manifest", "engine/MANIFEST": "manifest", "engine/CURRENT": "current",
		"engine/OPTIONS-000009": "options", "engine/LOG": "info-log", "engine/LOG.old.1700000000": "info-log",
		"engine/marker.manifest.000001.MANIFEST-000001": "marker", "engine/000001.vlog": "vlog",
		"engine/KEYREGISTRY": "keyregistry", "engine/DISCARD": "discard", "engine/whatever": "other",
	} {
		require.Equal(t, kind, torture.FileKindOf(rel), rel)
	}
}
