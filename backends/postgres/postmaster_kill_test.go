package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

var (
	serverKills = flag.Int("pg.serverkills", 25, "TestPostmasterKill9: SIGKILLs of the postmaster during appends (make torture runs 500)")
	serverSeed  = flag.Uint64("pg.serverseed", 0, "TestPostmasterKill9: seed of the kill moments and the appends (0: from the clock; the test logs it)")
)

// pmAppend is one append of TestPostmasterKill9 and what it returned.
type pmAppend struct {
	id     string // its events' IDs are id#0, id#1, ...
	stream string
	data   [][]byte
	res    eventstore.AppendResult
	err    error
}

func (a *pmAppend) events() []eventstore.Event {
	evs := make([]eventstore.Event, len(a.data))
	for i, d := range a.data {
		evs[i] = eventstore.Event{ID: fmt.Sprintf("%s#%d", a.id, i), Type: "T", Data: d}
	}
	return evs
}

// pmFigures are the counts of TestPostmasterKill9.
type pmFigures struct {
	kills, acked, ackedEvents, unknownPresent, unknownAbsent, plain int
	head                                                            eventstore.Offset
}

// TestPostmasterKill9 kills the PostgreSQL server itself (SIGKILL of the
// postmaster and every process it forked: a crash of the database) while
// four goroutines append, -pg.serverkills times, after a random number of
// acknowledgements. After each kill the writers stop, the server restarts
// (crash recovery from its WAL), a new store is opened on the same schema,
// and the whole log is checked against every append made so far:
//
//   - offsets are dense from 1, stream versions dense from 1 (SQL and
//     ReadLog), and Verify passes;
//   - every acknowledged append is present once, whole, at the offsets,
//     stream and version it was acknowledged with, with its data;
//   - an append that failed with ErrUnknownOutcome is present whole or
//     absent, and stays so after later kills;
//   - an append that failed with any other error is absent: an error that
//     does not say the commit failed must be ErrUnknownOutcome.
func TestPostmasterKill9(t *testing.T) {
	t.Parallel()
	seed := *serverSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -pg.serverseed=%d), %d kills", seed, seed, *serverKills)
	rng := rand.New(rand.NewPCG(seed, 11))
	env := ownEnv(t)
	o := env.options()
	o.CommitTimeout = 10 * time.Second
	dir := filepath.Join(t.TempDir(), "store")
	var all []*pmAppend
	settled := map[string]bool{} // unknown outcomes: present or not at their first check
	var fig pmFigures
	start := time.Now()
	for round := 1; round <= *serverKills; round++ {
		s, err := openIn(dir, o)
		require.NoError(t, err, "open after kill %d", round-1)
		t.Cleanup(func() { _ = s.Close() }) // on failure; closed below otherwise
		checkPostmasterRound(t, env, s, all, settled, &fig)

		ctx, stop := context.WithCancel(context.Background())
		acks := make(chan struct{}, 1<<16)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for g := range 4 {
			grng := rand.New(rand.NewPCG(seed, uint64(round*16+g)))
			wg.Go(func() {
				for i := 0; ctx.Err() == nil; i++ {
					a := &pmAppend{id: fmt.Sprintf("k%d-g%d-%d", round, g, i), stream: fmt.Sprintf("s%d", grng.IntN(8))}
					for range 1 + grng.IntN(3) {
						d := make([]byte, grng.IntN(2048))
						for j := range d {
							d[j] = byte(grng.Uint32())
						}
						a.data = append(a.data, d)
					}
					actx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					a.res, a.err = s.Append(actx, a.stream, eventstore.Any, a.events()...)
					cancel()
					mu.Lock()
					all = append(all, a)
					mu.Unlock()
					if a.err != nil {
						return // the server is gone: this writer is done for the round
					}
					acks <- struct{}{}
				}
			})
		}
		want := 1 + rng.IntN(200)
		timeout := time.NewTimer(2 * time.Minute)
		for range want {
			select {
			case <-acks:
			case <-timeout.C:
				stop()
				wg.Wait()
				t.Fatalf("kill %d: fewer than %d appends acknowledged within 2 minutes", round, want)
			}
		}
		timeout.Stop()
		require.NoError(t, env.srv.Kill(), "kill %d", round)
		stop()
		wg.Wait()
		_ = s.Close() // may fail: the server died under it
		fig.kills++
		require.NoError(t, env.srv.Restart(context.Background()), "restart after kill %d", round)
	}
	s, err := openIn(dir, o)
	require.NoError(t, err, "open after the last kill")
	t.Cleanup(func() { _ = s.Close() })
	checkPostmasterRound(t, env, s, all, settled, &fig)
	require.NoError(t, s.Close())
	require.Positive(t, fig.acked, "no append was acknowledged: the test checked nothing")
	kinds := map[string]int{}
	for _, a := range all {
		if a.err != nil {
			msg := a.err.Error()
			kinds[msg[strings.Index(msg, `": `)+3:]]++ // without the stream's name
		}
	}
	for k, n := range kinds {
		t.Logf("%d× %s", n, k)
	}
	t.Logf("%d postmaster kills in %v: %d appends acknowledged (%d events), all present; %d failed with ErrUnknownOutcome (%d committed, %d not); %d failed with another error, all absent; head %d",
		fig.kills, time.Since(start).Round(time.Second), fig.acked, fig.ackedEvents, fig.unknownPresent+fig.unknownAbsent, fig.unknownPresent, fig.unknownAbsent, fig.plain, fig.head)
}

