package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/logstore"
	"github.com/durablelog/eventstore/logstore/kvlog"
	"github.com/stretchr/testify/require"
)

// flakyLogName is a log backend, registered for these tests, whose log
// reads fail on demand: a networked log whose server goes away.
const flakyLogName = "flaky-reads-test"

// flakyLog is a kvlog over the memory engine whose next ReadLog calls fail
// with err while fail is positive; each read is announced on reads.
type flakyLog struct {
	logstore.Log
	fail  atomic.Int64
	err   error
	reads chan struct{}
}

func (f *flakyLog) ReadLog(ctx context.Context, from logstore.Offset, limit, maxBytes int) ([]logstore.Record, error) {
	select {
	case f.reads <- struct{}{}:
	default:
	}
	if f.fail.Add(-1) >= 0 {
		return nil, fmt.Errorf("flaky read at offset %d: %w", from, f.err)
	}
	return f.Log.ReadLog(ctx, from, limit, maxBytes)
}

type flakyOpener struct {
	mu   sync.Mutex
	logs map[string]*flakyLog // by store directory
}

func (o *flakyOpener) OpenLog(_ context.Context, opts logstore.OpenOptions) (logstore.Log, error) {
	kv, err := memory.Engine{}.Open(filepath.Join(opts.Dir, "engine"), backend.Options{Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	l, err := kvlog.Open(kv, opts.Config)
	if err != nil {
		_ = kv.Close()
		return nil, err
	}
	f := &flakyLog{Log: l, reads: make(chan struct{}, 1)}
	o.mu.Lock()
	o.logs[opts.Dir] = f
	o.mu.Unlock()
	return f, nil
}

var flaky = &flakyOpener{logs: map[string]*flakyLog{}}

func init() { logstore.Register(flakyLogName, flaky) }

// openFlaky opens a store on the flaky log with ten events in it.
func openFlaky(t *testing.T) (*eventstore.Store, *flakyLog) {
	t.Helper()
	dir := t.TempDir()
	s, err := eventstore.Open(dir, eventstore.WithBackend(flakyLogName))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	for i := range 10 {
		_, err := s.Append(context.Background(), "s", eventstore.Any, eventstore.Event{ID: fmt.Sprint(i), Type: "T", Data: []byte{byte(i)}})
		require.NoError(t, err)
	}
	flaky.mu.Lock()
	f := flaky.logs[dir]
	flaky.mu.Unlock()
	require.NotNil(t, f)
	return s, f
}

// TestSubscribeRetriesUnavailable: reads that fail with ErrUnavailable
// (the server of a networked log went away for a while) are retried, and
// the subscriber sees every record once, in order, with no error.
func TestSubscribeRetriesUnavailable(t *testing.T) {
	s, f := openFlaky(t)
	f.err = eventstore.ErrUnavailable
	f.fail.Store(3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []eventstore.Offset
	for r, err := range s.Subscribe(ctx, 1) {
		require.NoError(t, err)
		got = append(got, r.Offset)
		if len(got) == 10 {
			break
		}
	}
	for i, off := range got {
		require.Equal(t, eventstore.Offset(i+1), off)
	}
	require.Negative(t, f.fail.Load(), "the three failing reads were all made")
}

// TestSubscribeEndsOnOtherReadErrors: any other read error, damage above
// all, ends the subscription with that error.
func TestSubscribeEndsOnOtherReadErrors(t *testing.T) {
	s, f := openFlaky(t)
	f.err = &eventstore.CorruptionError{Offset: 1, Err: eventstore.ErrCorrupt}
	f.fail.Store(1)
	var errs []error
	for _, err := range s.Subscribe(context.Background(), 1) {
		require.Error(t, err, "no record after a failed read")
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], eventstore.ErrCorrupt)
	require.False(t, errors.Is(errs[0], eventstore.ErrUnavailable))
}

// TestSubscribeUnavailableUntilClose: a subscription that waits for an
// unavailable log ends with ErrClosed when the store closes, and without
// an error when its context ends.
func TestSubscribeUnavailableUntilClose(t *testing.T) {
	s, f := openFlaky(t)
	f.err = eventstore.ErrUnavailable
	f.fail.Store(1 << 40)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan []error)
	go func() {
		var errs []error
		for _, err := range s.Subscribe(ctx, 1) {
			errs = append(errs, err)
		}
		done <- errs
	}()
	awaitRetry(t, f, done)
	cancel()
	require.Empty(t, <-done, "the end of the context is not an error")

	go func() {
		var errs []error
		for _, err := range s.Subscribe(context.Background(), 1) {
			errs = append(errs, err)
		}
		done <- errs
	}()
	awaitRetry(t, f, done)
	require.NoError(t, s.Close())
	errs := <-done
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], eventstore.ErrClosed)
}

// awaitRetry waits until the subscription has read twice, that is retried
// its failed read, and fails the test if it ended instead.
func awaitRetry(t *testing.T, f *flakyLog, done <-chan []error) {
	t.Helper()
	for range 2 {
		select {
		case <-f.reads:
		case errs := <-done:
			t.Fatalf("the subscription ended instead of retrying: %v", errs)
		}
	}
}
