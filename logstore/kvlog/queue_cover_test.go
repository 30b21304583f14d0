package kvlog

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/internal/faultkv"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
	"github.com/stretchr/testify/require"
)

// queueBehindHeldCommit starts an append whose commit is held, then runs
// queue, which must leave n more requests in the queue, and returns the
// first append's outcome channel and the release.
func queueBehindHeldCommit(t *testing.T, l *Log, e *faultkv.Engine, n int, queue func(wg *sync.WaitGroup)) (first <-chan error, release func(), wg *sync.WaitGroup) {
	t.Helper()
	started, rel := holdFirstCommit(e)
	out := make(chan error, 1)
	go func() {
		_, err := l.Append(context.Background(), req("first", 0, 1))
		out <- err
	}()
	<-started
	wg = &sync.WaitGroup{}
	queue(wg)
	for l.QueueDepth() < n {
		runtime.Gosched()
	}
	return out, rel, wg
}

// TestQueuedBehindFailedCommit: appends and batches queued behind a commit
// that fails are refused with ErrFailed wrapping the commit's error, without
// reaching the engine.
func TestQueuedBehindFailedCommit(t *testing.T) {
	e := &faultkv.Engine{Inner: memory.Engine{}}
	l := openLog(t, e, logstore.Config{})
	defer l.Close()
	e.Inject(faultkv.Faults{CommitAfter: 1})
	var appendErr, batchErr error
	first, release, wg := queueBehindHeldCommit(t, l, e, 2, func(wg *sync.WaitGroup) {
		wg.Go(func() { _, appendErr = l.Append(context.Background(), req("a", 0, 1)) })
		for l.QueueDepth() < 1 {
			runtime.Gosched()
		}
		wg.Go(func() {
			_, batchErr = l.AppendBatch(context.Background(), []logstore.AppendRequest{req("b", 0, 1)})
		})
	})
	commits := e.Commits.Load()
	release()
	require.ErrorIs(t, <-first, faultkv.ErrInjected)
	wg.Wait()
	for _, err := range []error{appendErr, batchErr} {
		require.ErrorIs(t, err, logstore.ErrFailed)
		require.ErrorIs(t, err, faultkv.ErrInjected)
		require.ErrorContains(t, err, "an earlier commit failed")
	}
	require.Equal(t, commits+1, e.Commits.Load(), "only the held commit reaches the engine (it counts once released)")
}

// TestQueuedAndCancelled: an append and a batch whose contexts end while
// they wait in the queue fail with the cause and write nothing; the append
// ahead of them commits.
func TestQueuedAndCancelled(t *testing.T) {
	e := &faultkv.Engine{Inner: memory.Engine{}}
	l := openLog(t, e, logstore.Config{Sync: true})
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var appendErr, batchErr error
	first, release, wg := queueBehindHeldCommit(t, l, e, 2, func(wg *sync.WaitGroup) {
		wg.Go(func() { _, appendErr = l.Append(ctx, req("a", 0, 1)) })
		for l.QueueDepth() < 1 {
			runtime.Gosched()
		}
		wg.Go(func() { _, batchErr = l.AppendBatch(ctx, []logstore.AppendRequest{req("b", 0, 1)}) })
	})
	cancel()
	release()
	require.NoError(t, <-first)
	wg.Wait()
	require.ErrorIs(t, appendErr, context.Canceled)
	require.ErrorIs(t, batchErr, context.Canceled)
	require.Equal(t, logstore.Offset(1), l.Head())
	for _, s := range []string{"a", "b"} {
		v, err := l.StreamVersion(context.Background(), s)
		require.NoError(t, err)
		require.Zero(t, v, s)
	}
}

// TestBatchRefusesRetry: an AppendBatch is all or nothing, so a request in
// it that repeats a committed append is a wrong expected version, not a
// recognised retry.
func TestBatchRefusesRetry(t *testing.T) {
	ctx := context.Background()
	l := openLog(t, memory.Engine{}, logstore.Config{})
	defer l.Close()
	_, err := l.AppendBatch(ctx, []logstore.AppendRequest{idReq("s", 0, "x")})
	require.NoError(t, err)
	res, err := l.Append(ctx, idReq("s", 0, "x"))
	require.NoError(t, err, "a single append is recognised as a retry")
	require.Equal(t, logstore.AppendResult{First: 1, Last: 1, Version: 1}, res)
	_, err = l.AppendBatch(ctx, []logstore.AppendRequest{req("t", 0, 1), idReq("s", 0, "x")})
	var we *logstore.WrongExpectedVersionError
	require.ErrorAs(t, err, &we)
	require.Equal(t, uint64(1), we.Actual)
	require.ErrorContains(t, err, "request 1 of the batch")
	require.Equal(t, logstore.Offset(1), l.Head(), "nothing of the batch is written")
}

// TestCheckpointCancelledWhileQueued: a checkpoint whose context ends while
// it waits behind a commit fails with the cause and copies nothing.
func TestCheckpointCancelledWhileQueued(t *testing.T) {
	var dirs []string
	e := &faultkv.Engine{Inner: ckEngine{dirs: &dirs}}
	kv, err := e.Open(t.TempDir(), backend.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	l, err := Open(ckKV{kv, ckEngine{dirs: &dirs}}, logstore.Config{})
	require.NoError(t, err)
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var ckErr error
	first, release, wg := queueBehindHeldCommit(t, l, e, 1, func(wg *sync.WaitGroup) {
		wg.Go(func() { _, ckErr = l.Checkpoint(ctx, t.TempDir()) })
	})
	cancel()
	release()
	require.NoError(t, <-first)
	wg.Wait()
	require.ErrorIs(t, ckErr, context.Canceled)
	require.Empty(t, dirs)
}

// closeFails is an engine whose KV's Close closes and then fails.
type closeFails struct{ memory.Engine }

type closeFailsKV struct{ backend.KV }

func (e closeFails) Open(dir string, o backend.Options) (backend.KV, error) {
	kv, err := e.Engine.Open(dir, o)
	return closeFailsKV{kv}, err
}

func (k closeFailsKV) Close() error {
	return errors.Join(k.KV.Close(), errors.New("close refused"))
}

// TestCloseReportsEngineCloseError: Close returns the engine's Close error,
// and a batch after Close is refused with ErrClosed.
func TestCloseReportsEngineCloseError(t *testing.T) {
	l := openLog(t, closeFails{}, logstore.Config{Sync: true})
	err := l.Close()
	require.ErrorContains(t, err, "close the engine: close refused")
	_, err = l.AppendBatch(context.Background(), []logstore.AppendRequest{req("s", 0, 1)})
	require.ErrorIs(t, err, backend.ErrClosed)
	_, err = l.Checkpoint(context.Background(), t.TempDir())
	require.ErrorIs(t, err, logstore.ErrUnsupported, "the engine cannot checkpoint, closed or not")
}

// TestVerifyFindsTopMissing: records removed from the top of the log while
// it is open (below the head it published) are reported missing.
func TestVerifyFindsTopMissing(t *testing.T) {
	l := openLog(t, memory.Engine{}, logstore.Config{})
	defer l.Close()
	_, err := l.Append(context.Background(), req("s", 0, 5))
	require.NoError(t, err)
	b := l.kv.NewBatch()
	b.Delete(record.LogKey(5))
	require.NoError(t, b.Commit(true))
	b.Close()
	_, err = l.Verify(context.Background(), nil)
	requireCorrupt(t, err, "log offset 5")
	_, err = l.ReadLog(context.Background(), 4, 0, 0)
	requireCorrupt(t, err, "log offset 5")
}
