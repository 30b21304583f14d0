package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/internal/dump"
	"github.com/spf13/cobra"
)

const importLong = `Load a dump written by 'eventstore export' into a new store in --dir, which
must not exist yet or be empty: import never mixes a dump with other events.

Every frame's CRC-32C is checked before its record is committed, offsets and
stream versions must follow each other, and the trailer must match the
records: their count, the last offset and the content hash. The records go
into a new store in a hidden staging directory beside --dir, which is moved
into place only once the whole dump checked out and the new store passed a
full verify and has the dump's content hash. A damaged or truncated dump
(exit code 3) or any other failure leaves --dir as it was, and nothing of the
dump is visible in it.

--backend chooses the new store's engine; the default is the engine the dump
was exported from (rocksdb when that was memory or postgres). --check only
checks the dump and writes nothing.

--backend postgres imports into the schema --schema of the server --dsn names
(default: the PG* environment variables), which must not exist yet or be
empty: the store is built and checked in a staging schema beside it and moved
into place in one transaction, as 'eventstore migrate --to postgres' does.
--dir is optional there: a new local directory for the store.`

const importExample = `  eventstore import -d data/restored -i events.esdump
  eventstore import -d data/restored -i events.esdump --backend pebble
  gunzip -c events.esdump.gz | eventstore import -d data/restored -i -
  eventstore import -i events.esdump --check
  eventstore import -i events.esdump --backend postgres --dsn postgres://app@db/orders --schema orders`

// importResult is import's output.
type importResult struct {
	In      string `json:"in"`
	Dir     string `json:"dir,omitempty"`
	Backend string `json:"backend,omitempty"`
	// Location names the schema of an import into PostgreSQL.
	Location    string `json:"location,omitempty"`
	Head        uint64 `json:"head"`
	ContentHash string `json:"content_hash"`
	Checked     bool   `json:"check_only,omitempty"`
	// Throughput is the rate of reading and checking the dump and, without
	// --check, of committing its records; CheckSeconds is the time of the
	// checks of the new store after that.
	Throughput   throughput `json:"throughput"`
	CheckSeconds float64    `json:"check_seconds,omitempty"`
}

func newImportCmd(a *app) *cobra.Command {
	var in string
	var check bool
	c := &cobra.Command{
		Use:     "import --in FILE|- [--check]",
		Short:   "Load a dump into a new store, checking every record first",
		Long:    importLong,
		Example: importExample,
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if in == "" {
				return usageErrorf("--in is required: a dump file, or - for stdin")
			}
			return runImport(c.Context(), a, in, check)
		},
	}
	c.Flags().StringVarP(&in, "in", "i", "", "the dump file, or - for stdin")
	c.Flags().BoolVar(&check, "check", false, "only check the dump; write nothing")
	return c
}

func runImport(ctx context.Context, a *app, in string, check bool) error {
	var r io.Reader = a.stdin
	if in == "-" && isTerminal(a.stdin) {
		return usageErrorf("--in -: stdin is a terminal: pipe a dump into it, or give a file")
	}
	if in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return fmt.Errorf("open the dump: %w", err)
		}
		defer f.Close()
		r = f
	}
	start := time.Now()
	dr, err := dump.NewReader(r)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	res := importResult{In: in, Checked: check}
	if check {
		b := a.newBar(int64(dr.Header().Head), "check", "rec")
		for rec, err := range dr.All() {
			if err != nil {
				b.stop()
				return fmt.Errorf("%s: %w", in, err)
			}
			if rec.Offset%4096 == 0 {
				b.set(int64(rec.Offset))
			}
		}
		b.done()
	} else if a.backend == postgres.Name {
		if err := a.importToPostgres(ctx, in, dr, &res); err != nil {
			return err
		}
	} else {
		if err := a.requireDir(); err != nil {
			return err
		}
		res.Dir = a.dir
		if res.Backend, err = newStoreBackend(a.backend, dr.Header().Backend); err != nil {
			return err
		}
		st, err := newStaging(a.dir, "import target")
		if err != nil {
			return err
		}
		if res.CheckSeconds, err = importInto(ctx, a, st.dir, res.Backend, dr, nil); err != nil {
			st.abort()
			return fmt.Errorf("import %s: %w; nothing was imported, %s is as it was", in, err, a.dir)
		}
		if err := st.commit(); err != nil {
			st.abort()
			return err
		}
	}
	tr := dr.Trailer()
	res.Head, res.ContentHash = uint64(tr.Last), tr.Hash.String()
	res.Throughput = newThroughput(tr.Records, dr.Pos(), time.Since(start)-time.Duration(res.CheckSeconds*float64(time.Second)))
	if a.json {
		return a.printJSON(res)
	}
	if check {
		a.printf("dump ok: %d records up to offset %d, exported from %s at %s\n", tr.Records, tr.Last,
			dr.Header().Backend, dr.Header().Created.Format(time.RFC3339))
	} else {
		into := a.dir
		if res.Location != "" {
			into = res.Location
		}
		a.printf("imported %d records up to offset %d into %s (%s)\n", tr.Records, tr.Last, into, res.Backend)
	}
	a.printf("content hash %s\n", res.ContentHash)
	a.printf("throughput   %s\n", res.Throughput)
	if !check {
		a.printf("checks       the new store verified, content hash matched, in %.2fs\n", res.CheckSeconds)
	}
	return nil
}

