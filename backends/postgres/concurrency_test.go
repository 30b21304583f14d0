package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

// catchUp has every child publish the log up to its head in SQL, so that
// their StreamVersion is current.
func catchUp(t *testing.T, env pgEnv, children ...*childProc) int64 {
	t.Helper()
	s, err := shape(context.Background(), env.conn(t))
	require.NoError(t, err)
	for _, c := range children {
		call[cmdResp](c, cmdReq{Op: "wait_head", Head: uint64(s.Head)})
	}
	return s.Head
}

// TestExpectedVersionAcrossProcesses has two processes append to one
// stream with the same expected version at the same moment (both wait
// behind an advisory lock that the test releases once both wait), twenty
// times: each time exactly one wins and the other gets a
// *WrongExpectedVersionError that names the winner's version.
func TestExpectedVersionAcrossProcesses(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	a, b := startCmd(t, "a", env, childSpec{}), startCmd(t, "b", env, childSpec{})
	wins := map[string]int{}
	for round := 1; round <= 20; round++ {
		catchUp(t, env, a, b)
		va := call[cmdResp](a, cmdReq{Op: "version", Stream: "contested"}).Version
		vb := call[cmdResp](b, cmdReq{Op: "version", Stream: "contested"}).Version
		require.Equal(t, va, vb, "round %d: the processes read different versions", round)
		bar := holdBarrier(t, env, int64(round))
		for _, c := range []*childProc{a, b} {
			c.send(cmdReq{Op: "append", Stream: "contested", Expected: int64(va), Barrier: int64(round),
				Events: []eventstore.Event{ev(fmt.Sprintf("%s-%d", c.name, round), "T", c.name)}})
		}
		bar.release(2)
		var ra, rb cmdResp
		a.recv(&ra)
		b.recv(&rb)
		winner, loser := ra, rb
		wins["a"]++
		if ra.Err != "" {
			winner, loser = rb, ra
			wins["a"]--
			wins["b"]++
		}
		require.Empty(t, winner.Err, "round %d: neither append succeeded", round)
		require.Equal(t, va+1, winner.Res.Version, "round %d", round)
		require.True(t, loser.WrongVersion, "round %d: the loser got %q, not a wrong expected version", round, loser.Err)
		require.Equal(t, va+1, loser.Actual, "round %d: %s", round, loser.Err)
	}
	t.Logf("wins: %v", wins)
	conn := env.conn(t)
	requireDenseSQL(t, conn)
	var n int
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*) FROM `+qt("events")+` WHERE stream = 'contested'`).Scan(&n))
	require.Equal(t, 20, n)
}

// TestIdempotentRetryAcrossProcesses: process A appends with ids; process
// B sends the same append (same ids, same exact expected version), first
// after A's returned, then at the same moment as A, then after the stream
// moved on. B always gets A's result, and nothing is written twice.
func TestIdempotentRetryAcrossProcesses(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	a, b := startCmd(t, "a", env, childSpec{}), startCmd(t, "b", env, childSpec{})
	conn := env.conn(t)
	ctx := context.Background()
	count := func() int {
		var n int
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM `+qt("events")).Scan(&n))
		return n
	}
	first := cmdReq{Op: "append", Stream: "order-1", Expected: int64(eventstore.NoStream),
		Events: []eventstore.Event{ev("created", "Created", "1"), ev("priced", "Priced", "2")}}

	// B after A.
	ra := call[cmdResp](a, first)
	require.Empty(t, ra.Err)
	rb := call[cmdResp](b, first)
	require.Empty(t, rb.Err)
	require.Equal(t, ra.Res, rb.Res)
	require.GreaterOrEqual(t, rb.Head, uint64(rb.Res.Last), "B's retry returned before B published the append")
	require.Equal(t, 2, count())

	// Both at once, with an exact version n > 0.
	second := cmdReq{Op: "append", Stream: "order-1", Expected: 2, Barrier: 100,
		Events: []eventstore.Event{ev("shipped", "Shipped", "3")}}
	bar := holdBarrier(t, env, 100)
	a.send(second)
	b.send(second)
	bar.release(2)
	a.recv(&ra)
	b.recv(&rb)
	require.Empty(t, ra.Err)
	require.Empty(t, rb.Err)
	require.Equal(t, ra.Res, rb.Res)
	require.Equal(t, uint64(3), ra.Res.Version)
	require.Equal(t, 3, count())

	// The stream moved on; the retry of the first append still gets its
	// result, in the process that did not write it.
	require.Empty(t, call[cmdResp](a, cmdReq{Op: "append", Stream: "order-1", Expected: int64(eventstore.Any),
		Events: []eventstore.Event{ev("closed", "Closed", "4")}}).Err)
	rb = call[cmdResp](b, first)
	require.Empty(t, rb.Err)
	require.Equal(t, eventstore.AppendResult{First: 1, Last: 2, Version: 2}, rb.Res)
	require.Equal(t, 4, count())

	// The same ids with another expected version are not a retry.
	other := first
	other.Expected = 4
	rb = call[cmdResp](b, other)
	require.Contains(t, rb.Err, "already used")
	require.Equal(t, 4, count())
	requireDenseSQL(t, conn)
}
