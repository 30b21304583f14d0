// Command projection keeps a read model up to date with the event store
// through Subscribe, with its own checkpoint, and shows that a restart
// resumes without a gap and without a duplicate.
//
// A writer appends orders while a projector follows the log with
// Store.Subscribe and folds each event into a read model, totals per
// customer. Every 10 events the projector saves the model together with its
// checkpoint (the offset of the last event it applied) in one file, written
// atomically. On start it loads that file and subscribes from the checkpoint
// plus one. With -crash-after N it kills itself (SIGKILL) after applying N
// events, between two saves; the next run resumes from the last saved
// checkpoint, applies every event after it exactly once, and checks that the
// model equals a fold of the whole log.
//
//	go run ./examples/projection -dir /tmp/proj -orders 50 -crash-after 25   # dies: "Killed"
//	go run ./examples/projection -dir /tmp/proj -orders 20                   # resumes and checks
//
// See README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/durablelog/eventstore"

	_ "github.com/durablelog/eventstore/backends/badger"
	_ "github.com/durablelog/eventstore/backends/pebble"
	_ "github.com/durablelog/eventstore/backends/rocksdb"
)

// saveEvery is how many events the projector applies between two saves of
// its model and checkpoint.
const saveEvery = 10

type config struct {
	dir        string
	backend    string
	orders     int
	crashAfter int
}

