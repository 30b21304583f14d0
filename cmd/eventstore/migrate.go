package main

import (
	"context"
	"fmt"
	"iter"
	"path/filepath"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/internal/dump"
	"github.com/durablelog/eventstore/internal/layout"
	"github.com/spf13/cobra"
)

const migrateLong = `Copy the store in --dir into a new store of engine --to in --dest, which must
not exist yet or be empty. The source is not changed. The copy keeps the
offsets and the store's generation, so readers' checkpoints stay valid on it.

Every record is read with its checksum checked and imported with its offset,
stream version, id, metadata and commit time. The new store is built in a
hidden staging directory beside --dest; then it is verified completely
(checksums, offsets, versions, indexes), its record count and its content hash
(SHA-256 over every record, see 'eventstore verify --hash') are compared with
the source's, and only then is it moved to --dest. The snapshots are copied
too: they hold the application's state at an offset, which the copy keeps.

The report gives the throughput of the copy and the time of the checks.

--to postgres moves an embedded store into PostgreSQL: into the schema
--schema of the server --dsn names (default: the PG* environment variables),
which must not exist yet or be empty (exit code 6 otherwise). The copy is
built and checked in a staging schema beside it (SCHEMA_staging_XXXXXX, which
needs the CREATE privilege on the database), then moved into place in one
transaction; a failed migration drops the staging schema and leaves --schema
as it was. --dest is optional there: a new local directory for the
application's first Open on PostgreSQL, with the source's snapshots.

From a store on PostgreSQL (--backend postgres, no --dir needed), --to
rocksdb, pebble, badger or sqlite copies the schema's log up to its head at
the start into --dest. Stop the writers first: what they append after that
is not copied.`

const migrateExample = `  eventstore migrate -d data/events --to pebble --dest data/events-pebble
  eventstore migrate -d data/events --to badger --dest data/events-badger --json
  eventstore migrate -d data/events --to postgres --dsn postgres://app@db/orders --schema orders --dest data/orders-local
  eventstore migrate --backend postgres --dsn postgres://app@db/orders --schema orders --to rocksdb --dest data/events`

// migrateResult is migrate's output.
type migrateResult struct {
	Source        string `json:"source"`
	SourceBackend string `json:"source_backend"`
	Dest          string `json:"dest,omitempty"`
	DestBackend   string `json:"dest_backend"`
	// Location names the schema a migration to PostgreSQL moved the
	// store into.
	Location     string     `json:"location,omitempty"`
	Head         uint64     `json:"head"`
	ContentHash  string     `json:"content_hash"`
	Snapshots    int        `json:"snapshots"`
	Copy         throughput `json:"copy"`
	CheckSeconds float64    `json:"check_seconds"`
	TotalSeconds float64    `json:"total_seconds"`
}

func newMigrateCmd(a *app) *cobra.Command {
	var to, dest string
	var noSnapshots bool
	c := &cobra.Command{
		Use:     "migrate --to BACKEND [--dest DIR]",
		Short:   "Copy a store into another engine, verifying every record and the content hash",
		Long:    migrateLong,
		Example: migrateExample,
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if to == "" || (dest == "" && to != postgres.Name) {
				return usageErrorf("--to and --dest are required: the new engine and the new store's directory (--dest is optional only with --to postgres)")
			}
			return runMigrate(c.Context(), a, to, dest, noSnapshots)
		},
	}
	c.Flags().StringVar(&to, "to", "", "the engine of the new store: rocksdb, pebble, badger, sqlite or postgres")
	c.Flags().StringVar(&dest, "dest", "", "the new store's directory; it must not exist or be empty (with --to postgres: optional, the new local directory)")
	c.Flags().BoolVar(&noSnapshots, "no-snapshots", false, "do not copy the snapshots")
	return c
}

