package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestStricterDefaultIsolation: the offsets are assigned under the head
// row's lock with READ COMMITTED semantics (the next writer reads what the
// one before committed). A database whose default_transaction_isolation is
// repeatable read or serializable must not make concurrent appends of two
// processes fail: both open the store (and create its tables) at the same
// time, then ten times both append at the same moment, and all succeed.
func TestStricterDefaultIsolation(t *testing.T) {
	t.Parallel()
	for _, level := range []string{"repeatable read", "serializable"} {
		t.Run(level, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t)
			_, err := env.conn(t).Exec(context.Background(), fmt.Sprintf(`ALTER DATABASE %s SET default_transaction_isolation = '%s'`,
				pgx.Identifier{env.db}.Sanitize(), level))
			require.NoError(t, err)
			// The two processes also create the schema at the same time.
			procs := startCmds(t, env, childSpec{}, "a", "b")
			a, b := procs[0], procs[1]
			for round := 1; round <= 10; round++ {
				bar := holdBarrier(t, env, int64(round))
				for _, c := range []*childProc{a, b} {
					c.send(cmdReq{Op: "append", Stream: "shared", Expected: int64(eventstore.Any), Barrier: int64(round),
						Events: []eventstore.Event{ev(fmt.Sprintf("%s-%d", c.name, round), "T", c.name)}})
				}
				bar.release(2)
				for _, c := range []*childProc{a, b} {
					var r cmdResp
					c.recv(&r)
					require.Empty(t, r.Err, "round %d, process %s", round, c.name)
				}
			}
			require.Equal(t, int64(20), requireDenseSQL(t, env.conn(t)))
		})
	}
}
