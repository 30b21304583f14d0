package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/internal/pgtest"
	"github.com/stretchr/testify/require"
)

// pgStore is a PostgreSQL database of the shared test server.
type pgStore struct {
	dsn string
	srv *pgtest.Server
	db  string
}

func newPGStore(t *testing.T) pgStore {
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	return pgStore{dsn: srv.DSN(db), srv: srv, db: db}
}

// args adds the flags of the store in schema to a command line.
func (p pgStore) args(schema string, args ...string) []string {
	return append(args, "--backend", "postgres", "--dsn", p.dsn, "--schema", schema)
}

// target adds the flags that name the schema of migrate --to postgres.
func (p pgStore) target(schema string, args ...string) []string {
	return append(args, "--dsn", p.dsn, "--schema", schema)
}

// open opens the store in schema in a new local directory, as an
// application does; the test closes it.
func (p pgStore) open(t *testing.T, dir, schema string, opts ...eventstore.Option) *eventstore.Store {
	t.Helper()
	opts = append([]eventstore.Option{eventstore.WithBackend(postgres.Name), eventstore.WithBackendConfig(postgres.Options{DSN: p.dsn, Schema: schema})}, opts...)
	s, err := eventstore.Open(dir, opts...)
	require.NoError(t, err)
	return s
}

// appendSample appends the sample events to s.
func appendSample(t *testing.T, s *eventstore.Store, n int) {
	t.Helper()
	for i, batch := range sampleEvents(n) {
		_, err := s.Append(context.Background(), fmt.Sprintf("stream-%d", i%4), eventstore.Any, batch...)
		require.NoError(t, err)
	}
}

// allRecords reads every record of an open store.
func allRecords(t *testing.T, s *eventstore.Store) []eventstore.Record {
	t.Helper()
	recs, err := s.ReadLog(context.Background(), 1, 0)
	require.NoError(t, err)
	return recs
}

// TestPostgresReadingCommands runs stat, read, verify, export and import on
// a store in PostgreSQL while an application has it open, without --dir.
func TestPostgresReadingCommands(t *testing.T) {
	p := newPGStore(t)
	tmp := t.TempDir()
	appDir, localDir, work := filepath.Join(tmp, "app"), filepath.Join(tmp, "local"), filepath.Join(tmp, "work")
	private := filepath.Join(tmp, "tmpdir") // the commands' $TMPDIR
	require.NoError(t, os.Mkdir(private, 0o755))
	require.NoError(t, os.Mkdir(work, 0o755))
	t.Setenv("TMPDIR", private)

	r := fails(t, exitWrongDir, p.args("orders", "stat")...)
	require.Contains(t, r.stderr, fmt.Sprintf("database %q has no schema \"orders\"", p.db))
	r = ok(t, "", p.args("orders", "append", "-s", "order-1", "-t", "OrderPlaced", "--id", "o1", "--data", `{"total":30}`, "-e", "none")...)
	require.Contains(t, r.stdout, "offsets 1-1, stream version 1")

	// The application writes, and keeps the store open.
	app := p.open(t, appDir, "orders")
	defer app.Close()
	appendSample(t, app, 60)
	want := allRecords(t, app)
	require.Len(t, want, 61)

	st := decode[statResult](t, ok(t, "", p.args("orders", "stat", "--json")...))
	require.Equal(t, "postgres", st.Backend)
	require.Equal(t, uint64(61), st.Head)
	require.Equal(t, uint64(5), *st.Streams)
	require.Equal(t, uint64(1), st.Generation)
	require.True(t, st.TemporaryDir)
	require.Equal(t, &pgStat{Database: p.db, Schema: "orders", Bytes: st.Postgres.Bytes}, st.Postgres)
	require.Positive(t, st.Postgres.Bytes)
	require.True(t, st.Created.IsZero(), "a temporary directory has no creation time worth showing")
	r = ok(t, "", p.args("orders", "stat", "--fast")...)
	require.Contains(t, r.stdout, "directory   none given: a temporary one, removed at exit\n")
	require.Contains(t, r.stdout, fmt.Sprintf("location    database %q schema \"orders\", ", p.db))

	recs := jsonLines(t, ok(t, "", p.args("orders", "read", "--json")...).stdout)
	require.Len(t, recs, len(want))
	for i, rec := range recs {
		require.Equal(t, uint64(want[i].Offset), rec.Offset)
		require.Equal(t, want[i].Stream, rec.Stream)
		require.Equal(t, want[i].Type, rec.Type)
	}
	recs = jsonLines(t, ok(t, "", p.args("orders", "read", "--json", "--stream", "stream-1", "--last", "2")...).stdout)
	require.Len(t, recs, 2)
	require.Equal(t, "stream-1", recs[1].Stream)

	ver := decode[verifyResult](t, ok(t, "", p.args("orders", "verify", "--hash", "--json")...))
	require.True(t, ver.OK)
	require.Equal(t, uint64(61), ver.Records)
	require.NotEmpty(t, ver.ContentHash)

	// A dump of the store on PostgreSQL loads into an engine, and into
	// another schema; a schema that is not empty is refused.
	file := filepath.Join(work, "orders.esdump")
	ex := decode[exportResult](t, ok(t, "", p.args("orders", "export", "-o", file, "--json")...))
	require.Equal(t, ver.ContentHash, ex.ContentHash)
	require.Equal(t, "postgres", ex.Backend)
	pebbleDir := filepath.Join(work, "pebble")
	im := decode[importResult](t, ok(t, "", "import", "-d", pebbleDir, "-i", file, "--json"))
	require.Equal(t, "rocksdb", im.Backend, "a dump from postgres imports into the default engine unless --backend says postgres")
	requireSameRecords(t, want, readStore(t, pebbleDir))
	im = decode[importResult](t, ok(t, "", p.args("copy", "import", "-i", file, "-d", localDir, "--json")...))
	require.Equal(t, "postgres", im.Backend)
	require.Equal(t, fmt.Sprintf("postgres database %q schema \"copy\"", p.db), im.Location)
	require.Equal(t, ver.ContentHash, decode[verifyResult](t, ok(t, "", p.args("copy", "verify", "--hash", "--json")...)).ContentHash)
	require.Equal(t, ver.ContentHash, decode[verifyResult](t, ok(t, "", "verify", "-d", localDir, "--dsn", p.dsn, "--schema", "copy", "--hash", "--json")).ContentHash,
		"the local directory import made opens the copy")
	r = fails(t, exitWrongDir, p.args("orders", "import", "-i", file)...)
	require.Contains(t, r.stderr, `schema "orders" of database`)
	require.Contains(t, r.stderr, "not empty (it holds a store with 61 events)")
	requireNoStagingSchema(t, p)

	// The application's own directory is locked: the hint says to drop
	// --dir.
	r = fails(t, exitLocked, "stat", "-d", appDir, "--dsn", p.dsn, "--schema", "orders", "--lock-wait", "100ms")
	require.Contains(t, r.stderr, "drop --dir")
	r = fails(t, exitUsage, "stat", "-d", pebbleDir, "--dsn", p.dsn)
	require.Contains(t, r.stderr, "--dsn and --schema name a PostgreSQL store, and this store is on rocksdb")

	entries, err := os.ReadDir(private)
	require.NoError(t, err)
	require.Empty(t, entries, "every command removed its temporary directory")
}

