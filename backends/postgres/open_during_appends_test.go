package postgres_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/conformance"
	"github.com/stretchr/testify/require"
)

// TestOpenWithStateMachineDuringAppends opens a store with a state machine,
// five times, while another store of the schema appends all along (as a
// process restarting while the others work does). Open recovers the state
// by replaying the log while the follower already publishes the others'
// new appends: each record must still be applied once, in order, and the
// store must work on. (Recovery holds the state machine's lock, and the
// commits published meanwhile apply only what its replay did not reach.)
func TestOpenWithStateMachineDuringAppends(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	w := openStore(t, env.options())
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		stop()
		wg.Wait()
	}()
	for g := range 2 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				_, _ = w.Append(ctx, "busy", eventstore.Any, ev(fmt.Sprintf("g%d-%d", g, i), "T", "x"))
			}
		})
	}
	waitFor(t, time.Minute, "a log to recover", func() bool { return w.Head() >= 200 })
	for i := range 5 {
		sm := &conformance.HashState{}
		s, err := openIn(filepath.Join(t.TempDir(), "store"), env.options(), eventstore.WithStateMachine(sm))
		require.NoError(t, err, "open %d", i)
		res, err := s.Append(context.Background(), "own", eventstore.Any, ev("", "T", "y"))
		require.NoError(t, err, "open %d", i)
		_, last, _ := sm.Sum()
		require.GreaterOrEqual(t, last, res.Last)
		require.NoError(t, s.Close())
	}
}