// newStoreBackend chooses the engine of a store that import or restore
// creates: --backend when given, else the engine the data came from, unless
// it keeps nothing (memory) or is not built in.
func newStoreBackend(flag, source string) (string, error) {
	name := flag
	if name == "" {
		name = source
		if name == "" || isLogBackend(name) || durableBackend(name) != nil {
			name = eventstore.DefaultBackend
		}
	}
	return name, durableBackend(name)
}

// importInto imports the dump into a new store in dir, then checks the
// store: a full verify, and its content hash against the dump's. want, if
// not nil, is checked against the trailer too (a backup's manifest). It
// returns the time the checks took, in seconds.
// opts configure the backend.
func importInto(ctx context.Context, a *app, dir, name string, dr *dump.Reader, want *dump.Manifest, opts ...eventstore.Option) (checkSeconds float64, err error) {
	s, err := eventstore.Open(dir, append([]eventstore.Option{eventstore.WithBackend(name), eventstore.WithDurability(eventstore.NoSync)}, opts...)...)
	if err != nil {
		return 0, err
	}
	defer closeStore(s, &err)
	head := eventstore.Offset(dr.Header().Head)
	b := a.newBar(int64(head), "import", "rec")
	if _, err := s.Import(ctx, dumpRecords(dr, b)); err != nil {
		b.stop()
		// The dump's own error is the one to report: Import wraps it.
		var de *dump.DamageError
		if errors.As(err, &de) {
			return 0, de
		}
		return 0, err
	}
	b.done()
	tr := dr.Trailer()
	if want != nil && (want.Head != tr.Last || (want.ContentHash != "" && want.ContentHash != tr.Hash.String())) {
		return 0, fmt.Errorf("%w: the backup manifest names head %d and hash %s, its dump holds head %d and hash %s",
			eventstore.ErrCorrupt, want.Head, want.ContentHash, tr.Last, tr.Hash)
	}
	start := time.Now()
	err = checkStore(ctx, a, s, eventstore.Offset(tr.Last), &tr.Hash)
	return time.Since(start).Seconds(), err
}

// dumpRecords iterates the records of a dump as store records.
func dumpRecords(dr *dump.Reader, b *bar) iter.Seq2[eventstore.Record, error] {
	return func(yield func(eventstore.Record, error) bool) {
		for rec, err := range dr.All() {
			if err != nil {
				yield(eventstore.Record{}, err)
				return
			}
			if rec.Offset%4096 == 0 {
				b.set(int64(rec.Offset))
			}
			if !yield(rec, nil) {
				return
			}
		}
	}
}

// checkStore verifies a new store completely, checks that it ends at head,
// and, when hash is not nil, that its content hash is *hash.
func checkStore(ctx context.Context, a *app, s *eventstore.Store, head eventstore.Offset, hash *dump.Sum) error {
	if s.Head() != head {
		return fmt.Errorf("%w: the new store ends at offset %d, the source at %d", eventstore.ErrCorrupt, s.Head(), head)
	}
	b := a.newBar(int64(head), "verify", "rec")
	if _, err := s.VerifyProgress(ctx, func(o eventstore.Offset) { b.set(int64(o)) }); err != nil {
		b.stop()
		return fmt.Errorf("verify the new store: %w", err)
	}
	b.done()
	if hash == nil {
		return nil
	}
	got, err := contentHash(ctx, a, s, head, "hash")
	if err != nil {
		return fmt.Errorf("hash the new store: %w", err)
	}
	if got != *hash {
		return fmt.Errorf("%w: the new store's content hash is %s, the source's %s", eventstore.ErrCorrupt, got, hash)
	}
	return nil
}
