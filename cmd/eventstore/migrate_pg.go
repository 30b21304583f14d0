package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/internal/dump"
	"github.com/durablelog/eventstore/internal/layout"
)

// runMigrateToPostgres moves the embedded store in --dir into the schema
// --schema: the copy is built and checked in a staging schema, then moved
// into place in one transaction, with the source's generation.
func runMigrateToPostgres(ctx context.Context, a *app, dest string, noSnapshots bool) (err error) {
	a.pgTarget = true // --dsn and --schema name the destination
	if a.onPostgres() {
		return usageErrorf("--to postgres: the store is on PostgreSQL already; to copy it into another schema or server, pipe 'eventstore export -o -' into 'eventstore import --backend postgres -i -'")
	}
	if dest != "" {
		if filepath.Clean(dest) == filepath.Clean(a.dir) {
			return usageErrorf("--dest is --dir: the local directory of the store on PostgreSQL is a new one")
		}
		if err := checkEmptyDest(dest, "--dest"); err != nil {
			return err
		}
	}
	target := a.pgOptions()
	src, err := a.openExisting(ctx)
	if err != nil {
		return err
	}
	defer closeStore(src, &err)
	ps, err := newPgStaging(ctx, a, target)
	if err != nil {
		return err
	}
	res, err := migrate(ctx, a, src, ps.dir, postgres.Name, false, eventstore.WithBackendConfig(ps.opts))
	if err == nil {
		err = ps.commit(ctx, src.Generation())
	}
	if err != nil {
		ps.abort()
		return fmt.Errorf("migrate %s to postgres schema %q: %w; nothing was written to schema %q", a.dir, target.Schema, err, target.Schema)
	}
	snaps, loc, err := newPgLocalDir(ctx, a, dest, target, res.Head, src.Generation(), !noSnapshots)
	if err != nil {
		return fmt.Errorf("the store is in schema %q with every record checked, but %w", target.Schema, err)
	}
	res.Source, res.Dest, res.Location, res.Snapshots = a.dir, dest, loc, snaps
	return a.printMigrate(res)
}

// pgStaging is a store built in a staging schema beside its final one and
// moved into place only once it is complete and checked, as staging does for
// a directory. A crash leaves the staging schema (SCHEMA_staging_XXXXXX)
// behind, which may be dropped.
type pgStaging struct {
	a      *app
	dir    string           // the staging store's local directory
	opts   postgres.Options // the staging schema
	target postgres.Options // the final schema
}

// newPgStaging checks that the target schema does not exist or is empty,
// and names a staging schema beside it.
func newPgStaging(ctx context.Context, a *app, target postgres.Options) (*pgStaging, error) {
	if target.Schema == "" {
		target.Schema = postgres.DefaultSchema
	}
	info, err := inspect(ctx, target)
	if err != nil {
		return nil, err
	}
	if !info.Empty() {
		return nil, fmt.Errorf("schema %q of database %q is %w (%s): give a new or empty schema with --schema; an existing store is never overwritten",
			info.Schema, info.Database, errNotEmpty, describeSchema(info))
	}
	dir, err := a.tempDir()
	if err != nil {
		return nil, err
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	tail := "_staging_" + hex.EncodeToString(suffix)
	opts := target
	opts.Schema = target.Schema[:min(len(target.Schema), 63-len(tail))] + tail
	return &pgStaging{a: a, dir: dir, opts: opts, target: target}, nil
}

// describeSchema says what a schema that is not empty holds.
func describeSchema(info postgres.SchemaInfo) string {
	if info.Store {
		return fmt.Sprintf("it holds a store with %d events", info.Head)
	}
	return "it holds " + strings.Join(info.Others, ", ")
}

// commit moves the staged store, closed, into the target schema with the
// generation gen.
func (ps *pgStaging) commit(ctx context.Context, gen uint64) error {
	if err := postgres.MoveSchema(ctx, ps.target, ps.opts.Schema, gen); err != nil {
		return fmt.Errorf("move the copy into place: %w", wrapNotEmpty(err))
	}
	return nil
}

// abort drops the staging schema.
func (ps *pgStaging) abort() {
	ctx := context.WithoutCancel(context.Background())
	if err := postgres.DropSchema(ctx, ps.opts); err != nil {
		ps.a.warnf("drop the staging schema %q: %v; drop it by hand (DROP SCHEMA %s CASCADE)", ps.opts.Schema, err, ps.opts.Schema)
	}
}

// wrapNotEmpty gives a schema that is not empty the exit code of a
// destination that is not empty.
func wrapNotEmpty(err error) error {
	if err != nil && isNotEmptySchema(err) {
		return fmt.Errorf("%w: %w", errNotEmpty, err)
	}
	return err
}

// newPgLocalDir opens the moved store in a new local directory, --dest or a
// temporary one, checks that it holds at least head records at generation
// gen, and copies the source's snapshots into --dest. It returns how many
// snapshots it copied and the store's location.
func newPgLocalDir(ctx context.Context, a *app, dest string, target postgres.Options, head uint64, gen uint64, snapshots bool) (n int, loc string, err error) {
	var st *staging
	dir := ""
	if dest != "" {
		if st, err = newStaging(dest, "--dest"); err != nil {
			return 0, "", err
		}
		dir = st.dir
	} else if dir, err = a.tempDir(); err != nil {
		return 0, "", err
	}
	fail := func(err error) (int, string, error) {
		if st != nil {
			st.abort()
		}
		return 0, "", err
	}
	s, err := eventstore.Open(dir, eventstore.WithBackend(postgres.Name), eventstore.WithBackendConfig(target))
	if err != nil {
		return fail(err)
	}
	if uint64(s.Head()) < head || s.Generation() != gen {
		err = fmt.Errorf("%w: the moved store opens at head %d and generation %d, the copy had head %d and generation %d",
			eventstore.ErrCorrupt, s.Head(), s.Generation(), head, gen)
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	sf, _, err := layout.ReadStore(dir)
	if err != nil {
		return fail(err)
	}
	if st == nil {
		return 0, sf.Location, nil
	}
	if snapshots {
		snaps, err := dump.CopySnapshots(layout.Snapshots(a.dir), layout.Snapshots(dir), eventstore.Offset(head))
		if err != nil {
			return fail(fmt.Errorf("copy the snapshots: %w", err))
		}
		n = len(snaps)
	}
	if err := st.commit(); err != nil {
		return fail(err)
	}
	return n, sf.Location, nil
}
