package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/internal/dump"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
	"github.com/stretchr/testify/require"
)

// TestOptionsRefused: every entry point checks its options before it
// connects, and eventstore.Open refuses a backend config of another type.
func TestOptionsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Nothing listens on this DSN: an option that passed the checks would
	// fail with a connection error instead of the one required.
	dsn := fmt.Sprintf("postgres://postgres@%s/x?sslmode=disable&connect_timeout=5", closedPort(t))
	for _, c := range []struct {
		name string
		o    postgres.Options
		want string
	}{
		{"schema with capitals", postgres.Options{DSN: dsn, Schema: "Events"}, `schema "Events"`},
		{"schema starting with a digit", postgres.Options{DSN: dsn, Schema: "1es"}, "not starting with a digit"},
		{"too few connections", postgres.Options{DSN: dsn, MaxConns: 2}, "MaxConns 2: at least 3"},
		{"negative commit timeout", postgres.Options{DSN: dsn, CommitTimeout: -time.Second}, "negative CommitTimeout"},
		{"negative poll interval", postgres.Options{DSN: dsn, PollInterval: -time.Second}, "negative CommitTimeout or PollInterval"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := postgres.Open(ctx, c.o, logstore.Config{}, nil)
			require.ErrorContains(t, err, c.want)
			_, err = postgres.Inspect(ctx, c.o)
			require.ErrorContains(t, err, c.want)
			require.ErrorContains(t, postgres.DropSchema(ctx, c.o), c.want)
			require.ErrorContains(t, postgres.MoveSchema(ctx, c.o, "staging", 0), c.want)
			o := c.o
			_, err = openIn(filepath.Join(t.TempDir(), "store"), o)
			require.ErrorContains(t, err, c.want, "given as a value")
			_, err = eventstore.Open(filepath.Join(t.TempDir(), "store"), eventstore.WithBackend(postgres.Name), eventstore.WithBackendConfig(&o))
			require.ErrorContains(t, err, c.want, "given as a pointer")
		})
	}
	_, err := eventstore.Open(filepath.Join(t.TempDir(), "store"), eventstore.WithBackend(postgres.Name), eventstore.WithBackendConfig("postgres://x"))
	require.ErrorContains(t, err, "WithBackendConfig(string): give a postgres.Options")

	// The schema names MoveSchema moves from are checked too.
	good := postgres.Options{DSN: dsn, Schema: "target"}
	require.ErrorContains(t, postgres.MoveSchema(ctx, good, "target", 0), `MoveSchema from "target" to "target"`)
	require.ErrorContains(t, postgres.MoveSchema(ctx, good, "Bad-Name", 0), "give another valid schema name")

	// Options that pass reach the server: here, nobody answers.
	for _, f := range []func() error{
		func() error { _, err := postgres.Inspect(ctx, good); return err },
		func() error { return postgres.DropSchema(ctx, good) },
		func() error { return postgres.MoveSchema(ctx, good, "staging", 0) },
	} {
		err := f()
		require.ErrorContains(t, err, "connect to host")
		require.ErrorContains(t, err, "check the DSN")
	}
	bad := postgres.Options{DSN: "postgres://app:s3cret@127.0.0.1:notaport/x"}
	_, err = postgres.Inspect(ctx, bad)
	require.ErrorContains(t, err, "parse the DSN")
	require.NotContains(t, err.Error(), "s3cret")
}