func main() {
	var c config
	flag.StringVar(&c.dir, "dir", "", "the workspace: the store in DIR/store, the read model in DIR/projection.json (default: a new temporary directory)")
	flag.StringVar(&c.backend, "backend", "", "the engine of a new store: rocksdb (default), pebble or badger")
	flag.IntVar(&c.orders, "orders", 30, "how many orders to append in this run")
	flag.IntVar(&c.crashAfter, "crash-after", 0, "SIGKILL the process after the projector applied this many events in this run (0: never)")
	flag.Parse()
	if flag.NArg() > 0 || c.orders < 0 || c.crashAfter < 0 {
		fmt.Fprintln(os.Stderr, "projection: bad arguments; see -help")
		os.Exit(2)
	}
	if c.dir == "" {
		tmp, err := os.MkdirTemp("", "projection-")
		if err != nil {
			fmt.Fprintf(os.Stderr, "projection: %v\n", err)
			os.Exit(1)
		}
		c.dir = tmp
	}
	if err := run(context.Background(), os.Stdout, c); err != nil {
		fmt.Fprintf(os.Stderr, "projection: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, c config) (err error) {
	out := &printer{w: w}
	storeDir := filepath.Join(c.dir, "store")
	var opts []eventstore.Option
	if _, serr := os.Stat(filepath.Join(storeDir, "STORE")); serr != nil && c.backend != "" {
		opts = append(opts, eventstore.WithBackend(c.backend))
	}
	store, err := eventstore.Open(storeDir, opts...)
	if err != nil {
		return fmt.Errorf("open the store: %w", err)
	}
	defer func() {
		if cerr := store.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	out.printf("workspace: %s\n", c.dir)
	out.printf("store: %s, head %d\n", store.Backend(), store.Head())

	p := &projector{path: filepath.Join(c.dir, "projection.json"), crashAfter: c.crashAfter, out: out}
	if p.model, err = loadModel(p.path); err != nil {
		return err
	}
	if cp := p.model.Checkpoint; cp == 0 {
		out.printf("projection: no checkpoint yet: subscribing from offset 1\n")
	} else {
		out.printf("projection: checkpoint at offset %d: subscribing from offset %d (%d events behind the head)\n", cp, cp+1, store.Head()-cp)
	}
	p.applied.Store(uint64(p.model.Checkpoint))

	// The projector follows the log live; the writer appends meanwhile.
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	var perr error
	wg.Go(func() { perr = p.run(pctx, store) })
	out.printf("appending %d orders while the projection follows the log\n", c.orders)
	werr := appendOrders(ctx, store, c.orders)

	// Wait until the projector has applied everything, then stop it.
	head := store.Head()
	for werr == nil && p.applied.Load() < uint64(head) && pctx.Err() == nil {
		time.Sleep(2 * time.Millisecond)
	}
	stop()
	wg.Wait()
	if werr != nil {
		return werr
	}
	if perr != nil {
		return perr
	}
	if err := p.model.save(p.path); err != nil {
		return fmt.Errorf("save the projection: %w", err)
	}
	if p.n == 0 {
		out.printf("caught up at offset %d: nothing new to apply\n", p.model.Checkpoint)
	} else {
		out.printf("caught up at offset %d: this run applied offsets %d-%d, each once and in order: no gap, no duplicate\n",
			p.model.Checkpoint, p.first, p.model.Checkpoint)
	}

	// The proof: the model equals a fold of the whole log.
	fresh := newModel()
	recs, err := store.ReadLog(ctx, 1, 0)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := fresh.apply(r); err != nil {
			return err
		}
	}
	if !p.model.sameRows(fresh) {
		out.printf("read model matches a fold of the log: NO\n")
		return fmt.Errorf("the read model differs from the log's fold:\n%s\nvs\n%s", p.model, fresh)
	}
	out.printf("read model matches a fold of the log (%d events): yes\n", len(recs))
	out.printf("customers:\n%s", p.model)
	return out.err
}

// appendOrders appends n orders, continuing the numbering of the store: each
// order is placed, and every other one is paid.
func appendOrders(ctx context.Context, store *eventstore.Store, n int) error {
	base := 0
	for {
		v, err := store.StreamVersion(ctx, fmt.Sprintf("order-%d", base+1))
		if err != nil {
			return err
		}
		if v == 0 {
			break
		}
		base++
	}
	for i := base + 1; i <= base+n; i++ {
		stream := fmt.Sprintf("order-%d", i)
		placed := fmt.Sprintf(`{"customer":"c%d","amount":%d}`, i%5, 10+i%7*5)
		if _, err := store.Append(ctx, stream, eventstore.NoStream, eventstore.Event{ID: stream + "/placed", Type: OrderPlaced, Data: []byte(placed)}); err != nil {
			return fmt.Errorf("append: %w", err)
		}
		if i%2 == 0 {
			paid := fmt.Sprintf(`{"amount":%d}`, 10+i%7*5)
			if _, err := store.Append(ctx, stream, 1, eventstore.Event{ID: stream + "/paid", Type: OrderPaid, Data: []byte(paid)}); err != nil {
				return fmt.Errorf("append: %w", err)
			}
		}
	}
	return nil
}

// projector folds the log into the model through Subscribe.
type projector struct {
	path       string
	model      *Model
	crashAfter int
	out        *printer

	applied atomic.Uint64     // the last offset applied, for run's wait
	first   eventstore.Offset // the first offset applied in this run
	n       int               // events applied in this run
}

// run subscribes from the checkpoint plus one and applies every event, until
// ctx is done. It checks each offset is the one after the checkpoint: no gap
// and no duplicate, which Subscribe guarantees.
func (p *projector) run(ctx context.Context, store *eventstore.Store) error {
	for rec, err := range store.Subscribe(ctx, p.model.Checkpoint+1) {
		if err != nil {
			return fmt.Errorf("subscription: %w", err)
		}
		if want := p.model.Checkpoint + 1; rec.Offset != want {
			return fmt.Errorf("the projector got offset %d, expected %d: a gap or a duplicate", rec.Offset, want)
		}
		if err := p.model.apply(rec); err != nil {
			return err
		}
		p.model.Checkpoint = rec.Offset
		if p.n == 0 {
			p.first = rec.Offset
		}
		p.n++
		if p.n%saveEvery == 0 {
			if err := p.model.save(p.path); err != nil {
				return fmt.Errorf("save the projection: %w", err)
			}
			p.out.printf("checkpoint saved at offset %d\n", rec.Offset)
		}
		if p.crashAfter > 0 && p.n == p.crashAfter {
			p.out.printf("SIGKILL after applying %d events (offset %d); the saved checkpoint is older\n", p.n, rec.Offset)
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
		p.applied.Store(uint64(rec.Offset))
	}
	return nil
}

// printer writes the report, safe for the writer and projector goroutines,
// and keeps the first write error.
type printer struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}