// checkPostmasterRound checks the log of s against every append made so
// far (see TestPostmasterKill9), settles the unknown outcomes seen for the
// first time, and updates the figures.
func checkPostmasterRound(t *testing.T, env pgEnv, s *eventstore.Store, all []*pmAppend, settled map[string]bool, fig *pmFigures) {
	t.Helper()
	conn := env.conn(t)
	head := requireDenseSQL(t, conn)
	require.NoError(t, conn.Close(context.Background()))
	recs := readAll(t, s)
	require.Equal(t, head, int64(len(recs)), "ReadLog and SQL disagree on the head")
	_, err := s.Verify(context.Background())
	require.NoError(t, err)
	require.Zero(t, s.LastRecovery().LostEvents, "the recovery report says events were lost")
	where := map[string][]eventstore.Record{}
	for _, r := range recs {
		where[r.ID] = append(where[r.ID], r)
	}
	*fig = pmFigures{kills: fig.kills, head: eventstore.Offset(head)}
	for _, a := range all {
		evs := a.events()
		present := 0
		for _, e := range evs {
			present += len(where[e.ID])
		}
		switch {
		case a.err == nil:
			fig.acked++
			fig.ackedEvents += len(evs)
			for i, e := range evs {
				got := where[e.ID]
				require.Len(t, got, 1, "acknowledged append %s: event %d found %d times", a.id, i, len(got))
				r := got[0]
				require.Equal(t, a.res.First+eventstore.Offset(i), r.Offset, "acknowledged append %s, event %d", a.id, i)
				require.Equal(t, a.stream, r.Stream, "acknowledged append %s, event %d", a.id, i)
				require.Equal(t, a.res.Version-uint64(len(evs)-1-i), r.Version, "acknowledged append %s, event %d", a.id, i)
				require.True(t, bytes.Equal(e.Data, r.Data), "acknowledged append %s, event %d: other data", a.id, i)
			}
		case errors.Is(a.err, eventstore.ErrUnknownOutcome):
			require.True(t, present == 0 || present == len(evs), "append %s (%v): %d of its %d events present", a.id, a.err, present, len(evs))
			for _, e := range evs {
				require.LessOrEqual(t, len(where[e.ID]), 1, "append %s (%v) present twice", a.id, a.err)
			}
			if was, seen := settled[a.id]; seen {
				require.Equal(t, was, present > 0, "append %s (%v): present=%v after an earlier check said %v", a.id, a.err, present > 0, was)
			}
			settled[a.id] = present > 0
			if present > 0 {
				fig.unknownPresent++
			} else {
				fig.unknownAbsent++
			}
		default:
			fig.plain++
			require.Zero(t, present, "append %s failed with %v, which does not say its outcome is unknown, but it is in the log", a.id, a.err)
		}
	}
}