// TestLogEdges drives a postgres log directly: an empty batch, cancelled
// contexts, reads bounded by maxBytes, and every call after Close.
func TestLogEdges(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	l, err := postgres.Open(ctx, env.options(), logstore.Config{Sync: true}, nil)
	require.NoError(t, err)
	closed := false
	defer func() {
		if !closed {
			_ = l.Close()
		}
	}()

	r := logstore.AppendRequest{Stream: "s", Expected: logstore.NoStream}
	for i := range 5 {
		r.Events = append(r.Events, logstore.Event{ID: fmt.Sprint("e", i), Type: "T", Data: make([]byte, 100)})
	}
	res, err := l.Append(ctx, r)
	require.NoError(t, err)
	require.Equal(t, logstore.AppendResult{First: 1, Last: 5, Version: 5}, res)
	require.Zero(t, l.QueueDepth())

	ress, err := l.AppendBatch(ctx, nil)
	require.NoError(t, err)
	require.Nil(t, ress)

	recs, err := l.ReadStream(ctx, "s", 2, 0, 150)
	require.NoError(t, err)
	require.Len(t, recs, 2, "stops at the record that reaches maxBytes")
	require.Equal(t, uint64(2), recs[0].Version)
	recs, err = l.ReadLog(ctx, 6, 0, 0)
	require.NoError(t, err)
	require.Empty(t, recs)

	cause := errors.New("caller gave up")
	cctx, cancel := context.WithCancelCause(ctx)
	cancel(cause)
	_, err = l.Append(cctx, logstore.AppendRequest{Stream: "s", Expected: 5, Events: r.Events[:1]})
	require.ErrorIs(t, err, cause)
	_, err = l.AppendBatch(cctx, []logstore.AppendRequest{{Stream: "t", Expected: logstore.NoStream, Events: r.Events[:1]}})
	require.ErrorIs(t, err, cause)
	_, err = l.ReadStream(cctx, "s", 1, 0, 0)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, `read stream "s"`)
	_, err = l.StreamVersion(cctx, "s")
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, `read the version of stream "s"`)
	_, err = l.Verify(cctx, nil)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, "verify from offset 1")
	_, err = l.NewGeneration(cctx)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, "new generation")
	v, err := l.StreamVersion(ctx, "s")
	require.NoError(t, err)
	require.Equal(t, uint64(5), v, "nothing appended with the cancelled context")
	v, err = l.StreamVersion(ctx, "t")
	require.NoError(t, err)
	require.Zero(t, v)

	var progress []logstore.Offset
	rep, err := l.Verify(ctx, func(o logstore.Offset) { progress = append(progress, o) })
	require.NoError(t, err)
	require.Equal(t, uint64(5), rep.Records)
	require.Equal(t, uint64(5), rep.IDs)
	require.Equal(t, []logstore.Offset{5}, progress)

	require.NoError(t, l.Close())
	closed = true
	require.ErrorIs(t, l.Close(), logstore.ErrClosed)
	_, err = l.Append(ctx, r)
	require.ErrorIs(t, err, logstore.ErrClosed)
	_, err = l.AppendBatch(ctx, []logstore.AppendRequest{r})
	require.ErrorIs(t, err, logstore.ErrClosed)
	_, err = l.ReadLog(ctx, 1, 0, 0)
	require.ErrorIs(t, err, logstore.ErrClosed)
	_, err = l.ReadStream(ctx, "s", 1, 0, 0)
	require.ErrorIs(t, err, logstore.ErrClosed)
	_, err = l.StreamVersion(ctx, "s")
	require.ErrorIs(t, err, logstore.ErrClosed)
	_, err = l.Verify(ctx, nil)
	require.ErrorIs(t, err, logstore.ErrClosed)
}

// TestSchemaLayoutChecked: Open refuses a schema whose layout version is
// malformed (not eventstore's) or newer than this build reads, and names
// the schema.
func TestSchemaLayoutChecked(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	l, err := postgres.Open(ctx, env.options(), logstore.Config{}, nil)
	require.NoError(t, err)
	require.NoError(t, l.Close())
	c := env.conn(t)
	for _, tc := range []struct {
		layout string
		want   string
	}{
		{"banana", `schema "es" has a malformed layout version "banana"`},
		{"0", "malformed layout version"},
		{fmt.Sprint(postgres.LayoutVersion + 1), "upgrade eventstore"},
	} {
		_, err := c.Exec(ctx, `UPDATE `+qt("meta")+` SET value = $1 WHERE key = 'layout'`, tc.layout)
		require.NoError(t, err)
		_, err = postgres.Open(ctx, env.options(), logstore.Config{}, nil)
		require.ErrorContains(t, err, tc.want)
	}
	_, err = c.Exec(ctx, `DELETE FROM `+qt("meta")+` WHERE key = 'layout'`)
	require.NoError(t, err)
	l, err = postgres.Open(ctx, env.options(), logstore.Config{}, nil)
	require.NoError(t, err, "a missing layout row is written again")
	require.NoError(t, l.Close())

	// A cancelled context stops Open before it touches the server.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = postgres.Open(cctx, env.options(), logstore.Config{}, nil)
	require.ErrorIs(t, err, context.Canceled)
}

