package kvlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/internal/faultkv"
	"github.com/durablelog/eventstore/logstore"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openLog(t *testing.T, e backend.Engine, cfg logstore.Config) *Log {
	t.Helper()
	kv, err := e.Open(t.TempDir(), backend.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	l, err := Open(kv, cfg)
	require.NoError(t, err)
	return l
}

func req(stream string, exp logstore.ExpectedVersion, n int) logstore.AppendRequest {
	r := logstore.AppendRequest{Stream: stream, Expected: exp}
	for i := range n {
		r.Events = append(r.Events, logstore.Event{Type: "T", Data: []byte(fmt.Sprint(i))})
	}
	return r
}

// TestGroupCommit holds the first commit back until 15 more appends wait,
// then checks that they share one engine commit and keep their own results.
func TestGroupCommit(t *testing.T) {
	gate := make(chan struct{})
	first := make(chan struct{})
	var once sync.Once
	e := &faultkv.Engine{Inner: memory.Engine{}}
	l := openLog(t, e, logstore.Config{Sync: true})
	defer l.Close()
	base := e.Commits.Load() // the layout-version write at Open
	e.BeforeCommit = func() {
		once.Do(func() {
			close(first)
			<-gate
		})
	}
	var wg sync.WaitGroup
	results := make([]logstore.AppendResult, 16)
	errs := make([]error, 16)
	wg.Go(func() { results[0], errs[0] = l.Append(context.Background(), req("s0", 0, 1)) })
	<-first
	for i := 1; i < 16; i++ {
		wg.Go(func() {
			exp := logstore.ExpectedVersion(0)
			if i%5 == 0 {
				exp = 9 // fails its check inside the group
			}
			results[i], errs[i] = l.Append(context.Background(), req(fmt.Sprint("s", i), exp, 2))
		})
	}
	for len(l.reqs) < 15 {
		runtime.Gosched()
	}
	close(gate)
	wg.Wait()
	require.Equal(t, int64(2), e.Commits.Load()-base, "15 queued appends take one commit")
	offsets := map[logstore.Offset]bool{}
	for i := range 16 {
		if i%5 == 0 && i > 0 {
			var ce *logstore.WrongExpectedVersionError
			require.True(t, errors.As(errs[i], &ce), "append %d: %v", i, errs[i])
			continue
		}
		require.NoError(t, errs[i])
		for o := results[i].First; o <= results[i].Last; o++ {
			require.False(t, offsets[o], "offset %d given twice", o)
			offsets[o] = true
		}
	}
	require.Len(t, offsets, 1+2*12)
	require.Equal(t, logstore.Offset(25), l.Head())
}

// TestGroupBounds: groups never exceed MaxBatchEvents; a larger single
// append commits alone.
func TestGroupBounds(t *testing.T) {
	e := &faultkv.Engine{Inner: memory.Engine{}}
	l := openLog(t, e, logstore.Config{MaxBatchEvents: 4})
	defer l.Close()
	res, err := l.Append(context.Background(), req("big", 0, 10))
	require.NoError(t, err)
	require.Equal(t, logstore.Offset(10), res.Last)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := l.Append(context.Background(), req(fmt.Sprint("g", i), 0, 3))
			require.NoError(t, err)
		})
	}
	wg.Wait()
	require.Equal(t, logstore.Offset(70), l.Head())
	recs, err := l.ReadLog(context.Background(), 1, 0, 0)
	require.NoError(t, err)
	require.Len(t, recs, 70)
}

// limited is a memory engine that declares batch limits.
type limited struct{ memory.Engine }

type limitedKV struct{ backend.KV }

func (limited) Open(dir string, o backend.Options) (backend.KV, error) {
	kv, err := memory.Engine{}.Open(dir, o)
	return limitedKV{kv}, err
}
func (limitedKV) MaxBatchSize() int64  { return 2048 }
func (limitedKV) MaxBatchCount() int64 { return 31 }

func TestBatchLimiter(t *testing.T) {
	l := openLog(t, limited{}, logstore.Config{})
	defer l.Close()
	require.Equal(t, 10, l.cfg.MaxBatchEvents)
	_, err := l.Append(context.Background(), req("s", 0, 11))
	require.ErrorIs(t, err, logstore.ErrBatchTooLarge)
	big := req("s", 0, 1)
	big.Events[0].Data = make([]byte, 4096)
	_, err = l.Append(context.Background(), big)
	require.ErrorIs(t, err, logstore.ErrBatchTooLarge)
	require.ErrorContains(t, err, "at most")
	_, err = l.Append(context.Background(), req("s", 0, 10))
	require.NoError(t, err)
}

func TestAppendAfterCloseAndCancel(t *testing.T) {
	l := openLog(t, memory.Engine{}, logstore.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := l.Append(ctx, req("s", 0, 1))
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, l.Close())
	_, err = l.Append(context.Background(), req("s", 0, 1))
	require.ErrorIs(t, err, backend.ErrClosed)
	require.ErrorIs(t, l.Close(), backend.ErrClosed)
	_, err = l.ReadLog(context.Background(), 1, 0, 0)
	require.ErrorIs(t, err, backend.ErrClosed)
	_, err = l.ReadStream(context.Background(), "s", 1, 0, 0)
	require.ErrorIs(t, err, backend.ErrClosed)
	_, err = l.Verify(context.Background(), nil)
	require.ErrorIs(t, err, backend.ErrClosed)
}

func TestVersionCacheBounded(t *testing.T) {
	c := newVersionCache(2)
	c.put("a", 1)
	c.put("b", 2)
	c.put("a", 3)
	v, ok := c.get("a")
	require.True(t, ok)
	require.Equal(t, uint64(3), v)
	c.put("c", 1) // full: starts over
	_, ok = c.get("a")
	require.False(t, ok)
	require.Len(t, c.m, 1)
}

func TestVerifyProgress(t *testing.T) {
	l := openLog(t, memory.Engine{}, logstore.Config{})
	defer l.Close()
	for i := range 5000 {
		_, err := l.Append(context.Background(), req(fmt.Sprint("s", i%3), -1, 1))
		require.NoError(t, err)
	}
	var calls []logstore.Offset
	rep, err := l.Verify(context.Background(), func(o logstore.Offset) { calls = append(calls, o) })
	require.NoError(t, err)
	require.Equal(t, uint64(5000), rep.Records)
	require.Equal(t, []logstore.Offset{4096, 5000}, calls)
	require.NoError(t, l.Failed())
}
