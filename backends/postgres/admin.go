package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Inspect, MoveSchema and DropSchema are for tools, such as the eventstore
// command, that look at a schema without opening a store in it, or that
// build a store in a staging schema and move it into place once it is
// complete and checked. Applications open stores with eventstore.Open.

// ErrSchemaNotEmpty is returned, possibly wrapped, by MoveSchema when the
// destination schema holds a store or any other table: a store is moved
// only into a schema that does not exist or is empty.
var ErrSchemaNotEmpty = errors.New("postgres: schema not empty")

// SchemaInfo is what Inspect found in a schema.
type SchemaInfo struct {
	// Database is the database the DSN connects to.
	Database string
	// Schema is the schema looked at.
	Schema string
	// Exists reports whether the schema exists.
	Exists bool
	// Store reports whether the schema holds a store's tables.
	Store bool
	// Layout is the store's layout version (see LayoutVersion).
	Layout int
	// Head is the store's last offset: how many events it holds.
	Head uint64
	// Generation is the store's generation.
	Generation uint64
	// Bytes is the size of the store's tables with their indexes.
	Bytes int64
	// Others names the schema's tables, views and sequences that are not a
	// store's, sorted; at most ten.
	Others []string
}

// Empty reports whether a store may be moved into the schema: it does not
// exist, or it holds no table, view or sequence at all. A schema with a
// store's tables is not empty even when they hold no event: a process may
// have that store open.
func (i SchemaInfo) Empty() bool { return !i.Store && len(i.Others) == 0 }

// Identity names the schema as Log.Identity does, for messages and for the
// STORE file of a local directory.
func (i SchemaInfo) Identity() string { return identity(i.Database, i.Schema) }

// identity is the identity of a store's schema in a database.
func identity(db, schema string) string {
	return fmt.Sprintf("postgres database %q schema %q", db, schema)
}

// describe says what a schema that is not empty holds.
func (i SchemaInfo) describe() string {
	if i.Store {
		return fmt.Sprintf("it holds a store with %d events (generation %d)", i.Head, i.Generation)
	}
	return fmt.Sprintf("it holds %s, which is not a store's", strings.Join(i.Others, ", "))
}

// storeTables are the tables of a store's schema.
var storeTables = []string{"events", "head", "meta"}

// querier is a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// connect opens one connection to the server that opts names.
func connect(ctx context.Context, opts Options) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(opts.DSN)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse the DSN: %w", err)
	}
	cfg.RuntimeParams["application_name"] = "eventstore"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect to host %q port %d database %q user %q: %w; check the DSN or the PG* environment variables",
			cfg.Host, cfg.Port, cfg.Database, cfg.User, err)
	}
	return conn, nil
}

