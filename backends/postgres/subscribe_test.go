package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// rawAppend appends one event the way the backend does, in SQL, but sends
// no notification: for a follower it is an append whose notification was
// lost.
func rawAppend(t *testing.T, conn *pgx.Conn, stream, id string) logstore.Offset {
	t.Helper()
	ctx := context.Background()
	var off logstore.Offset
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var head, version int64
		if err := tx.QueryRow(ctx, `SELECT position FROM `+qt("head")+` FOR UPDATE`).Scan(&head); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+qt("events")+` WHERE stream = $1`, stream).Scan(&version); err != nil {
			return err
		}
		off = logstore.Offset(head + 1)
		r := logstore.Record{Event: ev(id, "Raw", "raw"), Stream: stream, Offset: off, Version: uint64(version + 1), Time: time.Now().UTC()}
		if _, err := tx.Exec(ctx, `INSERT INTO `+qt("events")+` (position, stream, version, event_id, record) VALUES ($1, $2, $3, $4, $5)`,
			int64(off), stream, version+1, id, record.Append(nil, &r)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE `+qt("head")+` SET position = $1`, int64(off))
		return err
	})
	require.NoError(t, err)
	return off
}

// TestSubscribeAcrossProcesses: a subscriber in this process (A, which
// reaches the server through a proxy, and polls only once an hour) sees
// every event that processes B and C append, live, in offset order, with
// no gap or duplicate: while its LISTEN connection is ended by the server
// (pg_terminate_backend), and while all its connections are cut and B and C
// append (their notifications are lost for A), until it reconnects. A
// second store here, which polls often, finds an append that sent no
// notification at all.
func TestSubscribeAcrossProcesses(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	conn := env.conn(t)
	ctx := context.Background()
	proxy := startProxy(t, env)
	oa := env.options()
	oa.DSN, oa.PollInterval = proxy.dsn(env), time.Hour
	a := openStore(t, oa)
	sub := subscribe(t, a)
	b, c := startCmd(t, "b", env, childSpec{}), startCmd(t, "c", env, childSpec{})

	var acks []ack
	round := 0
	appendBC := func() int64 {
		round++
		for _, p := range []*childProc{b, c} {
			p.send(cmdReq{Op: "burst", Stream: p.name, Goroutines: 2, Appends: 8, Prefix: fmt.Sprintf("%s-r%d", p.name, round)})
		}
		for _, p := range []*childProc{b, c} {
			var r cmdResp
			p.recv(&r)
			require.Len(t, r.Acks, 16)
			acks = append(acks, r.Acks...)
		}
		s, err := shape(ctx, conn)
		require.NoError(t, err)
		return s.Head
	}
	listeners := func() []int32 {
		var pids []int32
		rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()
			AND client_port = ANY($1) AND query LIKE 'LISTEN%'`, proxy.serverPorts())
		require.NoError(t, err)
		pids, err = pgx.CollectRows(rows, pgx.RowTo[int32])
		require.NoError(t, err)
		return pids
	}

	sub.waitSeen(t, appendBC(), 30*time.Second)

	// The server ends A's LISTEN connection, twice; B and C go on.
	for range 2 {
		var pids []int32
		waitFor(t, 30*time.Second, "A to listen", func() bool { pids = listeners(); return len(pids) == 1 })
		var ended bool
		require.NoError(t, conn.QueryRow(ctx, `SELECT pg_terminate_backend($1, 10000)`, pids[0]).Scan(&ended))
		require.True(t, ended)
		sub.waitSeen(t, appendBC(), 30*time.Second)
	}

	// A loses every connection; B and C append while it cannot hear them.
	before := a.Head()
	proxy.cut()
	actx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err := a.Append(actx, "a", eventstore.NoStream, ev("a-1", "A", "cut off"))
	cancel()
	require.Error(t, err, "an append through a cut connection")
	head := appendBC()
	require.Equal(t, before, a.Head(), "A published appends while it had no connection")
	proxy.restore()
	sub.waitSeen(t, head, 30*time.Second)

	// A appends again without a reopen: the retry of the append that
	// failed, until the pool has replaced its broken connections.
	var res eventstore.AppendResult
	waitFor(t, 30*time.Second, "an append of A to succeed after the reconnect", func() bool {
		res, err = a.Append(ctx, "a", eventstore.NoStream, ev("a-1", "A", "cut off"))
		return err == nil
	})
	require.Equal(t, 1, countIDs(t, conn, "a", "a-1"))

	// An append without a notification: the store that polls finds it.
	o2 := env.options()
	o2.PollInterval = 50 * time.Millisecond
	polling := subscribe(t, openStore(t, o2))
	off := rawAppend(t, conn, "raw", "raw-1")
	polled := polling.waitSeen(t, int64(off), 30*time.Second)
	require.Equal(t, "raw-1", polled[off-1].ID)

	head = appendBC()
	recs := sub.waitSeen(t, head, 30*time.Second)
	require.Equal(t, readAll(t, a), recs)
	require.Equal(t, requireDenseSQL(t, conn), int64(len(recs)))
	for _, k := range acks {
		for j, e := range k.Events {
			require.Equal(t, e.ID, recs[k.Res.First-1+eventstore.Offset(j)].ID)
		}
	}
	require.Equal(t, "a-1", recs[res.First-1].ID)
	b.wait()
	c.wait()
}

// TestReadsUnavailableWhileCut: while every connection of a store is cut,
// its log reads fail with ErrUnavailable; a subscription started then
// delivers every record, once and in order, when the connections return.
func TestReadsUnavailableWhileCut(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	proxy := startProxy(t, env)
	o := env.options()
	o.DSN = proxy.dsn(env)
	s := openStore(t, o)
	ctx := context.Background()
	for i := range 5 {
		_, err := s.Append(ctx, "s", eventstore.Any, ev(fmt.Sprint("e", i), "T", "x"))
		require.NoError(t, err)
	}
	proxy.cut()
	_, err := s.ReadLog(ctx, 1, 0)
	require.ErrorIs(t, err, eventstore.ErrUnavailable)
	_, err = s.ReadStream(ctx, "s", 1, 0)
	require.ErrorIs(t, err, eventstore.ErrUnavailable)

	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	got := make(chan []eventstore.Offset)
	go func() {
		var offs []eventstore.Offset
		for r, err := range s.Subscribe(sctx, 1) {
			if err != nil {
				t.Errorf("the subscription ended: %v", err)
				break
			}
			if offs = append(offs, r.Offset); len(offs) == 5 {
				break
			}
		}
		got <- offs
	}()
	proxy.restore()
	require.Equal(t, []eventstore.Offset{1, 2, 3, 4, 5}, <-got)
}
