// Command quickstart shows the event store at work: it appends to a few
// streams with optimistic concurrency, has a stale append rejected, closes the
// store, reopens it without naming the engine, reads everything back and
// verifies it.
//
//	go run ./examples/quickstart                  # RocksDB, in a new temporary directory
//	go run ./examples/quickstart -backend pebble  # or badger, or memory
//	go run ./examples/quickstart -dir data/demo -keep
//
// `make demo` runs it. Its output is the same on every run and every engine,
// apart from the directory it prints first.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"

	"github.com/durablelog/eventstore"

	// Each engine registers itself under its name when imported.
	_ "github.com/durablelog/eventstore/backends/badger"
	_ "github.com/durablelog/eventstore/backends/memory"
	_ "github.com/durablelog/eventstore/backends/pebble"
	_ "github.com/durablelog/eventstore/backends/rocksdb"
)

func main() {
	dir := flag.String("dir", "", "the store's directory; it must not hold a store yet (default: a new temporary directory, removed at the end)")
	engine := flag.String("backend", eventstore.DefaultBackend, "the storage engine: rocksdb, pebble, badger or memory")
	keep := flag.Bool("keep", false, "keep the temporary directory instead of removing it at the end")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "quickstart: unexpected arguments %q; see -help\n", flag.Args())
		os.Exit(2)
	}
	if err := runMain(*dir, *engine, *keep); err != nil {
		fmt.Fprintf(os.Stderr, "quickstart: %v\n", err)
		os.Exit(1)
	}
}

// runMain makes the temporary directory when asked to, and runs the demo.
func runMain(dir, engine string, keep bool) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if dir == "" {
		tmp, err := os.MkdirTemp("", "eventstore-quickstart-")
		if err != nil {
			return fmt.Errorf("create a temporary directory: %w", err)
		}
		dir = tmp
		if keep {
			defer fmt.Printf("kept %s\n", dir)
		} else {
			defer func() {
				if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
					err = fmt.Errorf("remove the temporary directory: %w", rerr)
				}
			}()
		}
	}
	fmt.Printf("directory: %s\n", dir)
	return run(ctx, os.Stdout, dir, engine)
}

// appendStep is one append of the demo.
type appendStep struct {
	stream   string
	expected eventstore.ExpectedVersion
	events   []eventstore.Event
}

func event(id, typ, data string) eventstore.Event {
	return eventstore.Event{
		ID:       id,
		Type:     typ,
		Data:     []byte(data),
		Metadata: map[string]string{"source": "quickstart", "correlation-id": "demo-" + id},
	}
}

// steps are the appends of the demo: each stream starts with NoStream, and
// later appends name the exact version they expect.
var steps = []appendStep{
	{"account-1", eventstore.NoStream, []eventstore.Event{
		event("a1-1", "AccountOpened", `{"owner":"ada"}`),
		event("a1-2", "Deposited", `{"amount":100}`),
	}},
	{"account-2", eventstore.NoStream, []eventstore.Event{
		event("a2-1", "AccountOpened", `{"owner":"grace"}`),
		event("a2-2", "Deposited", `{"amount":50}`),
	}},
	{"order-7", eventstore.NoStream, []eventstore.Event{
		event("o7-1", "OrderPlaced", `{"account":"account-1","total":30}`),
		event("o7-2", "OrderPaid", `{"amount":30}`),
	}},
	{"account-1", 2, []eventstore.Event{
		event("a1-3", "Withdrawn", `{"amount":30,"order":"order-7"}`),
		event("a1-4", "Deposited", `{"amount":25}`),
	}},
}

// run is the whole demo, on the store in dir, which must not hold a store
// yet, with the engine named backend. It writes its report to w.
func run(ctx context.Context, w io.Writer, dir, backend string) error {
	out := &printer{w: w}

	// A new store: WithBackend chooses the engine, and the directory
	// records it.
	store, err := eventstore.Open(dir, eventstore.WithBackend(backend))
	if err != nil {
		return err
	}
	if err := appendAll(ctx, out, store); err != nil {
		_ = store.Close()
		return err
	}
	if err := store.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	out.printf("closed\n")

	// A reopen needs no WithBackend: the directory says which engine it
	// holds.
	store, err = eventstore.Open(dir)
	if err != nil {
		return fmt.Errorf("reopen: %w", err)
	}
	err = readBack(ctx, out, store)
	if cerr := store.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close: %w", cerr)
	}
	if err != nil {
		return err
	}
	out.printf("closed\n")
	return out.err
}

