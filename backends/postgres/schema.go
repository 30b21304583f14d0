package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// LayoutVersion is the version of the tables this build writes and the
// newest it reads. It is recorded in the schema's meta table and checked at
// every Open.
const LayoutVersion = 1

// sql holds the statements of one schema, with its name quoted as an
// identifier once: stream names, types, ids and data reach the server only
// as query parameters.
type sql struct {
	schema, channel    string
	meta, head, events string
}

func newSQL(schema string) sql {
	q := func(table string) string { return pgx.Identifier{schema, table}.Sanitize() }
	channel := "eventstore_" + schema
	if len(channel) > 63 {
		channel = channel[:63]
	}
	return sql{schema: schema, channel: channel, meta: q("meta"), head: q("head"), events: q("events")}
}

// setup creates the schema's tables when they are missing and checks the
// layout version. Several processes may run it at once: an advisory lock
// serialises them.
func setup(ctx context.Context, pool *pgxpool.Pool, q sql) error {
	tx, err := pool.BeginTx(ctx, readCommitted)
	if err != nil {
		return fmt.Errorf("begin the schema setup: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('eventstore schema ' || $1))`, q.schema); err != nil {
		return fmt.Errorf("lock the schema setup: %w", err)
	}
	// CREATE SCHEMA needs the CREATE privilege on the database even when
	// the schema exists: a role that only owns its schema would fail.
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, q.schema).Scan(&exists); err != nil {
		return fmt.Errorf("look for schema %q: %w", q.schema, err)
	}
	if !exists {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{q.schema}.Sanitize()); err != nil {
			return fmt.Errorf("create schema %q: %w; the role needs the CREATE privilege on the database, or a schema made for it beforehand (CREATE SCHEMA %s AUTHORIZATION role)", q.schema, err, q.schema)
		}
	}
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS ` + q.meta + ` (key text PRIMARY KEY, value text NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS ` + q.head + ` (
			id smallint PRIMARY KEY CHECK (id = 1),
			position bigint NOT NULL CHECK (position >= 0),
			generation bigint NOT NULL CHECK (generation >= 1))`,
		`CREATE TABLE IF NOT EXISTS ` + q.events + ` (
			position bigint PRIMARY KEY,
			stream text NOT NULL,
			version bigint NOT NULL,
			event_id text,
			record bytea NOT NULL,
			UNIQUE (stream, version))`,
		`CREATE UNIQUE INDEX IF NOT EXISTS events_stream_event_id ON ` + q.events + ` (stream, event_id) WHERE event_id IS NOT NULL`,
		`INSERT INTO ` + q.head + ` VALUES (1, 0, 1) ON CONFLICT DO NOTHING`,
		`INSERT INTO ` + q.meta + ` VALUES ('layout', '` + strconv.Itoa(LayoutVersion) + `') ON CONFLICT DO NOTHING`,
	} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("create the tables of schema %q: %w", q.schema, err)
		}
	}
	var layout string
	if err := tx.QueryRow(ctx, `SELECT value FROM `+q.meta+` WHERE key = 'layout'`).Scan(&layout); err != nil {
		return fmt.Errorf("read the layout version of schema %q: %w", q.schema, err)
	}
	v, err := strconv.Atoi(layout)
	switch {
	case err != nil || v < 1:
		return fmt.Errorf("schema %q has a malformed layout version %q: it was not written by eventstore; use another schema", q.schema, layout)
	case v > LayoutVersion:
		return fmt.Errorf("schema %q has layout version %d, this build reads up to %d: upgrade eventstore", q.schema, v, LayoutVersion)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit the schema setup: %w", err)
	}
	return nil
}
