package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/layout"
	"github.com/stretchr/testify/require"
)

// TestMigrateThroughPostgres moves a store of each embedded engine into
// PostgreSQL and back: the same records, the same content hash, the same
// generation, and the snapshots in the new local directory.
func TestMigrateThroughPostgres(t *testing.T) {
	p := newPGStore(t)
	for _, engine := range []string{"rocksdb", "pebble", "badger", "sqlite"} {
		t.Run(engine, func(t *testing.T) {
			tmp := t.TempDir()
			src, local, back := filepath.Join(tmp, "src"), filepath.Join(tmp, "local"), filepath.Join(tmp, "back")
			schema := "from_" + engine
			makeStore(t, src, engine, 120, 30)
			require.NoError(t, layout.SetGeneration(src, 5))
			want := readStore(t, src)
			hash := decode[verifyResult](t, ok(t, "", "verify", "-d", src, "--hash", "--json")).ContentHash

			res := decode[migrateResult](t, ok(t, "", p.target(schema, "migrate", "-d", src, "--to", "postgres", "--dest", local, "--json")...))
			require.Equal(t, migrateResult{Source: src, SourceBackend: engine, Dest: local, DestBackend: "postgres",
				Location: fmt.Sprintf("postgres database %q schema %q", p.db, schema), Head: 120, ContentHash: hash, Snapshots: res.Snapshots,
				Copy: res.Copy, CheckSeconds: res.CheckSeconds, TotalSeconds: res.TotalSeconds}, res)
			require.Positive(t, res.Snapshots)
			ver := decode[verifyResult](t, ok(t, "", p.args(schema, "verify", "--hash", "--json")...))
			require.Equal(t, hash, ver.ContentHash)
			requireNoStagingSchema(t, p)

			// The local directory opens the moved store, restores a copied
			// snapshot, and keeps the generation.
			cs := &countState{}
			s := p.open(t, local, schema, eventstore.WithStateMachine(cs))
			requireSameRecords(t, want, allRecords(t, s))
			require.Equal(t, uint64(5), s.Generation())
			require.Positive(t, s.LastRecovery().SnapshotOffset, "restored from a snapshot migrate copied")
			require.NoError(t, s.Close())
			require.Equal(t, uint64(120), cs.n)

			res = decode[migrateResult](t, ok(t, "", p.args(schema, "migrate", "--to", engine, "--dest", back, "--json")...))
			require.Equal(t, hash, res.ContentHash)
			require.Equal(t, "postgres", res.SourceBackend)
			require.Equal(t, fmt.Sprintf("postgres database %q schema %q", p.db, schema), res.Source)
			requireSameRecords(t, want, readStore(t, back))
			require.Equal(t, hash, decode[verifyResult](t, ok(t, "", "verify", "-d", back, "--hash", "--json")).ContentHash)
			b, err := eventstore.Open(back)
			require.NoError(t, err)
			require.Equal(t, uint64(5), b.Generation())
			require.Equal(t, engine, b.Backend())
			require.NoError(t, b.Close())
			requireNoStaging(t, back)
		})
	}
}

// TestMigrateToPostgresRefusesNonEmptySchema checks that migrate moves a
// store only into a schema that does not exist or is empty, and changes
// nothing otherwise.
func TestMigrateToPostgresRefusesNonEmptySchema(t *testing.T) {
	p := newPGStore(t)
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	makeStore(t, src, "pebble", 20, 0)
	ctx := context.Background()
	conn, err := p.srv.Connect(ctx, p.db)
	require.NoError(t, err)
	defer conn.Close(ctx)

	// Another application's table.
	_, err = conn.Exec(ctx, `CREATE SCHEMA billing; CREATE TABLE billing.invoices (id int)`)
	require.NoError(t, err)
	r := fails(t, exitWrongDir, p.target("billing", "migrate", "-d", src, "--to", "postgres")...)
	require.Contains(t, r.stderr, fmt.Sprintf(`schema "billing" of database %q is not empty (it holds invoices)`, p.db))
	require.Contains(t, r.stderr, "an existing store is never overwritten")

	// A store, even one with fewer events.
	s := p.open(t, filepath.Join(tmp, "app"), "orders")
	appendSample(t, s, 3)
	require.NoError(t, s.Close())
	r = fails(t, exitWrongDir, p.target("orders", "migrate", "-d", src, "--to", "postgres", "--dest", filepath.Join(tmp, "local"))...)
	require.Contains(t, r.stderr, "is not empty (it holds a store with 3 events)")
	requireNoStaging(t, filepath.Join(tmp, "local"))
	require.Equal(t, uint64(3), decode[statResult](t, ok(t, "", p.args("orders", "stat", "--json")...)).Head, "the schema is as it was")

	// An empty schema made beforehand, as a database administrator
	// would, is taken.
	_, err = conn.Exec(ctx, `CREATE SCHEMA ready`)
	require.NoError(t, err)
	ok(t, "", p.target("ready", "migrate", "-d", src, "--to", "postgres")...)
	require.Equal(t, uint64(20), decode[statResult](t, ok(t, "", p.args("ready", "stat", "--json")...)).Head)
	requireNoStagingSchema(t, p)

	// From PostgreSQL to PostgreSQL: a usage error that names the way.
	r = fails(t, exitUsage, p.args("ready", "migrate", "--to", "postgres")...)
	require.Contains(t, r.stderr, "export -o -")
}
