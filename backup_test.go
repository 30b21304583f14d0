package eventstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/backends/pebble"
	"github.com/durablelog/eventstore/conformance"
	"github.com/durablelog/eventstore/internal/dump"
	"github.com/stretchr/testify/require"
)

// fillStreams appends n single-event appends over three streams.
func fillStreams(t *testing.T, s *eventstore.Store, n int) {
	t.Helper()
	for i := range n {
		_, err := s.Append(context.Background(), fmt.Sprintf("s-%d", i%3), eventstore.Any,
			eventstore.Event{ID: fmt.Sprint(i), Type: "T", Data: []byte(fmt.Sprint(i)), Metadata: map[string]string{"i": fmt.Sprint(i)}})
		require.NoError(t, err)
	}
}

func TestBackupDumpFallback(t *testing.T) {
	ctx := context.Background()
	sm := &conformance.HashState{}
	s := openMem(t, t.TempDir(), eventstore.WithStateMachine(sm), eventstore.WithSnapshotPolicy(eventstore.EveryN(20)))
	defer s.Close()
	fillStreams(t, s, 100)
	require.NoError(t, s.Snapshot(ctx))

	dest := filepath.Join(t.TempDir(), "backup")
	var reached eventstore.Offset
	rep, err := s.BackupProgress(ctx, dest, func(o eventstore.Offset) { reached = o })
	require.NoError(t, err)
	require.Equal(t, eventstore.BackupDump, rep.Method, "the memory engine has no checkpoint")
	require.Equal(t, memory.Name, rep.Backend)
	require.Equal(t, eventstore.Offset(100), rep.Head)
	require.Equal(t, eventstore.Offset(100), reached)
	require.Positive(t, rep.Snapshots)

	m, err := dump.ReadManifest(dest)
	require.NoError(t, err)
	require.Equal(t, dump.MethodDump, m.Method)
	require.Equal(t, eventstore.Offset(100), m.Head)
	require.Equal(t, rep.ContentHash, m.ContentHash)
	require.Len(t, m.Snapshots, rep.Snapshots)

	// The dump holds every record, and its hash is the report's.
	f, err := os.Open(filepath.Join(dest, dump.DumpFileName))
	require.NoError(t, err)
	defer f.Close()
	r, err := dump.NewReader(f)
	require.NoError(t, err)
	want, err := s.ReadLog(ctx, 1, 0)
	require.NoError(t, err)
	i := 0
	for rec, err := range r.All() {
		require.NoError(t, err)
		require.Equal(t, want[i].Offset, rec.Offset)
		require.Equal(t, want[i].Stream, rec.Stream)
		require.Equal(t, want[i].Data, rec.Data)
		require.Equal(t, want[i].Metadata, rec.Metadata)
		require.True(t, want[i].Time.Equal(rec.Time))
		i++
	}
	require.Equal(t, 100, i)
	require.Equal(t, rep.ContentHash, r.Trailer().Hash.String())

	// A second backup into the same directory is refused.
	_, err = s.Backup(ctx, dest)
	require.ErrorContains(t, err, "not empty")
}

func TestBackupEmptyStore(t *testing.T) {
	s := openMem(t, t.TempDir())
	defer s.Close()
	dest := t.TempDir() // exists and is empty: accepted
	rep, err := s.Backup(context.Background(), dest)
	require.NoError(t, err)
	require.Equal(t, eventstore.Offset(0), rep.Head)
	m, err := dump.ReadManifest(dest)
	require.NoError(t, err)
	require.Equal(t, eventstore.Offset(0), m.Head)
}

func TestBackupClosedStore(t *testing.T) {
	s := openMem(t, t.TempDir())
	require.NoError(t, s.Close())
	_, err := s.Backup(context.Background(), t.TempDir())
	require.ErrorIs(t, err, eventstore.ErrClosed)
}

// TestBackupCheckpointOnline backs a pebble store up while appends run, and
// opens the backup as a store.
func TestBackupCheckpointOnline(t *testing.T) {
	ctx := context.Background()
	sm := &conformance.HashState{}
	dir := t.TempDir()
	s, err := eventstore.Open(dir, eventstore.WithBackend(pebble.Name), eventstore.WithStateMachine(sm), eventstore.WithSnapshotPolicy(eventstore.EveryN(25)))
	require.NoError(t, err)
	defer s.Close()
	fillStreams(t, s, 100)
	require.NoError(t, s.Snapshot(ctx))

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, err := s.Append(ctx, "live", eventstore.Any, eventstore.Event{Type: "T", Data: []byte("x")})
			if err != nil {
				t.Error(err)
				return
			}
		}
	})
	before := s.Head()
	dest := filepath.Join(t.TempDir(), "b")
	rep, err := s.Backup(ctx, dest)
	close(stop)
	wg.Wait()
	require.NoError(t, err)
	require.Equal(t, eventstore.BackupCheckpoint, rep.Method)
	require.GreaterOrEqual(t, rep.Head, before)
	require.Positive(t, rep.Snapshots)
	m, err := dump.ReadManifest(dest)
	require.NoError(t, err)
	require.Equal(t, rep.Head, m.Head)
	storeFile, err := os.ReadFile(filepath.Join(dir, "STORE"))
	require.NoError(t, err)
	copied, err := os.ReadFile(filepath.Join(dest, "STORE"))
	require.NoError(t, err)
	require.Equal(t, storeFile, copied, "the backup records the same engine and creation time")

	// The backup is a store: it opens without WithBackend, holds exactly the
	// head the report names, verifies, and recovers from a copied snapshot.
	sm2 := &conformance.HashState{}
	b, err := eventstore.Open(dest, eventstore.WithStateMachine(sm2))
	require.NoError(t, err)
	defer b.Close()
	require.Equal(t, pebble.Name, b.Backend())
	require.Equal(t, rep.Head, b.Head())
	_, err = b.Verify(ctx)
	require.NoError(t, err)
	require.Positive(t, b.LastRecovery().SnapshotOffset)
	recs, err := b.ReadLog(ctx, 1, 0)
	require.NoError(t, err)
	c, last, h, err := conformance.Fold(recs)
	require.NoError(t, err)
	c2, last2, h2 := sm2.Sum()
	require.Equal(t, []any{c, last, h}, []any{c2, last2, h2}, "the restored state matches the log")
	orig, err := s.ReadLog(ctx, 1, int(rep.Head))
	require.NoError(t, err)
	require.Equal(t, len(orig), len(recs))
	for i := range recs {
		require.Equal(t, orig[i].Stream, recs[i].Stream)
		require.Equal(t, orig[i].Data, recs[i].Data)
	}
}
