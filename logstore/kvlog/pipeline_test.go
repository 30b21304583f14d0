package kvlog

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/internal/faultkv"
	"github.com/durablelog/eventstore/logstore"
	"github.com/stretchr/testify/require"
)

// holdFirstSync makes the next KV.Sync wait until release is called; started
// is closed once it is held.
func holdFirstSync(e *faultkv.Engine) (started <-chan struct{}, release func()) {
	gate, first := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.BeforeSync = func() {
		once.Do(func() {
			close(first)
			<-gate
		})
	}
	return first, func() { close(gate) }
}

// TestPipelinedCommit: while the sync of one group is under way, the next
// group is sequenced and written; neither is visible until the sync that
// covers it returns, and they are published in order.
func TestPipelinedCommit(t *testing.T) {
	e := &faultkv.Engine{Inner: memory.Engine{}}
	l := openLog(t, e, logstore.Config{Sync: true})
	defer l.Close()
	started, release := holdFirstSync(e)
	ctx := context.Background()
	var wg sync.WaitGroup
	var resA, resB logstore.AppendResult
	var errA, errB error
	wg.Go(func() { resA, errA = l.Append(ctx, req("a", 0, 2)) })
	<-started // A is written; its sync is held
	commits := e.Commits.Load()
	wg.Go(func() { resB, errB = l.Append(ctx, req("b", 0, 3)) })
	for e.Commits.Load() == commits {
		runtime.Gosched() // B's write goes through while A's sync is held
	}
	require.Equal(t, logstore.Offset(0), l.Head(), "nothing is published before its sync")
	recs, err := l.ReadLog(ctx, 1, 0, 0)
	require.NoError(t, err)
	require.Empty(t, recs, "readers never see a group that is not durable")
	release()
	wg.Wait()
	require.NoError(t, errA)
	require.NoError(t, errB)
	require.Equal(t, logstore.AppendResult{First: 1, Last: 2, Version: 2}, resA)
	require.Equal(t, logstore.AppendResult{First: 3, Last: 5, Version: 3}, resB)
	require.Equal(t, logstore.Offset(5), l.Head())
}

// TestPipelinedSyncFailure: a failed sync fails every group written and not
// yet published, and every later append, and publishes none of them.
func TestPipelinedSyncFailure(t *testing.T) {
	e := &faultkv.Engine{Inner: memory.Engine{}}
	l := openLog(t, e, logstore.Config{Sync: true})
	defer l.Close()
	ctx := context.Background()
	_, err := l.Append(ctx, req("ok", 0, 1))
	require.NoError(t, err)
	started, release := holdFirstSync(e)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { _, errs[0] = l.Append(ctx, req("a", 0, 2)) })
	<-started
	commits := e.Commits.Load()
	wg.Go(func() { _, errs[1] = l.Append(ctx, req("b", 0, 3)) })
	for e.Commits.Load() == commits {
		runtime.Gosched()
	}
	e.Inject(faultkv.Faults{SyncAfter: 1}) // the held sync fails, and every later one
	release()
	wg.Wait()
	for i, err := range errs {
		require.ErrorIs(t, err, logstore.ErrFailed, "append %d", i)
		require.True(t, errors.Is(err, faultkv.ErrInjected), "append %d: %v", i, err)
	}
	require.Equal(t, logstore.Offset(1), l.Head())
	_, err = l.Append(ctx, req("c", 0, 1))
	require.ErrorIs(t, err, logstore.ErrFailed)
}