// TestPostgresEnvironment checks that the PG* environment variables
// select the server when --dsn is not given.
func TestPostgresEnvironment(t *testing.T) {
	p := newPGStore(t)
	s := p.open(t, t.TempDir(), "eventstore")
	appendSample(t, s, 7)
	require.NoError(t, s.Close())
	for _, kv := range p.srv.Env(p.db) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	st := decode[statResult](t, ok(t, "", "stat", "--backend", "postgres", "--json"))
	require.Equal(t, uint64(7), st.Head)
	require.Equal(t, "eventstore", st.Postgres.Schema, "the default schema")
	require.Equal(t, p.db, st.Postgres.Database)
}

// TestPostgresFollow follows a store on PostgreSQL while another process
// appends to it.
func TestPostgresFollow(t *testing.T) {
	p := newPGStore(t)
	app := p.open(t, t.TempDir(), "orders")
	defer app.Close()
	ctx := context.Background()
	add := func(stream string, i int) {
		t.Helper()
		_, err := app.Append(ctx, stream, eventstore.Any, eventstore.Event{Type: "T", Data: []byte(fmt.Sprint(i))})
		require.NoError(t, err)
	}
	add("a", 1)
	add("b", 2)

	// The log until 5 records were printed.
	cmd := command(p.args("orders", "read", "--follow", "--json", "--limit", "5", "--poll", "50ms")...)
	next, stderr := followLines(t, cmd)
	require.Equal(t, uint64(1), next().Offset)
	require.Equal(t, uint64(2), next().Offset)
	for i := 3; i <= 5; i++ {
		add("a", i)
		r := next()
		require.Equal(t, uint64(i), r.Offset, "no gap and no duplicate")
		require.Equal(t, fmt.Sprint(i), string(r.Data))
	}
	require.NoError(t, cmd.Wait(), stderr.String())

	// One stream from a version, ended by SIGINT: exit code 0.
	cmd = command(p.args("orders", "read", "--follow", "--json", "--stream", "b", "--from", "1", "--poll", "50ms")...)
	next, stderr = followLines(t, cmd)
	r := next()
	require.Equal(t, "b", r.Stream)
	require.Equal(t, uint64(2), r.Offset)
	add("a", 6)
	add("b", 7)
	r = next()
	require.Equal(t, uint64(7), r.Offset, "the records of other streams are skipped")
	require.Equal(t, uint64(2), r.Version)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	require.NoError(t, cmd.Wait(), stderr.String())
}

// followLines starts cmd and returns a function that waits for its next
// JSON line.
func followLines(t *testing.T, cmd *exec.Cmd) (func() jsonRecord, *syncBuffer) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return func() jsonRecord {
		t.Helper()
		select {
		case l, ok := <-lines:
			require.True(t, ok, "read --follow ended early: %s", stderr.String())
			var r jsonRecord
			require.NoError(t, json.Unmarshal([]byte(l), &r))
			return r
		case <-time.After(60 * time.Second):
			t.Fatalf("read --follow printed nothing: %s", stderr.String())
		}
		return jsonRecord{}
	}, stderr
}

// requireNoStagingSchema checks that no staging schema was left behind.
func requireNoStagingSchema(t *testing.T, p pgStore) {
	t.Helper()
	ctx := context.Background()
	conn, err := p.srv.Connect(ctx, p.db)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE '%\_staging\_%'`).Scan(&n))
	require.Zero(t, n, "a staging schema was left behind")
}