// TestMoveSchemaRefusesNoStore: MoveSchema from a schema without a store
// moves nothing; DropSchema of a missing schema is a no-op.
func TestMoveSchemaRefusesNoStore(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	c := env.conn(t)
	_, err := c.Exec(ctx, `CREATE SCHEMA half; CREATE TABLE half.events (x int)`)
	require.NoError(t, err)
	o := env.options()
	o.Schema = "dst"
	require.ErrorContains(t, postgres.MoveSchema(ctx, o, "half", 0), `schema "half" holds no store to move`)
	require.ErrorContains(t, postgres.MoveSchema(ctx, o, "nowhere", 0), `schema "nowhere" holds no store to move`)
	info, err := postgres.Inspect(ctx, o)
	require.NoError(t, err)
	require.False(t, info.Exists, "nothing moved")
	info, err = postgres.Inspect(ctx, postgres.Options{DSN: env.dsn(), Schema: "half"})
	require.NoError(t, err)
	require.False(t, info.Store)
	require.Equal(t, []string{"events"}, info.Others, "a store's table name alone does not make a store")
	require.NoError(t, postgres.DropSchema(ctx, o))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, postgres.DropSchema(cctx, o), context.Canceled)
}

// TestDamageConsistentRows: rows whose columns agree with their re-sealed
// records (so no checksum or column check fires) but that break the log's
// rules: a stream version that jumps, an event id used twice in a stream,
// and a record whose version differs from the version column the stream
// reader selects it by. Verify and ReadStream report each as corruption at
// the row's offset.
func TestDamageConsistentRows(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	s := openStore(t, env.options())
	conn := env.conn(t)
	ctx := context.Background()
	for i := range 9 {
		_, err := s.Append(ctx, fmt.Sprintf("s%d", i%3), eventstore.Any, ev(fmt.Sprintf("id-%d", i), "T", fmt.Sprint(i)))
		require.NoError(t, err)
	}
	// Offset 8 is version 3 of stream s1 (id-7); versions 1 and 2 are at
	// offsets 2 and 5 (id-1, id-4).
	var orig []byte
	require.NoError(t, conn.QueryRow(ctx, `SELECT record FROM `+qt("events")+` WHERE position = 8`).Scan(&orig))
	r, err := record.Decode(orig)
	require.NoError(t, err)
	reseal := func(edit func(*logstore.Record)) []byte {
		c := r
		edit(&c)
		return record.Append(nil, &c)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := conn.Exec(ctx, q, args...)
		require.NoError(t, err, q)
	}
	restore := func() {
		t.Helper()
		exec(`UPDATE `+qt("events")+` SET record = $1, version = 3, event_id = 'id-7' WHERE position = 8`, orig)
		_, err := s.Verify(ctx)
		require.NoError(t, err)
	}

	exec(`UPDATE `+qt("events")+` SET record = $1, version = 5 WHERE position = 8`, reseal(func(c *logstore.Record) { c.Version = 5 }))
	_, err = s.Verify(ctx)
	requireCorruptAt(t, err, 8, "version jump")
	require.ErrorContains(t, err, `stream "s1" jumps from version 2 to 5`)
	restore()

	exec(`DROP INDEX ` + qt("events_stream_event_id"))
	exec(`UPDATE `+qt("events")+` SET record = $1, event_id = 'id-4' WHERE position = 8`, reseal(func(c *logstore.Record) { c.ID = "id-4" }))
	_, err = s.Verify(ctx)
	requireCorruptAt(t, err, 8, "id used twice")
	require.ErrorContains(t, err, `id "id-4" of stream "s1" is used twice`)
	restore()

	exec(`UPDATE `+qt("events")+` SET record = $1 WHERE position = 8`, reseal(func(c *logstore.Record) { c.Version = 9 }))
	_, err = s.ReadStream(ctx, "s1", 0, 0)
	require.ErrorIs(t, err, eventstore.ErrCorrupt)
	var ce *eventstore.CorruptionError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, eventstore.Offset(8), ce.Offset)
	require.ErrorContains(t, err, `the row holds stream "s1" version 9`)
	restore()
}