// Inspect connects to the server that opts names and describes the schema
// opts.Schema: whether it exists, and whether it holds a store (its head and
// generation) or other tables. It reads only: it creates nothing.
func Inspect(ctx context.Context, opts Options) (SchemaInfo, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return SchemaInfo{}, err
	}
	conn, err := connect(ctx, opts)
	if err != nil {
		return SchemaInfo{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return inspect(ctx, conn, opts.Schema)
}

// inspect describes schema through q.
func inspect(ctx context.Context, q querier, schema string) (SchemaInfo, error) {
	info := SchemaInfo{Schema: schema}
	err := q.QueryRow(ctx, `SELECT current_database(), EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).
		Scan(&info.Database, &info.Exists)
	if err != nil || !info.Exists {
		return info, wrapInspect(schema, err)
	}
	rows, err := q.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') ORDER BY c.relname`, schema)
	if err != nil {
		return info, wrapInspect(schema, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return info, wrapInspect(schema, err)
	}
	found := 0
	for _, n := range names {
		if isStoreTable(n) {
			found++
		} else if len(info.Others) < 10 {
			info.Others = append(info.Others, n)
		}
	}
	if found < len(storeTables) {
		for _, n := range names {
			if isStoreTable(n) && len(info.Others) < 10 {
				info.Others = append(info.Others, n)
			}
		}
		return info, nil
	}
	info.Store = true
	s := newSQL(schema)
	var head, gen, size int64
	var layout string
	err = q.QueryRow(ctx, `SELECT h.position, h.generation, (SELECT value FROM `+s.meta+` WHERE key = 'layout'),
		pg_total_relation_size('`+s.events+`') + pg_total_relation_size('`+s.head+`') + pg_total_relation_size('`+s.meta+`')
		FROM `+s.head+` h WHERE id = 1`).Scan(&head, &gen, &layout, &size)
	if err != nil {
		return info, wrapInspect(schema, err)
	}
	info.Head, info.Generation, info.Bytes = uint64(head), uint64(gen), size
	_, _ = fmt.Sscan(layout, &info.Layout)
	return info, nil
}

func wrapInspect(schema string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("postgres: inspect schema %q: %w", schema, err)
}

func isStoreTable(name string) bool {
	for _, t := range storeTables {
		if name == t {
			return true
		}
	}
	return false
}

// MoveSchema moves the store in schema from, which no process may have
// open, into opts.Schema, in one transaction: when opts.Schema does not
// exist, from is renamed; when it exists and is empty (a schema made
// beforehand with its owner and privileges), the store's tables move into
// it and from is dropped. It fails with ErrSchemaNotEmpty, moving nothing,
// when opts.Schema holds a store or any other table. A generation above 0
// becomes the moved store's generation, as when a store moves between
// backends with its offsets unchanged. The commit is synchronous
// (synchronous_commit = on), which makes everything committed into from
// before it durable too.
func MoveSchema(ctx context.Context, opts Options, from string, generation uint64) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	if !schemaRE.MatchString(from) || from == opts.Schema {
		return fmt.Errorf("postgres: MoveSchema from %q to %q: give another valid schema name", from, opts.Schema)
	}
	conn, err := connect(ctx, opts)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = on`); err != nil {
			return err
		}
		// Setup in another process waits for these locks, and finds the
		// schema either empty or moved.
		for _, s := range []string{opts.Schema, from} {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('eventstore schema ' || $1))`, s); err != nil {
				return fmt.Errorf("postgres: lock schema %q: %w", s, err)
			}
		}
		dst, err := inspect(ctx, tx, opts.Schema)
		if err != nil {
			return err
		}
		if !dst.Empty() {
			return fmt.Errorf("%w: schema %q of database %q: %s; move the store into a new or empty schema",
				ErrSchemaNotEmpty, opts.Schema, dst.Database, dst.describe())
		}
		src, err := inspect(ctx, tx, from)
		if err != nil {
			return err
		}
		if !src.Store {
			return fmt.Errorf("postgres: schema %q holds no store to move", from)
		}
		target := pgx.Identifier{opts.Schema}.Sanitize()
		stmts := []string{`ALTER SCHEMA ` + pgx.Identifier{from}.Sanitize() + ` RENAME TO ` + target}
		if dst.Exists {
			stmts = stmts[:0]
			for _, t := range storeTables {
				stmts = append(stmts, `ALTER TABLE `+pgx.Identifier{from, t}.Sanitize()+` SET SCHEMA `+target)
			}
			stmts = append(stmts, `DROP SCHEMA `+pgx.Identifier{from}.Sanitize())
		}
		if generation > 0 {
			stmts = append(stmts, fmt.Sprintf(`UPDATE %s SET generation = %d WHERE id = 1`, newSQL(opts.Schema).head, generation))
		}
		for _, stmt := range stmts {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("postgres: move schema %q to %q: %w", from, opts.Schema, err)
			}
		}
		return nil
	})
}

// DropSchema removes the schema opts.Schema and everything in it, if it
// exists: for a staging schema that a failed or interrupted move left
// behind. It is DROP SCHEMA ... CASCADE: never give it a schema that holds
// anything to keep.
func DropSchema(ctx context.Context, opts Options) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	conn, err := connect(ctx, opts)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{opts.Schema}.Sanitize()+` CASCADE`); err != nil {
		return fmt.Errorf("postgres: drop schema %q: %w", opts.Schema, err)
	}
	return nil
}
