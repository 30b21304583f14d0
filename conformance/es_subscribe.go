package conformance

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

var subscribeTests = []storeTest{
	{"CatchUpThenLive", testSubscribeCatchUpThenLive},
	{"FromMiddle", testSubscribeFromMiddle},
	{"EndsOnContext", testSubscribeEndsOnContext},
	{"EndsWithErrClosed", testSubscribeEndsOnClose},
	{"ManySubscribersSameOrder", testManySubscribers},
}

func testSubscribeCatchUpThenLive(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	fill(t, s, 300, "a", "b") // more than one chunk of catch-up
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan eventstore.Record)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		for r, err := range s.Subscribe(ctx, 1) {
			if err != nil {
				errs <- err
				return
			}
			got <- r
		}
	})
	for i := 1; i <= 300; i++ {
		r := <-got
		require.Equal(t, eventstore.Offset(i), r.Offset)
	}
	// Live: each append arrives, in order, with no gap and no duplicate.
	for i := 301; i <= 400; i++ {
		res := mustAppend(t, s, "live", eventstore.Any, ev("T", fmt.Sprint(i)))
		r := <-got
		require.Equal(t, res.First, r.Offset)
		require.Equal(t, fmt.Sprint(i), string(r.Data))
	}
	cancel()
	wg.Wait()
	require.Empty(t, errs, "a cancelled subscription ends without an error")
}

func testSubscribeFromMiddle(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	fill(t, s, 10, "a")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	next := eventstore.Offset(7)
	for r, err := range s.Subscribe(ctx, 7) {
		require.NoError(t, err)
		require.Equal(t, next, r.Offset)
		next++
		if r.Offset == 10 {
			mustAppend(t, s, "a", eventstore.Any, ev("T", "11"))
		}
		if r.Offset == 11 {
			break
		}
	}
	require.Equal(t, eventstore.Offset(12), next)
}

func testSubscribeEndsOnContext(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		n := 0
		for range s.Subscribe(ctx, 1) {
			n++
		}
		done <- n
	}()
	cancel()
	require.Equal(t, 0, <-done)
}

func testSubscribeEndsOnClose(t *testing.T, h Harness) {
	dir := h.dir(t)
	s := h.open(t, dir)
	fill(t, s, 5, "a")
	seen := make(chan eventstore.Offset, 10)
	result := make(chan error, 1)
	go func() {
		for r, err := range s.Subscribe(context.Background(), 1) {
			if err != nil {
				result <- err
				return
			}
			seen <- r.Offset
		}
		result <- nil
	}()
	for i := 1; i <= 5; i++ {
		require.Equal(t, eventstore.Offset(i), <-seen)
	}
	require.NoError(t, s.Close())
	require.ErrorIs(t, <-result, eventstore.ErrClosed)
}

func testManySubscribers(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	const subs, writers, perWriter = 4, 4, 50
	total := writers * perWriter
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	orders := make([][]string, subs)
	var wg sync.WaitGroup
	for i := range subs {
		wg.Go(func() {
			for r, err := range s.Subscribe(ctx, 1) {
				if err != nil {
					return
				}
				orders[i] = append(orders[i], key(r))
				if len(orders[i]) == total {
					return
				}
			}
		})
	}
	var ww sync.WaitGroup
	for w := range writers {
		ww.Go(func() {
			for i := range perWriter {
				_, err := s.Append(context.Background(), fmt.Sprint("w", w), eventstore.Any, ev("T", fmt.Sprint(i)))
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	ww.Wait()
	wg.Wait()
	var log []string
	for _, r := range readAll(t, s) {
		log = append(log, key(r))
	}
	for i := range subs {
		require.Equal(t, log, orders[i], "subscriber %d saw another order than the log", i)
	}
}
