package peers

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/durablelog/eventstore/benchsuite"
)

// PgxName is the name under which the plain pgx baselines are reported.
const PgxName = "pgx"

// PgxWorkloads returns the baselines of the postgres backend, named as the
// store's workloads they stand beside: 16 sessions, each on its own
// connection, doing BEGIN, INSERT of one 200-byte row, COMMIT in a loop;
// and one session doing the same with 100 rows per INSERT. The rows go to a
// table of their own (id bigserial primary key, data bytea), made for the
// run and dropped after it, with the server's synchronous_commit (on: every
// COMMIT waits for its WAL flush). They need the Target's Config to return
// the server's DSN, a string, for the directory they are given.
func PgxWorkloads() []benchsuite.Workload {
	return []benchsuite.Workload{
		{Name: benchsuite.AppendSync16.Name, Run: pgxWorkload(16, 1), DefaultN: benchsuite.AppendSync16.DefaultN, Standalone: PgxName},
		{Name: benchsuite.AppendSyncBatch100.Name, Run: pgxWorkload(1, 100), DefaultN: benchsuite.AppendSyncBatch100.DefaultN, Standalone: PgxName},
	}
}

func pgxWorkload(conns, rows int) func(context.Context, benchsuite.Target, int) (benchsuite.Measurement, error) {
	return func(ctx context.Context, t benchsuite.Target, n int) (m benchsuite.Measurement, err error) {
		dir, cleanup, err := t.NewDir()
		if err != nil {
			return m, err
		}
		defer cleanup()
		var dsn string
		if t.Config != nil {
			dsn, _ = t.Config(dir).(string)
		}
		if dsn == "" {
			return m, errors.New("peers: pgx: no DSN: the Target's Config must return the server's DSN")
		}
		h := fnv.New64a()
		h.Write([]byte(dir))
		table := pgx.Identifier{fmt.Sprintf("pgx_bench_%016x", h.Sum64())}.Sanitize()
		admin, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return m, fmt.Errorf("peers: pgx: %w", err)
		}
		defer admin.Close(context.WithoutCancel(ctx))
		if _, err := admin.Exec(ctx, `CREATE TABLE `+table+` (id bigserial PRIMARY KEY, data bytea NOT NULL)`); err != nil {
			return m, fmt.Errorf("peers: pgx: %w", err)
		}
		defer func() {
			if _, derr := admin.Exec(context.WithoutCancel(ctx), `DROP TABLE `+table); derr != nil && err == nil {
				err = fmt.Errorf("peers: pgx: %w", derr)
			}
		}()
		sessions := make([]*pgx.Conn, conns)
		defer func() {
			for _, c := range sessions {
				if c != nil {
					_ = c.Close(context.WithoutCancel(ctx))
				}
			}
		}()
		for i := range sessions {
			if sessions[i], err = pgx.Connect(ctx, dsn); err != nil {
				return m, fmt.Errorf("peers: pgx: %w", err)
			}
		}
		data := benchsuite.Payload(benchsuite.EventSize, 1)
		batch := make([][]byte, rows)
		for i := range batch {
			batch[i] = data
		}
		insert := `INSERT INTO ` + table + ` (data) VALUES ($1)`
		var arg any = data
		if rows > 1 {
			insert = `INSERT INTO ` + table + ` (data) SELECT unnest($1::bytea[])`
			arg = batch
		}
		lat := make([][]time.Duration, conns)
		errs := make([]error, conns)
		var wg sync.WaitGroup
		start := time.Now()
		for w, c := range sessions {
			ops := n / conns
			if w < n%conns {
				ops++
			}
			wg.Go(func() {
				l := make([]time.Duration, 0, ops)
				for range ops {
					t0 := time.Now()
					if err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
						_, err := tx.Exec(ctx, insert, arg)
						return err
					}); err != nil {
						errs[w] = fmt.Errorf("peers: pgx: %w", err)
						return
					}
					l = append(l, time.Since(t0))
				}
				lat[w] = l
			})
		}
		wg.Wait()
		m = benchsuite.Measurement{Ops: n, Events: n * rows, Bytes: int64(n * rows * benchsuite.EventSize), Elapsed: time.Since(start)}
		for w := range conns {
			if errs[w] != nil {
				return m, errs[w]
			}
			m.Latencies = append(m.Latencies, lat[w]...)
		}
		return m, nil
	}
}
