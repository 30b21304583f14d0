package conformance

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// An engine that breaks its contract must make the suites fail, never hang:
// every wait for something the engine should make happen is bounded, and a
// watchdog bounds each test.

// waitLimit is how long a test waits for one thing the engine should make
// happen (a record to arrive, goroutines to finish): half of the Timeout.
func (h Harness) waitLimit() time.Duration { return h.timeout() / 2 }

// watchdog makes the test binary panic, with the stack of every goroutine,
// when a test is still running limit after the watchdog was started or last
// reset: a hang inside an engine call, which no bounded wait can end,
// becomes a failure that names the test.
type watchdog struct {
	limit time.Duration
	timer *time.Timer
}

func startWatchdog(t testing.TB, limit time.Duration) *watchdog {
	name := t.Name()
	w := &watchdog{limit: limit}
	w.timer = time.AfterFunc(limit, func() {
		debug.SetTraceback("all")
		panic(fmt.Sprintf("conformance: %s made no progress for %v (Harness.Timeout): the engine hangs", name, limit))
	})
	t.Cleanup(func() { w.timer.Stop() })
	return w
}

// reset gives the test another limit from now.
func (w *watchdog) reset() { w.timer.Reset(w.limit) }

// receive returns the next value from ch, and fails the test when none
// arrives within the wait limit or ch is closed.
func receive[T any](t testing.TB, h Harness, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(h.waitLimit())
	defer timer.Stop()
	select {
	case v, ok := <-ch:
		require.True(t, ok, "the channel closed while waiting for %s", what)
		return v
	case <-timer.C:
		require.FailNowf(t, "timed out", "waited %v for %s", h.waitLimit(), what)
		panic("unreachable")
	}
}

// waitAll waits for wg, and fails the test when it does not finish within
// the wait limit. The goroutines still running are then left behind (and
// reported by a leak check, if the test binary runs one).
func waitAll(t testing.TB, h Harness, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{}, 1)
	go func() {
		wg.Wait()
		done <- struct{}{}
	}()
	receive(t, h, done, what)
}

// boundedContext returns a context that ends after the wait limit or at the
// end of the test: it bounds a subscription that waits for records.
func boundedContext(t testing.TB, h Harness) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), h.waitLimit())
	t.Cleanup(cancel)
	return ctx
}

// crew is the goroutines of a test, which the test stops and waits for on
// every path, failures included (defer stop): none of them outlives the test
// to report to it, which would panic, or to use its store after Close.
type crew struct {
	h    Harness
	wg   sync.WaitGroup
	quit chan struct{}
	once sync.Once
}

func newCrew(h Harness) *crew { return &crew{h: h, quit: make(chan struct{})} }

// Go runs f in a goroutine of the crew.
func (c *crew) Go(f func()) { c.wg.Go(f) }

// stopping reports whether the crew was told to stop; its goroutines check
// it between operations.
func (c *crew) stopping() bool {
	select {
	case <-c.quit:
		return true
	default:
		return false
	}
}

// wait waits for the crew's goroutines to end by themselves, and fails the
// test when they do not within the wait limit.
func (c *crew) wait(t testing.TB, what string) {
	t.Helper()
	waitAll(t, c.h, &c.wg, what)
}

// stop tells the crew to stop and waits for it, for at most the wait limit.
func (c *crew) stop() {
	c.once.Do(func() { close(c.quit) })
	done := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(c.h.waitLimit()):
	}
}
