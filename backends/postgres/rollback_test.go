package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// poisonSQL makes the server fail the transactions that write to a stream
// named poison-now-* at the INSERT, and those that write to poison-commit-*
// at COMMIT (a deferred constraint trigger).
var poisonSQL = []string{
	`CREATE FUNCTION ` + qt("poison") + `() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF TG_WHEN = 'BEFORE' AND NEW.stream LIKE 'poison-now%' THEN
			RAISE EXCEPTION 'poisoned insert at offset %', NEW.position;
		END IF;
		IF TG_WHEN = 'AFTER' AND NEW.stream LIKE 'poison-commit%' THEN
			RAISE EXCEPTION 'poisoned commit at offset %', NEW.position;
		END IF;
		RETURN NEW;
	END $$`,
	`CREATE TRIGGER poison_now BEFORE INSERT ON ` + qt("events") + ` FOR EACH ROW EXECUTE FUNCTION ` + qt("poison") + `()`,
	`CREATE CONSTRAINT TRIGGER poison_commit AFTER INSERT ON ` + qt("events") + `
		DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ` + qt("poison") + `()`,
}

func execAll(t *testing.T, conn *pgx.Conn, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		_, err := conn.Exec(context.Background(), q)
		require.NoError(t, err, q)
	}
}

// TestRollbacksLeaveNoGap makes groups roll back while eight goroutines
// append: appends that fail their expected version inside a group, and
// groups that the server fails at an INSERT or at COMMIT. A failed group
// must say that nothing was written (not an unknown outcome), and the next
// one must take its offsets: the log stays dense, and holds exactly the
// acknowledged appends, at their offsets.
func TestRollbacksLeaveNoGap(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	s := openStore(t, env.options())
	conn := env.conn(t)
	execAll(t, conn, poisonSQL...)
	ctx := context.Background()

	// One at a time first: a group that fails at COMMIT, then one that
	// succeeds at the offset the failed one had.
	written := map[string]eventstore.Offset{} // event id -> offset
	prev, err := s.Append(ctx, "x", eventstore.NoStream, ev("x-0", "T", "0"))
	require.NoError(t, err)
	written["x-0"] = prev.First
	for i, poison := range []string{"poison-commit-0", "poison-now-0"} {
		_, err = s.Append(ctx, poison, eventstore.NoStream, ev("p", "T", "p"))
		requireNothingWritten(t, err)
		id := fmt.Sprintf("x-%d", i+1)
		res, err := s.Append(ctx, "x", eventstore.Any, ev(id, "T", poison))
		require.NoError(t, err)
		require.Equal(t, prev.Last+1, res.First, "the append after a failed group must take its offset")
		written[id], prev = res.First, res
	}

	type outcome struct {
		stream string
		events []eventstore.Event
		res    eventstore.AppendResult
		err    error
	}
	var mu sync.Mutex
	var outcomes []outcome
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(7, uint64(g)))
			for i := range 30 {
				o := outcome{stream: "hot"}
				expected := eventstore.Any
				switch k := rng.IntN(10); {
				case k == 0:
					o.stream = fmt.Sprintf("poison-now-%d-%d", g, i)
				case k == 1:
					o.stream = fmt.Sprintf("poison-commit-%d-%d", g, i)
				case k < 6:
					// An exact version that is right or one behind: some
					// fail inside the group.
					v, err := s.StreamVersion(ctx, "hot")
					if err != nil {
						t.Error(err)
						return
					}
					expected = eventstore.ExpectedVersion(max(int64(v)-int64(rng.IntN(2)), 0))
				default:
					o.stream = fmt.Sprintf("cold-%d", rng.IntN(3))
				}
				for j := range 1 + rng.IntN(3) {
					o.events = append(o.events, ev(fmt.Sprintf("g%d-%d-%d", g, i, j), "T", fmt.Sprintf("g%d i%d j%d", g, i, j)))
				}
				o.res, o.err = s.Append(ctx, o.stream, expected, o.events...)
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	var ok, wrongVersion, poisoned, innocent int
	for _, o := range outcomes {
		var wev *eventstore.WrongExpectedVersionError
		switch {
		case o.err == nil:
			require.False(t, strings.HasPrefix(o.stream, "poison"), "an append to %s succeeded", o.stream)
			ok++
			for j, e := range o.events {
				written[e.ID] = o.res.First + eventstore.Offset(j)
			}
		case errors.As(o.err, &wev):
			wrongVersion++
		case strings.HasPrefix(o.stream, "poison"):
			requireNothingWritten(t, o.err)
			poisoned++
		default:
			// In a group with a poisoned append.
			requireNothingWritten(t, o.err)
			innocent++
		}
	}
	t.Logf("%d appends: %d written, %d wrong expected versions, %d poisoned, %d failed with a poisoned one", len(outcomes), ok, wrongVersion, poisoned, innocent)
	require.NotZero(t, wrongVersion)
	require.NotZero(t, poisoned)

	head := requireDenseSQL(t, conn)
	recs := readAll(t, s)
	require.Len(t, recs, int(head))
	// Exactly the acknowledged appends, each event at its offset.
	for _, r := range recs {
		off, ok := written[r.ID]
		require.True(t, ok, "event %q at offset %d belongs to an append that failed", r.ID, r.Offset)
		require.Equal(t, off, r.Offset, "event %q", r.ID)
	}
	require.Len(t, recs, len(written), "acknowledged events missing from the log")
}

// requireNothingWritten checks the error of an append that the server
// refused: a plain error that says nothing was written, not an unknown
// outcome.
func requireNothingWritten(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.NotErrorIs(t, err, eventstore.ErrUnknownOutcome)
	require.Contains(t, err.Error(), "nothing was written")
}
