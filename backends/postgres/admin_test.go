package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/internal/pgtest"
	"github.com/stretchr/testify/require"
)

// appendEvents opens the store in schema, appends n events to one stream and
// closes it.
func appendEvents(t *testing.T, opts postgres.Options, n int) {
	t.Helper()
	s, err := eventstore.Open(t.TempDir(), eventstore.WithBackend(postgres.Name), eventstore.WithBackendConfig(opts))
	require.NoError(t, err)
	for i := range n {
		_, err := s.Append(context.Background(), "s", eventstore.Any, eventstore.Event{Type: "T", Data: []byte(fmt.Sprint(i))})
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
}

func TestInspectMoveDrop(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	opts := func(schema string) postgres.Options { return postgres.Options{DSN: srv.DSN(db), Schema: schema} }

	info, err := postgres.Inspect(ctx, opts("nothing"))
	require.NoError(t, err)
	require.Equal(t, postgres.SchemaInfo{Database: db, Schema: "nothing"}, info)
	require.True(t, info.Empty())

	appendEvents(t, opts("staging_a"), 3)
	info, err = postgres.Inspect(ctx, opts("staging_a"))
	require.NoError(t, err)
	require.True(t, info.Exists && info.Store, "%+v", info)
	require.Equal(t, uint64(3), info.Head)
	require.Equal(t, uint64(1), info.Generation)
	require.Equal(t, postgres.LayoutVersion, info.Layout)
	require.Positive(t, info.Bytes)
	require.Empty(t, info.Others)
	require.False(t, info.Empty())
	require.Equal(t, fmt.Sprintf("postgres database %q schema %q", db, "staging_a"), info.Identity())

	// Into a schema that does not exist: a rename, with the generation.
	require.NoError(t, postgres.MoveSchema(ctx, opts("target_a"), "staging_a", 7))
	info, err = postgres.Inspect(ctx, opts("target_a"))
	require.NoError(t, err)
	require.Equal(t, uint64(3), info.Head)
	require.Equal(t, uint64(7), info.Generation)
	gone, err := postgres.Inspect(ctx, opts("staging_a"))
	require.NoError(t, err)
	require.False(t, gone.Exists)

	// Into an empty schema made beforehand: the tables move.
	conn, err := srv.Connect(ctx, db)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CREATE SCHEMA target_b`)
	require.NoError(t, err)
	appendEvents(t, opts("staging_b"), 2)
	require.NoError(t, postgres.MoveSchema(ctx, opts("target_b"), "staging_b", 0))
	info, err = postgres.Inspect(ctx, opts("target_b"))
	require.NoError(t, err)
	require.Equal(t, uint64(2), info.Head)
	require.Equal(t, uint64(1), info.Generation, "generation 0 keeps the store's")
	gone, err = postgres.Inspect(ctx, opts("staging_b"))
	require.NoError(t, err)
	require.False(t, gone.Exists)

	// Into a schema that holds a store, or another table: refused, and
	// nothing moved.
	appendEvents(t, opts("staging_c"), 1)
	err = postgres.MoveSchema(ctx, opts("target_a"), "staging_c", 0)
	require.ErrorIs(t, err, postgres.ErrSchemaNotEmpty)
	require.ErrorContains(t, err, "it holds a store with 3 events (generation 7)")
	_, err = conn.Exec(ctx, `CREATE SCHEMA other; CREATE TABLE other.invoices (id int)`)
	require.NoError(t, err)
	info, err = postgres.Inspect(ctx, opts("other"))
	require.NoError(t, err)
	require.Equal(t, []string{"invoices"}, info.Others)
	require.False(t, info.Store)
	err = postgres.MoveSchema(ctx, opts("other"), "staging_c", 0)
	require.ErrorIs(t, err, postgres.ErrSchemaNotEmpty)
	require.ErrorContains(t, err, "it holds invoices, which is not a store's")
	info, err = postgres.Inspect(ctx, opts("staging_c"))
	require.NoError(t, err)
	require.Equal(t, uint64(1), info.Head)

	require.NoError(t, postgres.DropSchema(ctx, opts("staging_c")))
	gone, err = postgres.Inspect(ctx, opts("staging_c"))
	require.NoError(t, err)
	require.False(t, gone.Exists)
	require.NoError(t, postgres.DropSchema(ctx, opts("staging_c")), "dropping a missing schema is not an error")
}

// TestSchemaOwnerNeedsNoDatabasePrivilege opens a store as a role that owns
// its schema, made beforehand, and has no privilege on the database, as on
// a managed server where an administrator hands out schemas.
func TestSchemaOwnerNeedsNoDatabasePrivilege(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	role := db + "_app"
	conn, err := srv.Connect(ctx, db)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `CREATE ROLE `+role+` LOGIN; REVOKE CREATE ON DATABASE `+db+` FROM PUBLIC; CREATE SCHEMA orders AUTHORIZATION `+role)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := conn.Exec(ctx, `DROP OWNED BY `+role+`; DROP ROLE `+role)
		require.NoError(t, err)
		require.NoError(t, conn.Close(ctx))
	})
	dsn := fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", role, srv.Port(), db)

	appendEvents(t, postgres.Options{DSN: dsn, Schema: "orders"}, 2)
	appendEvents(t, postgres.Options{DSN: dsn, Schema: "orders"}, 1)
	info, err := postgres.Inspect(ctx, postgres.Options{DSN: dsn, Schema: "orders"})
	require.NoError(t, err)
	require.Equal(t, uint64(3), info.Head)

	// A schema it may not create is refused with what to do.
	_, err = eventstore.Open(t.TempDir(), eventstore.WithBackend(postgres.Name), eventstore.WithBackendConfig(postgres.Options{DSN: dsn, Schema: "other"}))
	require.ErrorContains(t, err, `create schema "other"`)
	require.ErrorContains(t, err, "CREATE SCHEMA other AUTHORIZATION role")
}