// TestCommitterCarriesBatch: appends and a batch queued while a commit waits
// for the head row's lock are committed in queue order, the batch alone:
// the single appends before it form one group, the batch is carried over to
// its own transaction, and the append after it follows.
func TestCommitterCarriesBatch(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	var groups [][]logstore.Offset
	l, err := postgres.Open(ctx, env.options(), logstore.Config{Sync: true, OnCommit: func(recs []logstore.Record) {
		var g []logstore.Offset
		for _, r := range recs {
			g = append(g, r.Offset)
		}
		groups = append(groups, g)
	}}, nil)
	require.NoError(t, err)
	defer l.Close()

	// Hold the head row: the first append's transaction waits for it.
	conn := env.conn(t)
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `SELECT position FROM `+qt("head")+` WHERE id = 1 FOR UPDATE`)
	require.NoError(t, err)

	one := func(stream string) logstore.AppendRequest {
		return logstore.AppendRequest{Stream: stream, Expected: logstore.NoStream, Events: []logstore.Event{{Type: "T", Data: []byte(stream)}}}
	}
	type out struct {
		name string
		last logstore.Offset
		err  error
	}
	outs := make(chan out, 4)
	appendAsync := func(stream string) {
		go func() {
			res, err := l.Append(ctx, one(stream))
			outs <- out{stream, res.Last, err}
		}()
	}
	watch := env.conn(t)
	appendAsync("first")
	waitFor(t, 30*time.Second, "the first commit to wait for the head row", func() bool {
		var n int
		require.NoError(t, watch.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n))
		return n == 1
	})
	// The committer now waits for the head row's lock with the first
	// append; the others queue in this order.
	appendAsync("a")
	waitFor(t, 30*time.Second, "a to queue", func() bool { return l.QueueDepth() == 1 })
	appendAsync("b")
	waitFor(t, 30*time.Second, "b to queue", func() bool { return l.QueueDepth() == 2 })
	go func() {
		ress, err := l.AppendBatch(ctx, []logstore.AppendRequest{one("batch1"), one("batch2")})
		var last logstore.Offset
		if len(ress) == 2 {
			last = ress[1].Last
		}
		outs <- out{"batch", last, err}
	}()
	waitFor(t, 30*time.Second, "the batch to queue", func() bool { return l.QueueDepth() == 3 })
	appendAsync("after")
	waitFor(t, 30*time.Second, "the last append to queue", func() bool { return l.QueueDepth() == 4 })
	require.NoError(t, tx.Rollback(ctx))

	got := map[string]logstore.Offset{}
	for range 5 {
		o := <-outs
		require.NoError(t, o.err, o.name)
		got[o.name] = o.last
	}
	require.Equal(t, map[string]logstore.Offset{"first": 1, "a": 2, "b": 3, "batch": 5, "after": 6}, got)
	require.Equal(t, [][]logstore.Offset{{1}, {2, 3}, {4, 5}, {6}}, groups)
}

// TestCommitAfterLostRows: the head row says offsets were committed whose
// rows are not there (as if another process's commit lost them). The next
// commit here is durable but cannot be published after the gap: the append
// fails with ErrCorrupt instead of returning a result whose offsets this
// process cannot read back.
func TestCommitAfterLostRows(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	o := env.options()
	o.PollInterval = time.Hour // the follower looks only when notified
	l, err := postgres.Open(ctx, o, logstore.Config{Sync: true}, nil)
	require.NoError(t, err)
	defer l.Close()
	one := logstore.AppendRequest{Stream: "s", Expected: logstore.Any, Events: []logstore.Event{{Type: "T"}}}
	_, err = l.Append(ctx, one)
	require.NoError(t, err)

	c := env.conn(t)
	_, err = c.Exec(ctx, `UPDATE `+qt("head")+` SET position = position + 2 WHERE id = 1`)
	require.NoError(t, err)
	_, err = l.Append(ctx, one)
	require.ErrorIs(t, err, logstore.ErrCorrupt)
	require.ErrorContains(t, err, "committed, but the log before it cannot be published")
	require.ErrorContains(t, err, "offsets 2 to 3 are committed but not found")
	require.Equal(t, logstore.Offset(1), l.Head(), "nothing past the gap is published")
}

