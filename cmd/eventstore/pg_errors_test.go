package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/stretchr/testify/require"
)

// TestPostgresFailures: on PostgreSQL, a damaged dump or a damaged source
// store is refused with exit code 3 and leaves neither the target schema
// nor a staging schema; a schema without a store is exit code 6.
func TestPostgresFailures(t *testing.T) {
	p := newPGStore(t)
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	makeStore(t, src, "pebble", 12, 0)
	file := filepath.Join(tmp, "d.esdump")
	ok(t, "", "export", "-d", src, "-o", file)
	good, err := os.ReadFile(file)
	require.NoError(t, err)
	bad := filepath.Join(tmp, "bad.esdump")
	require.NoError(t, os.WriteFile(bad, flip(good, len(good)-70), 0o644))

	r := fails(t, exitCorrupt, p.args("imp", "import", "-i", bad)...)
	require.Contains(t, r.stderr, `nothing was imported, schema "imp" is as it was`)
	requireNoStagingSchema(t, p)
	require.Contains(t, fails(t, exitWrongDir, p.args("imp", "stat")...).stderr, `has no schema "imp"`)

	// The good dump, with the text report: it names the schema.
	r = ok(t, "", p.args("imp", "import", "-i", file)...)
	require.Contains(t, r.stdout, "imported 12 records up to offset 12 into ")
	require.Contains(t, r.stdout, "imp")
	require.Contains(t, r.stdout, "(postgres)")

	// A damaged source store: nothing is written to the schema.
	tamper(t, src, "pebble", func(kv backend.KV) {
		v, found, err := kv.Get(record.LogKey(5))
		require.NoError(t, err)
		require.True(t, found)
		v[len(v)-2] ^= 0x10
		b := kv.NewBatch()
		b.Set(record.LogKey(5), v)
		require.NoError(t, b.Commit(true))
	})
	r = fails(t, exitCorrupt, p.target("mig", "migrate", "-d", src, "--to", "postgres")...)
	require.Contains(t, r.stderr, `nothing was written to schema "mig"`)
	requireNoStagingSchema(t, p)
	require.Contains(t, fails(t, exitWrongDir, p.args("mig", "stat")...).stderr, `has no schema "mig"`)

	// read --follow of a schema without a store.
	require.Contains(t, fails(t, exitWrongDir, p.args("nosuch", "read", "--follow")...).stderr, `has no schema "nosuch"`)

	// read --follow of a stream stops after --limit records of it.
	r = ok(t, "", p.args("imp", "read", "--follow", "--json", "--stream", "stream-1", "--limit", "2")...)
	recs := jsonLines(t, r.stdout)
	require.Len(t, recs, 2)
	for i, rec := range recs {
		require.Equal(t, "stream-1", rec.Stream)
		require.Equal(t, uint64(i+1), rec.Version)
	}
	require.Equal(t, 2, strings.Count(r.stdout, "\n"))

	// A migration into the default schema (an empty --schema), with a
	// local directory that gets the snapshots, reported in text.
	src2 := filepath.Join(tmp, "src2")
	makeStore(t, src2, "pebble", 10, 5)
	snaps := decode[[]snapshotInfo](t, ok(t, "", "snapshot", "list", "-d", src2, "--json"))
	require.NotEmpty(t, snaps)
	local := filepath.Join(tmp, "local")
	r = ok(t, "", "migrate", "-d", src2, "--to", "postgres", "--dsn", p.dsn, "--schema", "", "--dest", local)
	require.Contains(t, r.stdout, "local     "+local+", a local directory for the store on PostgreSQL\n")
	st := decode[statResult](t, ok(t, "", p.args("eventstore", "stat", "-d", local, "--json")...))
	require.Equal(t, "eventstore", st.Postgres.Schema, "the default schema")
	require.Equal(t, uint64(10), st.Head)
	require.Len(t, st.Snapshots, len(snaps), "the snapshots are in the local directory")
	requireNoStagingSchema(t, p)
}
