package conformance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

var concurrencyTests = []storeTest{
	{"ExactVersionsOneWinnerEach", testOneWinnerPerVersion},
	{"GroupCommitKeepsResultsApart", testGroupCommitResults},
	{"DuplicateAppendsReturnOnlyWhenDurable", testDuplicateAppends},
}

// testOneWinnerPerVersion runs 16 writers: half race on one shared stream
// with exact expected versions, half write their own streams. Exactly one
// writer wins each version, offsets stay dense, and concurrent readers see
// the log's order.
func testOneWinnerPerVersion(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	ctx := context.Background()
	const writers, perWriter = 16, 25
	type ack struct {
		res    eventstore.AppendResult
		stream string
		data   string
	}
	acks := make([][]ack, writers)
	conflicts := make([]int, writers)
	// On every path: the readers' subscriptions end, the writers stop,
	// then the readers.
	readers, writersCrew := newCrew(h), newCrew(h)
	defer readers.stop()
	defer writersCrew.stop()
	subCtx, cancel := context.WithCancel(boundedContext(t, h))
	defer cancel()
	seen := make([][]string, 2)
	for i := range seen {
		readers.Go(func() {
			for r, err := range s.Subscribe(subCtx, 1) {
				if err != nil {
					return
				}
				seen[i] = append(seen[i], key(r))
				if len(seen[i]) == writers*perWriter {
					return
				}
			}
		})
	}
	for w := range writers {
		writersCrew.Go(func() {
			stream := "shared"
			if w%2 == 1 {
				stream = fmt.Sprint("own-", w)
			}
			// A writer that keeps losing stops when the test gives up
			// waiting for the writers.
			for i := 0; i < perWriter && !writersCrew.stopping(); {
				v, err := s.StreamVersion(ctx, stream)
				if err != nil {
					t.Error(err)
					return
				}
				data := fmt.Sprintf("w%d-%d", w, i)
				res, err := s.Append(ctx, stream, eventstore.ExpectedVersion(v), ev("T", data))
				if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
					conflicts[w]++
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				if res.Version != v+1 {
					t.Errorf("append at expected %d got version %d", v, res.Version)
				}
				acks[w] = append(acks[w], ack{res, stream, data})
				i++
			}
		})
	}
	writersCrew.wait(t, "the writers")
	if t.Failed() {
		cancel() // the readers would wait for appends that failed
	}
	readers.wait(t, "the readers to see every append")
	recs := readAll(t, s)
	require.Len(t, recs, writers*perWriter)
	checkDense(t, recs)
	for w := range writers {
		if w%2 == 1 {
			require.Zero(t, conflicts[w], "a writer alone on its stream never conflicts")
		}
		for _, a := range acks[w] {
			r := recs[a.res.First-1]
			require.Equal(t, a.stream, r.Stream)
			require.Equal(t, a.data, string(r.Data))
			require.Equal(t, a.res.Version, r.Version)
		}
	}
	var log []string
	for _, r := range recs {
		log = append(log, key(r))
	}
	for i := range seen {
		require.Equal(t, log, seen[i], "reader %d saw another order", i)
	}
}

// testGroupCommitResults sends concurrent appends of which some must fail
// their check; the others succeed with their own results.
func testGroupCommitResults(t *testing.T, h Harness) {
	s, _ := h.newStore(t)
	ctx := context.Background()
	mustAppend(t, s, "fixed", eventstore.NoStream, ev("T", "0"))
	const n = 64
	results := make([]eventstore.AppendResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if i%4 == 0 {
				// Always wrong: "fixed" is at version 1.
				_, errs[i] = s.Append(ctx, "fixed", 5, ev("T", "bad"))
				return
			}
			results[i], errs[i] = s.Append(ctx, fmt.Sprint("g", i), eventstore.NoStream, ev("T", "a"), ev("T", "b"))
		})
	}
	waitAll(t, h, &wg, "the appends")
	used := map[eventstore.Offset]bool{}
	for i := range n {
		if i%4 == 0 {
			require.ErrorIs(t, errs[i], eventstore.ErrWrongExpectedVersion)
			continue
		}
		require.NoError(t, errs[i])
		require.Equal(t, results[i].First+1, results[i].Last)
		require.Equal(t, uint64(2), results[i].Version)
		require.False(t, used[results[i].First], "two appends got the same offset")
		used[results[i].First] = true
	}
	recs := readAll(t, s)
	require.Len(t, recs, 1+2*(n-n/4))
	checkDense(t, recs)
}

// testDuplicateAppends sends the same append (same stream, NoStream, the same
// event ids) from 16 goroutines at once, as duplicate delivery of one command
// does, round after round. Every call that succeeds returns the one
// append's result, and only once its events are published (the head covers
// them and a read returns them) and applied to the state machine: a retry
// that matched an append of its own commit group waits for that group.
func testDuplicateAppends(t *testing.T, h Harness) {
	sm := &HashState{}
	s, _ := h.newStore(t, eventstore.WithStateMachine(sm), eventstore.WithSnapshotPolicy(eventstore.Never()))
	ctx := context.Background()
	const rounds, senders = 200, 16
	type seen struct {
		res     eventstore.AppendResult
		err     error
		head    eventstore.Offset
		applied eventstore.Offset
		read    []eventstore.Record
		readErr error
	}
	for round := range rounds {
		stream := fmt.Sprint("cmd-", round)
		events := []eventstore.Event{evID(stream+"/1", "T", "a"), evID(stream+"/2", "T", "b")}
		obs := make([]seen, senders)
		var wg sync.WaitGroup
		for i := range senders {
			wg.Go(func() {
				o := &obs[i]
				o.res, o.err = s.Append(ctx, stream, eventstore.NoStream, events...)
				if o.err != nil {
					return
				}
				o.head = s.Head()
				_, o.applied, _ = sm.Sum()
				o.read, o.readErr = s.ReadLog(ctx, o.res.First, 2)
			})
		}
		waitAll(t, h, &wg, fmt.Sprintf("the appends of round %d", round))
		var want eventstore.AppendResult
		for i, o := range obs {
			require.NoError(t, o.err, "round %d sender %d", round, i)
			if i == 0 {
				want = o.res
			}
			require.Equal(t, want, o.res, "round %d sender %d: every copy returns the one append's result", round, i)
			require.Equal(t, want.First+1, want.Last)
			require.GreaterOrEqual(t, o.head, o.res.Last, "round %d sender %d: Append returned before the head covered its events", round, i)
			require.GreaterOrEqual(t, o.applied, o.res.Last, "round %d sender %d: Append returned before the state machine applied its events", round, i)
			require.NoError(t, o.readErr)
			require.Len(t, o.read, 2, "round %d sender %d: the acknowledged events are not readable", round, i)
			require.Equal(t, events[0].ID, o.read[0].ID)
			require.Equal(t, events[1].ID, o.read[1].ID)
		}
	}
	recs := readAll(t, s)
	require.Len(t, recs, 2*rounds, "each round wrote its append once")
	checkDense(t, recs)
}
