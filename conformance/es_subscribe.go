package conformance

import (
	"context"
	"fmt"
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

// subItem is one thing a subscription yielded: a record, or, at the end, the
// error that ended it (end is set; err is nil when it ended without one).
type subItem struct {
	rec eventstore.Record
	err error
	end bool
}

// subscribe runs s.Subscribe(ctx, from) in a goroutine and returns what it
// yields, in order, ending with an item with end set; then the channel is
// closed. The goroutine stops when ctx ends, also while it waits for the
// test to take an item (the channel is then closed without the end item).
func subscribe(ctx context.Context, s *eventstore.Store, from eventstore.Offset) <-chan subItem {
	out := make(chan subItem)
	send := func(it subItem) bool {
		select {
		case out <- it:
			return true
		case <-ctx.Done():
			return false
		}
	}
	go func() {
		defer close(out)
		for r, err := range s.Subscribe(ctx, from) {
			if err != nil {
				send(subItem{err: err, end: true})
				return
			}
			if !send(subItem{rec: r}) {
				return
			}
		}
		send(subItem{end: true})
	}()
	return out
}

// nextRecord returns the next record of a subscription, and fails the test
// when the subscription ends or yields nothing within the wait limit.
func nextRecord(t testing.TB, h Harness, sub <-chan subItem, want eventstore.Offset) eventstore.Record {
	t.Helper()
	it := receive(t, h, sub, fmt.Sprintf("the record at offset %d", want))
	require.NoError(t, it.err, "the subscription ended waiting for offset %d", want)
	require.False(t, it.end, "the subscription ended without an error waiting for offset %d", want)
	require.Equal(t, want, it.rec.Offset)
	return it.rec
}

func testSubscribeCatchUpThenLive(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	fill(t, s, 300, "a", "b") // more than one chunk of catch-up
	ctx, cancel := context.WithCancel(boundedContext(t, h))
	sub := subscribe(ctx, s, 1)
	for i := 1; i <= 300; i++ {
		r := nextRecord(t, h, sub, eventstore.Offset(i))
		require.Equal(t, fmt.Sprint(i), string(r.Data))
	}
	// Live: each append arrives, in order, with no gap and no duplicate.
	for i := 301; i <= 400; i++ {
		res := mustAppend(t, s, "live", eventstore.Any, ev("T", fmt.Sprint(i)))
		r := nextRecord(t, h, sub, res.First)
		require.Equal(t, fmt.Sprint(i), string(r.Data))
	}
	cancel()
	for it := range sub {
		require.True(t, it.end, "a record after offset 400: %+v", it.rec)
		require.NoError(t, it.err, "a cancelled subscription ends without an error")
	}
}

func testSubscribeFromMiddle(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	fill(t, s, 10, "a")
	next := eventstore.Offset(7)
	for r, err := range s.Subscribe(boundedContext(t, h), 7) {
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
	done := make(chan int, 1)
	go func() {
		n := 0
		for range s.Subscribe(ctx, 1) {
			n++
		}
		done <- n
	}()
	cancel()
	require.Equal(t, 0, receive(t, h, done, "the cancelled subscription to end"))
}

func testSubscribeEndsOnClose(t *testing.T, h Harness) {
	dir := h.dir(t)
	s := h.open(t, dir)
	fill(t, s, 5, "a")
	sub := subscribe(boundedContext(t, h), s, 1)
	for i := 1; i <= 5; i++ {
		nextRecord(t, h, sub, eventstore.Offset(i))
	}
	require.NoError(t, s.Close())
	it := receive(t, h, sub, "the subscription to end at Close")
	require.True(t, it.end, "a record after Close: %+v", it.rec)
	require.ErrorIs(t, it.err, eventstore.ErrClosed)
}

func testManySubscribers(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	const subs, writers, perWriter = 4, 4, 50
	total := writers * perWriter
	subscribers, writersCrew := newCrew(h), newCrew(h)
	defer subscribers.stop()
	defer writersCrew.stop()
	ctx, cancel := context.WithCancel(boundedContext(t, h))
	defer cancel()
	orders := make([][]string, subs)
	for i := range subs {
		subscribers.Go(func() {
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
	for w := range writers {
		writersCrew.Go(func() {
			for i := 0; i < perWriter && !writersCrew.stopping(); i++ {
				_, err := s.Append(context.Background(), fmt.Sprint("w", w), eventstore.Any, ev("T", fmt.Sprint(i)))
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	writersCrew.wait(t, "the writers")
	if t.Failed() {
		cancel() // the subscribers would wait for appends that failed
	}
	subscribers.wait(t, "the subscribers to see every append")
	var log []string
	for _, r := range readAll(t, s) {
		log = append(log, key(r))
	}
	require.Len(t, log, total)
	for i := range subs {
		require.Equal(t, log, orders[i], "subscriber %d saw another order than the log", i)
	}
}
