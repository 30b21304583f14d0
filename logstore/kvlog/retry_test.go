package kvlog

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/internal/faultkv"
	"github.com/durablelog/eventstore/logstore"
	"github.com/stretchr/testify/require"
)

// idReq is an append of events that all carry ids, so that a second
// identical request is a retry of the first.
func idReq(stream string, exp logstore.ExpectedVersion, ids ...string) logstore.AppendRequest {
	r := logstore.AppendRequest{Stream: stream, Expected: exp}
	for _, id := range ids {
		r.Events = append(r.Events, logstore.Event{ID: id, Type: "T", Data: []byte(id)})
	}
	return r
}

// holdFirstCommit makes the next commit wait until the returned release is
// called; started is closed once that commit is held.
func holdFirstCommit(e *faultkv.Engine) (started <-chan struct{}, release func()) {
	gate, first := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.BeforeCommit = func() {
		once.Do(func() {
			close(first)
			<-gate
		})
	}
	return first, func() { close(gate) }
}

// TestRetryInGroupWaitsForCommit: a retry recognised against an append of
// its own group completes only once that group is durable and published.
func TestRetryInGroupWaitsForCommit(t *testing.T) {
	e := &faultkv.Engine{Inner: memory.Engine{}}
	l := openLog(t, e, logstore.Config{Sync: true})
	defer l.Close()
	started, release := holdFirstCommit(e)
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = l.Append(ctx, req("blocker", 0, 1)) })
	<-started
	heads := make([]logstore.Offset, 4)
	ress := make([]logstore.AppendResult, 4)
	errs := make([]error, 4)
	for i := range 4 {
		wg.Go(func() {
			ress[i], errs[i] = l.Append(ctx, idReq("dup", 0, "a", "b"))
			heads[i] = l.Head()
		})
	}
	for len(l.reqs) < 4 {
		runtime.Gosched()
	}
	release()
	wg.Wait()
	for i := range 4 {
		require.NoError(t, errs[i])
		require.Equal(t, logstore.AppendResult{First: 2, Last: 3, Version: 2}, ress[i], "append %d", i)
		require.GreaterOrEqual(t, heads[i], ress[i].Last, "append %d returned before its events were published", i)
	}
	require.Equal(t, logstore.Offset(3), l.Head(), "the retries wrote nothing")
}

// TestRetryInGroupFailsWithCommit: when the commit of a group fails, a retry
// that matched an append of that group fails too: it was never durable.
func TestRetryInGroupFailsWithCommit(t *testing.T) {
	for name, f := range map[string]faultkv.Faults{"write": {CommitAfter: 1}, "fsync": {SyncAfter: 1}} {
		t.Run(name, func(t *testing.T) {
			e := &faultkv.Engine{Inner: memory.Engine{}}
			l := openLog(t, e, logstore.Config{Sync: true})
			defer l.Close()
			started, release := holdFirstCommit(e)
			ctx := context.Background()
			var wg sync.WaitGroup
			var blockErr error
			wg.Go(func() { _, blockErr = l.Append(ctx, req("blocker", 0, 1)) })
			<-started
			ress := make([]logstore.AppendResult, 3)
			errs := make([]error, 3)
			for i := range 3 {
				wg.Go(func() { ress[i], errs[i] = l.Append(ctx, idReq("dup", 0, "a")) })
			}
			for len(l.reqs) < 3 {
				runtime.Gosched()
			}
			// The held write (the blocker's) goes through; the group of the
			// original and its retries fails: its write, or the sync that
			// would make it durable (which may cover the blocker too).
			e.Inject(faultkv.Faults{CommitAfter: f.CommitAfter * 2, SyncAfter: f.SyncAfter})
			release()
			wg.Wait()
			if blockErr != nil {
				require.ErrorIs(t, blockErr, logstore.ErrFailed, "a failed blocker fails for the same reason")
			}
			for i := range 3 {
				require.ErrorIs(t, errs[i], logstore.ErrFailed, "append %d of the failed group must fail, retry or not", i)
				require.ErrorIs(t, errs[i], faultkv.ErrInjected)
				require.Zero(t, ress[i], "append %d: a failed append has no result", i)
			}
			require.LessOrEqual(t, l.Head(), logstore.Offset(1), "the failed group is never published")
		})
	}
}

// TestRetryOfCommittedCompletesAlone: a retry of an append committed in an
// earlier group completes at once, without a commit of its own.
func TestRetryOfCommittedCompletesAlone(t *testing.T) {
	e := &faultkv.Engine{Inner: memory.Engine{}}
	l := openLog(t, e, logstore.Config{Sync: true})
	defer l.Close()
	ctx := context.Background()
	first, err := l.Append(ctx, idReq("s", 0, "a", "b"))
	require.NoError(t, err)
	commits := e.Commits.Load()
	again, err := l.Append(ctx, idReq("s", 0, "a", "b"))
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Equal(t, commits, e.Commits.Load(), "a retry of a committed append commits nothing")
}