// appendAll makes the demo's appends, has a stale one rejected and retries
// one safely.
func appendAll(ctx context.Context, out *printer, store *eventstore.Store) error {
	if head := store.Head(); head != 0 {
		return fmt.Errorf("%s already holds a store (head %d): give -dir a new directory", store.Dir(), head)
	}
	out.printf("opened a new %s store\n", store.Backend())
	for _, s := range steps {
		res, err := store.Append(ctx, s.stream, s.expected, s.events...)
		if err != nil {
			return err
		}
		out.printf("append %-9s expecting %-8s -> offsets %d-%d, version %d\n",
			s.stream, describe(s.expected), res.First, res.Last, res.Version)
	}

	// A writer that read account-2 at version 1 is too late: the append is
	// rejected and nothing is written.
	_, err := store.Append(ctx, "account-2", 1, eventstore.Event{Type: "Withdrawn", Data: []byte(`{"amount":80}`)})
	var wrong *eventstore.WrongExpectedVersionError
	switch {
	case err == nil:
		return errors.New("the stale append to account-2 was accepted; it should have been rejected")
	case !errors.Is(err, eventstore.ErrWrongExpectedVersion) || !errors.As(err, &wrong):
		return fmt.Errorf("the stale append to account-2 failed with an unexpected error: %w", err)
	}
	out.printf("conflict rejected: %v\n", err)
	out.printf("  (stream %s is at version %d; reread it and decide again)\n", wrong.Stream, wrong.Actual)

	// Retrying an append whose events carry ids is safe: the store
	// recognises it and writes nothing.
	last := steps[len(steps)-1]
	res, err := store.Append(ctx, last.stream, last.expected, last.events...)
	if err != nil {
		return fmt.Errorf("retry: %w", err)
	}
	out.printf("retry of the last append -> offsets %d-%d, version %d; head is still %d\n",
		res.First, res.Last, res.Version, store.Head())
	return nil
}

// readBack reads the reopened store back, verifies it and reports recovery.
func readBack(ctx context.Context, out *printer, store *eventstore.Store) error {
	out.printf("reopened: the directory holds a %s store, head %d\n", store.Backend(), store.Head())

	out.printf("log:\n")
	var n int
	var first, last eventstore.Offset
	for rec, err := range store.Log(ctx, 1) {
		if err != nil {
			return fmt.Errorf("read the log: %w", err)
		}
		if n == 0 {
			first = rec.Offset
		}
		last = rec.Offset
		n++
		out.printRecord(rec)
	}
	out.printf("log: %d records, offsets %d-%d\n", n, first, last)

	recs, err := store.ReadStream(ctx, "account-1", 0, 0)
	if err != nil {
		return fmt.Errorf("read stream account-1: %w", err)
	}
	out.printf("stream account-1: %d events\n", len(recs))
	for _, rec := range recs {
		out.printRecord(rec)
	}
	if len(recs) > 0 {
		m := recs[0].Metadata
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			kv = append(kv, k+"="+m[k])
		}
		out.printf("  metadata of %s v%d: %s\n", recs[0].Stream, recs[0].Version, strings.Join(kv, " "))
	}

	rep, err := store.Verify(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	out.printf("verify: ok: %d records up to offset %d, %d streams, %d index entries, %d ids\n",
		rep.Records, rep.Head, rep.Streams, rep.IndexEntries, rep.IDs)

	rec := store.LastRecovery()
	out.printf("recovery: engine %s, head %d, snapshot at offset %d, %d events replayed, %d snapshots skipped\n",
		rec.Backend, rec.Head, rec.SnapshotOffset, rec.EventsReplayed, len(rec.Skipped))
	return nil
}

func describe(v eventstore.ExpectedVersion) string {
	switch v {
	case eventstore.NoStream:
		return "NoStream"
	case eventstore.Any:
		return "Any"
	case eventstore.StreamExists:
		return "StreamExists"
	}
	return fmt.Sprint(int64(v))
}

// printer writes the report and keeps the first write error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) printRecord(r eventstore.Record) {
	p.printf("  offset %d  %-9s v%d  %-13s id=%-4s %s\n", r.Offset, r.Stream, r.Version, r.Type, r.ID, r.Data)
}
