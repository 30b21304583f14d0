package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

// attempt is one append of TestServerGoesAway.
type attempt struct {
	id      string
	res     eventstore.AppendResult
	err     error
	elapsed time.Duration
}

// TestServerGoesAway: four goroutines append all along, each append with a
// two-second context, while the server is stopped (fast shutdown),
// restarted, killed (SIGKILL, crash recovery) and restarted. No append may
// hang past its context; after each restart appends succeed again, without
// reopening the store, and so does a subscriber (which subscribes again from
// its next offset when a read fails while the server is away). At the end the log is
// dense and holds every acknowledged append once at its offset, none of
// the appends that failed with a plain error, and at most one copy of each
// whose outcome was unknown.
func TestServerGoesAway(t *testing.T) {
	t.Parallel()
	env := ownEnv(t)
	o := env.options()
	o.CommitTimeout = 5 * time.Second
	o.PollInterval = 100 * time.Millisecond
	s := openStore(t, o)
	sub := subscribeResuming(t, s)

	const perAppend = 2 * time.Second
	var mu sync.Mutex
	var attempts []attempt
	counts := func() (ok, bad int) {
		mu.Lock()
		defer mu.Unlock()
		for _, a := range attempts {
			if a.err == nil {
				ok++
			} else {
				bad++
			}
		}
		return ok, bad
	}
	succeeded := func() int { ok, _ := counts(); return ok }
	failed := func() int { _, bad := counts(); return bad }
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				a := attempt{id: fmt.Sprintf("g%d-%d", g, i)}
				actx, cancel := context.WithTimeout(context.Background(), perAppend)
				start := time.Now()
				a.res, a.err = s.Append(actx, fmt.Sprintf("s%d", i%3), eventstore.Any, ev(a.id, "T", a.id))
				a.elapsed = time.Since(start)
				cancel()
				mu.Lock()
				attempts = append(attempts, a)
				mu.Unlock()
				if a.err != nil {
					time.Sleep(20 * time.Millisecond) // pace the retries while the server is away
				}
			}
		})
	}
	defer func() {
		stop()
		wg.Wait()
	}()

	for _, away := range []struct {
		name string
		do   func() error
	}{{"stop", env.srv.Stop}, {"kill", env.srv.Kill}} {
		ok := succeeded()
		waitFor(t, time.Minute, "appends to succeed", func() bool { return succeeded() >= ok+20 })
		require.NoError(t, away.do(), away.name)
		bad := failed()
		waitFor(t, time.Minute, "appends to fail while the server is away", func() bool { return failed() >= bad+8 })
		require.NoError(t, env.srv.Restart(context.Background()))
		ok = succeeded()
		waitFor(t, time.Minute, "appends to succeed again after "+away.name+" and restart", func() bool { return succeeded() >= ok+20 })
	}
	stop()
	wg.Wait()

	conn := env.conn(t)
	head := requireDenseSQL(t, conn)
	recs := sub.waitSeen(t, head, time.Minute)
	where := map[string][]eventstore.Offset{}
	for _, r := range recs {
		where[r.ID] = append(where[r.ID], r.Offset)
	}
	var unknown, plain int
	for _, a := range attempts {
		require.Less(t, a.elapsed, perAppend+3*time.Second, "append %s took %v: %v", a.id, a.elapsed, a.err)
		switch {
		case a.err == nil:
			require.Equal(t, []eventstore.Offset{a.res.First}, where[a.id], "acknowledged append %s", a.id)
		case errors.Is(a.err, eventstore.ErrUnknownOutcome):
			unknown++
			require.LessOrEqual(t, len(where[a.id]), 1, "append %s: %v", a.id, a.err)
		default:
			plain++
			require.Empty(t, where[a.id], "append %s failed with %v, but is in the log", a.id, a.err)
		}
	}
	kinds := map[string]int{}
	for _, a := range attempts {
		if a.err != nil {
			msg := a.err.Error()
			kinds[msg[strings.Index(msg, `": `)+3:]]++
		}
	}
	for k, n := range kinds {
		t.Logf("%d× %s", n, k)
	}
	t.Logf("the subscriber resumed %d times", sub.resumes())
	t.Logf("%d appends: %d acknowledged, %d unknown outcomes, %d plain errors; %d events", len(attempts), len(attempts)-unknown-plain, unknown, plain, head)
	_, err := s.Verify(context.Background())
	require.NoError(t, err)
}