// TestBatchChecks: an AppendBatch is all or nothing: a request that repeats
// a committed append is a wrong expected version (not a recognised retry),
// and an id used twice within the batch is a duplicate; neither writes
// anything.
func TestBatchChecks(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	l, err := postgres.Open(ctx, env.options(), logstore.Config{Sync: true}, nil)
	require.NoError(t, err)
	defer l.Close()
	withID := func(stream string, exp logstore.ExpectedVersion, id string) logstore.AppendRequest {
		return logstore.AppendRequest{Stream: stream, Expected: exp, Events: []logstore.Event{{ID: id, Type: "T"}}}
	}
	_, err = l.AppendBatch(ctx, []logstore.AppendRequest{withID("s", logstore.NoStream, "x")})
	require.NoError(t, err)
	res, err := l.Append(ctx, withID("s", logstore.NoStream, "x"))
	require.NoError(t, err, "a single append is recognised as a retry")
	require.Equal(t, logstore.AppendResult{First: 1, Last: 1, Version: 1}, res)

	_, err = l.AppendBatch(ctx, []logstore.AppendRequest{withID("t", logstore.NoStream, "a"), withID("s", logstore.NoStream, "x")})
	var we *logstore.WrongExpectedVersionError
	require.ErrorAs(t, err, &we)
	require.Equal(t, uint64(1), we.Actual)
	require.ErrorContains(t, err, "request 1 of the batch")

	_, err = l.AppendBatch(ctx, []logstore.AppendRequest{withID("u", logstore.NoStream, "y"), withID("u", 1, "y")})
	require.ErrorIs(t, err, logstore.ErrDuplicateID)
	require.ErrorContains(t, err, `id "y" of stream "u" is used by version 1`)

	for _, s := range []string{"t", "u"} {
		v, err := l.StreamVersion(ctx, s)
		require.NoError(t, err)
		require.Zero(t, v, s)
	}
	require.Equal(t, logstore.Offset(1), l.Head())
}

// TestNilBackendConfig: no backend config, or a nil *Options, is the
// default options, whose empty DSN takes the server from the PG*
// environment variables.
func TestNilBackendConfig(t *testing.T) {
	addr := closedPort(t)
	host, port, found := strings.Cut(addr, ":")
	require.True(t, found)
	t.Setenv("PGHOST", host)
	t.Setenv("PGPORT", port)
	for name, opts := range map[string][]eventstore.Option{
		"no config":  nil,
		"nil config": {eventstore.WithBackendConfig((*postgres.Options)(nil))},
	} {
		opts = append([]eventstore.Option{eventstore.WithBackend(postgres.Name), eventstore.WithOpenTimeout(10 * time.Second)}, opts...)
		_, err := eventstore.Open(filepath.Join(t.TempDir(), "store"), opts...)
		require.ErrorContains(t, err, fmt.Sprintf("port %s", port), name)
		require.ErrorContains(t, err, "check the DSN or the PG* environment variables", name)
	}
}

