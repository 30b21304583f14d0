package kvlog

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/logstore"
	"github.com/stretchr/testify/require"
)

// TestVerifyStopsForClose: a Verify that is scanning when Close starts stops
// with ErrClosed, and appends and reads made while Close waits fail at once
// with ErrClosed instead of queueing behind the scan.
func TestVerifyStopsForClose(t *testing.T) {
	l := openLog(t, memory.Engine{}, logstore.Config{})
	ctx := context.Background()
	reqs := make([]logstore.AppendRequest, 0, 100)
	for i := range 100 {
		reqs = append(reqs, req("s", logstore.ExpectedVersion(i*100), 100))
	}
	_, err := l.AppendBatch(ctx, reqs)
	require.NoError(t, err)

	inVerify, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	verifyErr := make(chan error, 1)
	go func() {
		_, err := l.Verify(ctx, func(logstore.Offset) {
			once.Do(func() {
				close(inVerify)
				<-release // the scan holds the read lock here
			})
		})
		verifyErr <- err
	}()
	<-inVerify
	closeErr := make(chan error, 1)
	go func() { closeErr <- l.Close() }()
	// Close waits for the write lock: TryRLock fails once a writer waits.
	for l.mu.TryRLock() {
		l.mu.RUnlock()
		runtime.Gosched()
	}

	// While the scan is held and Close waits for it, an append and a read
	// must fail at once.
	quick := make(chan error, 2)
	go func() {
		_, err := l.Append(ctx, req("s", logstore.Any, 1))
		quick <- err
	}()
	go func() {
		_, err := l.ReadLog(ctx, 1, 10, 0)
		quick <- err
	}()
	for range 2 {
		select {
		case err := <-quick:
			require.ErrorIs(t, err, backend.ErrClosed)
		case <-time.After(time.Minute):
			t.Fatal("an append or read waited behind Verify while the log was closing")
		}
	}
	close(release)
	require.ErrorIs(t, <-verifyErr, backend.ErrClosed, "Verify must stop when the log closes")
	require.NoError(t, <-closeErr)
}
