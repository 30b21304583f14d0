package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// countIDs counts the events of stream that carry one of ids.
func countIDs(t *testing.T, conn *pgx.Conn, stream string, ids ...string) int {
	t.Helper()
	var n int
	require.NoError(t, conn.QueryRow(context.Background(),
		`SELECT count(*) FROM `+qt("events")+` WHERE stream = $1 AND event_id = ANY($2)`, stream, ids).Scan(&n))
	return n
}

// TestUnknownOutcomeAtCommit breaks the committing connection with a proxy
// between the store and the server: after the server committed (the client
// never gets the answer), before the COMMIT reached it, and before the
// transaction began. The first two must fail with ErrUnknownOutcome, the
// last with a plain error, and in each case the retry with the same ids and
// expected version must leave the append in the log exactly once.
func TestUnknownOutcomeAtCommit(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	proxy := startProxy(t, env)
	o := env.options()
	o.DSN = proxy.dsn(env)
	s := openStore(t, o)
	conn := env.conn(t)
	ctx := context.Background()

	for _, c := range []struct {
		name      string
		query     string
		when      trapWhen
		expected  eventstore.ExpectedVersion // NoStream or 1: the stream has one event first
		committed bool
		unknown   bool
	}{
		{"committed", "commit", dropAfter, eventstore.NoStream, true, true},
		{"committed-exact", "commit", dropAfter, 1, true, true},
		{"not-committed", "commit", dropBefore, 1, false, true},
		{"not-committed-nostream", "commit", dropBefore, eventstore.NoStream, false, true},
		{"not-begun", "begin", dropBefore, 1, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			stream := "order-" + c.name
			if c.expected == 1 {
				_, err := s.Append(ctx, stream, eventstore.NoStream, ev("opened", "Opened", ""))
				require.NoError(t, err)
			}
			events := []eventstore.Event{ev("a", "A", "first"), ev("b", "B", "second")}
			fired := proxy.arm(c.query, c.when)
			_, err := s.Append(ctx, stream, c.expected, events...)
			select {
			case <-fired:
			default:
				t.Fatalf("the proxy saw no %s; the append returned %v", c.query, err)
			}
			require.Error(t, err)
			if c.unknown {
				require.ErrorIs(t, err, eventstore.ErrUnknownOutcome)
			} else {
				require.NotErrorIs(t, err, eventstore.ErrUnknownOutcome)
			}
			want := 0
			if c.committed {
				want = 2
			}
			require.Equal(t, want, countIDs(t, conn, stream, "a", "b"), "after: %v", err)

			res, err := s.Append(ctx, stream, c.expected, events...)
			require.NoError(t, err, "the retry")
			require.Equal(t, 2, countIDs(t, conn, stream, "a", "b"))
			require.GreaterOrEqual(t, s.Head(), res.Last)
			recs, err := s.ReadStream(ctx, stream, 0, 0)
			require.NoError(t, err)
			require.Len(t, recs, int(c.expected)+2, "stream %s", stream)
			for i, e := range events {
				r := recs[int(c.expected)+i]
				require.Equal(t, e.ID, r.ID)
				require.Equal(t, res.First+eventstore.Offset(i), r.Offset)
			}
			require.Equal(t, uint64(c.expected)+2, res.Version)
		})
	}
	requireDenseSQL(t, conn)
	_, err := s.Verify(ctx)
	require.NoError(t, err)
}

// TestUnknownOutcomeWhenContextEnds holds the head row's lock from another
// connection, so that a group commit waits for it: an append in that group
// whose context ends returns ErrUnknownOutcome at once (and its group
// commits it later), and so does an append queued behind the group (which
// is then not written; its context may also end before it was queued, and
// then the error is the context's alone). Retried with the same ids and expected version,
// each is in the log exactly once.
func TestUnknownOutcomeWhenContextEnds(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	s := openStore(t, env.options())
	conn := env.conn(t)
	ctx := context.Background()
	_, err := s.Append(ctx, "warm", eventstore.NoStream, ev("", "T", ""))
	require.NoError(t, err)

	holder := env.conn(t)
	tx, err := holder.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `SELECT * FROM `+qt("head")+` FOR UPDATE`)
	require.NoError(t, err)

	appendUntilCancel := func(stream string) (context.CancelFunc, <-chan error) {
		actx, cancel := context.WithCancel(ctx)
		out := make(chan error, 1)
		go func() {
			_, err := s.Append(actx, stream, eventstore.NoStream, ev(stream+"-1", "T", ""))
			out <- err
		}()
		return cancel, out
	}
	// The first append's group waits for the lock.
	cancelIn, inGroup := appendUntilCancel("in-group")
	waitFor(t, 30*time.Second, "the group commit to wait for the head row's lock", func() bool {
		var n int
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND application_name = 'eventstore'`).Scan(&n))
		return n > 0
	})
	cancelQueued, queued := appendUntilCancel("queued")

	for _, c := range []struct {
		cancel  context.CancelFunc
		out     <-chan error
		unknown bool
	}{{cancelIn, inGroup, true}, {cancelQueued, queued, false}} {
		select {
		case err := <-c.out:
			t.Fatalf("the append returned before its context ended: %v", err)
		default:
		}
		start := time.Now()
		c.cancel()
		var err error
		select {
		case err = <-c.out:
		case <-time.After(10 * time.Second):
			t.Fatal("an append whose context ended did not return within 10s")
		}
		t.Logf("returned %v after the cancel: %v", time.Since(start), err)
		require.ErrorIs(t, err, context.Canceled)
		if c.unknown {
			require.ErrorIs(t, err, eventstore.ErrUnknownOutcome)
		}
	}

	require.NoError(t, tx.Rollback(ctx))
	waitFor(t, 30*time.Second, "the waiting group to commit", func() bool {
		return countIDs(t, conn, "in-group", "in-group-1") == 1
	})
	require.Zero(t, countIDs(t, conn, "queued", "queued-1"), "an append whose context ended before its group began was written")
	for _, stream := range []string{"in-group", "queued"} {
		res, err := s.Append(ctx, stream, eventstore.NoStream, ev(stream+"-1", "T", ""))
		require.NoError(t, err, "the retry of %s", stream)
		require.Equal(t, uint64(1), res.Version)
		require.Equal(t, 1, countIDs(t, conn, stream, stream+"-1"), "stream %s", stream)
	}
	requireDenseSQL(t, conn)
}