// TestBackupOfSharedStore: a postgres log cannot checkpoint itself, so a
// backup of its store is a dump of every record up to the head, with a
// manifest that names the backend and the store's generation.
func TestBackupOfSharedStore(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	s := openStore(t, env.options())
	for i := range 7 {
		_, err := s.Append(ctx, fmt.Sprint("s", i%2), eventstore.Any, ev(fmt.Sprint("id", i), "T", fmt.Sprint(i)))
		require.NoError(t, err)
	}
	dest := filepath.Join(t.TempDir(), "backup")
	rep, err := s.Backup(ctx, dest)
	require.NoError(t, err)
	require.Equal(t, eventstore.BackupDump, rep.Method)
	require.Equal(t, postgres.Name, rep.Backend)
	require.Equal(t, eventstore.Offset(7), rep.Head)

	m, err := dump.ReadManifest(dest)
	require.NoError(t, err)
	require.Equal(t, dump.MethodDump, m.Method)
	require.Equal(t, eventstore.Offset(7), m.Head)
	require.Equal(t, s.Generation(), m.Generation)
	require.Equal(t, rep.ContentHash, m.ContentHash)

	f, err := os.Open(filepath.Join(dest, dump.DumpFileName))
	require.NoError(t, err)
	defer f.Close()
	r, err := dump.NewReader(f)
	require.NoError(t, err)
	want, err := s.ReadLog(ctx, 1, 0)
	require.NoError(t, err)
	i := 0
	for rec, err := range r.All() {
		require.NoError(t, err)
		require.Equal(t, want[i].Offset, rec.Offset)
		require.Equal(t, want[i].Stream, rec.Stream)
		require.Equal(t, want[i].ID, rec.ID)
		require.Equal(t, want[i].Data, rec.Data)
		i++
	}
	require.Equal(t, 7, i)
	require.Equal(t, rep.ContentHash, r.Trailer().Hash.String())
}

// TestBatchOutcomeUnknown: an AppendBatch whose context ends while its
// transaction waits fails with ErrUnknownOutcome (and the cause), and the
// transaction goes on: once the wait ends, the batch is committed.
func TestBatchOutcomeUnknown(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	l, err := postgres.Open(ctx, env.options(), logstore.Config{Sync: true}, nil)
	require.NoError(t, err)
	defer l.Close()

	conn, watch := env.conn(t), env.conn(t)
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `SELECT position FROM `+qt("head")+` WHERE id = 1 FOR UPDATE`)
	require.NoError(t, err)

	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := l.AppendBatch(cctx, []logstore.AppendRequest{
			{Stream: "a", Expected: logstore.NoStream, Events: []logstore.Event{{Type: "T"}}},
			{Stream: "b", Expected: logstore.NoStream, Events: []logstore.Event{{Type: "T"}}},
		})
		done <- err
	}()
	waitFor(t, 30*time.Second, "the batch's transaction to wait for the head row", func() bool {
		var n int
		require.NoError(t, watch.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n))
		return n == 1
	})
	cancel()
	err = <-done
	require.ErrorIs(t, err, logstore.ErrUnknownOutcome)
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, tx.Rollback(ctx))
	waitFor(t, 30*time.Second, "the batch to be published", func() bool { return l.Head() == 2 })
	for _, s := range []string{"a", "b"} {
		v, err := l.StreamVersion(ctx, s)
		require.NoError(t, err)
		require.Equal(t, uint64(1), v, s)
	}
}

// TestCommitReadFailureWritesNothing: when the commit's first reads fail
// (the events table is renamed away), the append fails saying nothing was
// written, and the log goes on once the table is back.
func TestCommitReadFailureWritesNothing(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	l, err := postgres.Open(ctx, env.options(), logstore.Config{Sync: true}, nil)
	require.NoError(t, err)
	defer l.Close()
	one := logstore.AppendRequest{Stream: "s", Expected: logstore.Any, Events: []logstore.Event{{Type: "T"}}}
	_, err = l.Append(ctx, one)
	require.NoError(t, err)

	c := env.conn(t)
	_, err = c.Exec(ctx, `ALTER TABLE `+qt("events")+` RENAME TO events_away`)
	require.NoError(t, err)
	_, err = l.Append(ctx, one)
	require.ErrorContains(t, err, `relation "es.events" does not exist`)
	require.ErrorContains(t, err, "nothing was written")
	require.NotErrorIs(t, err, logstore.ErrUnknownOutcome)

	_, err = c.Exec(ctx, `ALTER TABLE `+qt("events_away")+` RENAME TO events`)
	require.NoError(t, err)
	res, err := l.Append(ctx, one)
	require.NoError(t, err)
	require.Equal(t, logstore.AppendResult{First: 2, Last: 2, Version: 2}, res)
}