func runMigrate(ctx context.Context, a *app, to, dest string, noSnapshots bool) (err error) {
	if to == postgres.Name {
		return runMigrateToPostgres(ctx, a, dest, noSnapshots)
	}
	if err := durableBackend(to); err != nil {
		return err
	}
	if filepath.Clean(dest) == filepath.Clean(a.dir) {
		return usageErrorf("--dest is --dir: migrate writes a new store beside the source")
	}
	src, err := a.openExisting(ctx)
	if err != nil {
		return err
	}
	defer closeStore(src, &err)
	st, err := newStaging(dest, "--dest")
	if err != nil {
		return err
	}
	res, err := migrate(ctx, a, src, st.dir, to, !noSnapshots)
	if err == nil {
		// The same events at the same offsets: the same generation, so
		// that readers' checkpoints stay valid on the copy.
		err = layout.SetGeneration(st.dir, src.Generation())
	}
	if err == nil {
		err = st.commit()
	}
	if err != nil {
		st.abort()
		return fmt.Errorf("migrate %s to %s in %s: %w; nothing was written to %s", a.where(), to, dest, err, dest)
	}
	res.Source, res.Dest = a.where(), dest
	return a.printMigrate(res)
}

// printMigrate prints migrate's result.
func (a *app) printMigrate(res migrateResult) error {
	if a.json {
		return a.printJSON(res)
	}
	if res.Location != "" {
		a.printf("migrated %d records up to offset %d from %s (%s) to %s\n", res.Head, res.Head, res.Source, res.SourceBackend, res.Location)
		if res.Dest != "" {
			a.printf("local     %s, a local directory for the store on PostgreSQL\n", res.Dest)
		}
	} else {
		a.printf("migrated %d records up to offset %d from %s (%s) to %s (%s)\n", res.Head, res.Head, res.Source, res.SourceBackend, res.Dest, res.DestBackend)
	}
	a.printf("verified  every record and index of the copy; %d records and content hash %s match the source\n", res.Head, res.ContentHash)
	a.printf("snapshots %d copied\n", res.Snapshots)
	a.printf("copy      %s\n", res.Copy)
	a.printf("checks    %.2fs; total %.2fs\n", res.CheckSeconds, res.TotalSeconds)
	return nil
}

// migrate copies src into a new store of engine to in dir and checks it.
// dstOpts configure the new store's backend.
func migrate(ctx context.Context, a *app, src *eventstore.Store, dir, to string, snapshots bool, dstOpts ...eventstore.Option) (res migrateResult, err error) {
	start := time.Now()
	head := src.Head()
	res = migrateResult{SourceBackend: src.Backend(), DestBackend: to, Head: uint64(head)}
	dst, err := eventstore.Open(dir, append([]eventstore.Option{eventstore.WithBackend(to), eventstore.WithDurability(eventstore.NoSync)}, dstOpts...)...)
	if err != nil {
		return res, err
	}
	defer closeStore(dst, &err)
	h := dump.NewHasher()
	b := a.newBar(int64(head), "migrate", "rec")
	if _, err := dst.Import(ctx, hashing(logUpTo(ctx, src, head), h, b)); err != nil {
		b.stop()
		return res, err
	}
	b.done()
	if h.Count() != uint64(head) {
		return res, fmt.Errorf("read %d records from the source, its head is %d", h.Count(), head)
	}
	copied := time.Since(start)
	res.Copy = newThroughput(h.Count(), int64(h.Bytes()), copied)
	sum := h.Sum()
	res.ContentHash = sum.String()
	if err := checkStore(ctx, a, dst, head, &sum); err != nil {
		return res, err
	}
	if snapshots {
		snaps, err := dump.CopySnapshots(layout.Snapshots(a.dir), layout.Snapshots(dir), head)
		if err != nil {
			return res, fmt.Errorf("copy the snapshots: %w", err)
		}
		res.Snapshots = len(snaps)
	}
	res.CheckSeconds = (time.Since(start) - copied).Seconds()
	res.TotalSeconds = time.Since(start).Seconds()
	return res, nil
}

// hashing passes records through, adding each to h and moving the bar.
func hashing(seq iter.Seq2[eventstore.Record, error], h *dump.Hasher, b *bar) iter.Seq2[eventstore.Record, error] {
	return func(yield func(eventstore.Record, error) bool) {
		for rec, err := range seq {
			if err == nil {
				h.Add(&rec)
				if rec.Offset%4096 == 0 {
					b.set(int64(rec.Offset))
				}
			}
			if !yield(rec, err) || err != nil {
				return
			}
		}
	}
}
