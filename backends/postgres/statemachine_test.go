package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/conformance"
	"github.com/stretchr/testify/require"
)

// TestStateMachineSeveralWriters: three processes and this one append with
// a conformance.HashState each, which applies every event of the log, its
// process's and the others', exactly once in offset order (it fails the
// store otherwise). After every Append, the local state machine has
// applied everything up to res.Last; at the end, every process's state
// equals a fold over the whole log.
func TestStateMachineSeveralWriters(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	sm := &conformance.HashState{}
	s := openStore(t, env.options(), eventstore.WithStateMachine(sm), eventstore.WithSnapshotPolicy(eventstore.EveryN(200)))
	streams := []string{"s1", "s2", "s3", "s4"}
	w := startWriters(t, env, 3, func(int) writerArgs {
		return writerArgs{Goroutines: 4, Appends: 20, Streams: streams, Mode: "mixed", MaxEvents: 3, StateMachine: true, Seed: 3}
	})
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for g := range 3 {
		wg.Go(func() {
			for i := range 20 {
				res, err := s.Append(context.Background(), streams[(g+i)%len(streams)], eventstore.Any, ev(fmt.Sprintf("local-%d-%d", g, i), "Local", "x"))
				if err != nil {
					errs <- err
					return
				}
				if _, last, _ := sm.Sum(); last < res.Last {
					errs <- fmt.Errorf("append returned %+v when the state machine had applied up to %d", res, last)
					return
				}
			}
		})
	}
	w.run(t)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	head := requireDenseSQL(t, env.conn(t))
	waitFor(t, time.Minute, "this process to apply the whole log", func() bool {
		_, last, _ := sm.Sum()
		return int64(last) >= head
	})
	count, last, hash, err := conformance.Fold(readAll(t, s))
	require.NoError(t, err)
	require.Equal(t, uint64(head), count)
	gotCount, gotLast, gotHash := sm.Sum()
	require.Equal(t, []any{count, last, hash}, []any{gotCount, gotLast, gotHash}, "this process's state")
	for i, m := range w.finish(t, head) {
		require.Equal(t, []any{count, uint64(last), hash}, []any{m.Count, m.Last, m.Hash}, "the state of writer %d", i)
	}
}
