// Command paymentchannel is the crash-recovery demo of the event store:
// payment channels are opened, funded and paid, a state machine keeps the
// balances and is snapshotted every 50 events, and with
// -crash-during-funding the process kills itself (SIGKILL) in the middle of
// a funding, while an append is in flight. Run it again on the same -dir and
// it recovers: it restores the newest snapshot, replays the events after it,
// checks that every append acknowledged before the crash is in the log, and
// prints the balances of the state machine beside the balances folded from
// the log, which must be equal ("consistent: yes"). Then it completes the
// scenario: its appends carry ids and exact expected versions, so the ones
// already committed are recognised as retries and not written twice.
//
//	go run ./examples/paymentchannel -dir /tmp/pc -crash-during-funding   # dies: "Killed"
//	go run ./examples/paymentchannel -dir /tmp/pc                         # recovers and completes
//
// With -metrics ADDR (such as -metrics :9090) it serves the store's metrics
// for Prometheus at http://ADDR/metrics while it runs, and after the scenario
// until it is interrupted (Ctrl-C or SIGTERM); docs/operations.md describes
// them. See README.md for a walk-through.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/durablelog/eventstore"

	_ "github.com/durablelog/eventstore/backends/badger"
	_ "github.com/durablelog/eventstore/backends/pebble"
	_ "github.com/durablelog/eventstore/backends/rocksdb"
)

// snapshotEvery is the snapshot policy: EveryN(snapshotEvery).
const snapshotEvery = 50

// config is the command line.
type config struct {
	dir          string // the workspace: dir/store and dir/acks.log
	backend      string
	channels     int
	crash        bool
	crashChannel int
	// metrics is the address to serve /metrics on; "" serves nothing.
	metrics string
}

func main() {
	var c config
	flag.StringVar(&c.dir, "dir", "", "the workspace: the store goes in DIR/store, the journal of acknowledged appends in DIR/acks.log (default: a new temporary directory)")
	flag.StringVar(&c.backend, "backend", "", "the engine of a new store: rocksdb (default), pebble or badger; an existing store keeps its engine")
	flag.IntVar(&c.channels, "channels", 8, "how many channels the scenario opens")
	flag.BoolVar(&c.crash, "crash-during-funding", false, "SIGKILL the process in the middle of the funding of channel -crash-channel, while the second deposit is in flight")
	flag.IntVar(&c.crashChannel, "crash-channel", 6, "the channel whose funding -crash-during-funding interrupts")
	flag.StringVar(&c.metrics, "metrics", "", "serve the store's metrics for Prometheus at http://`ADDR`/metrics (such as :9090), and after the scenario go on serving them until interrupted")
	flag.Parse()
	if flag.NArg() > 0 || c.channels < 1 || (c.crash && (c.crashChannel < 1 || c.crashChannel > c.channels)) {
		fmt.Fprintln(os.Stderr, "paymentchannel: bad arguments: -channels >= 1, and with -crash-during-funding 1 <= -crash-channel <= -channels; see -help")
		os.Exit(2)
	}
	if c.dir == "" {
		tmp, err := os.MkdirTemp("", "paymentchannel-")
		if err != nil {
			fmt.Fprintf(os.Stderr, "paymentchannel: %v\n", err)
			os.Exit(1)
		}
		c.dir = tmp
	}
	// Ctrl-C or SIGTERM cancels the context: the scenario stops at its
	// next append, or the metrics server stops, and the store is closed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, c)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "paymentchannel: %v\n", err)
		os.Exit(1)
	}
}

// run opens (and recovers) the store, checks what survived, and runs the
// plan to its end, or to the crash. With c.metrics, it serves the store's
// metrics from the Open on, and after the scenario until ctx is done; the
// server stops before the store closes.
func run(ctx context.Context, w io.Writer, c config) (err error) {
	out := &printer{w: w}
	storeDir := filepath.Join(c.dir, "store")
	ledger := NewLedger()
	opts := []eventstore.Option{eventstore.WithStateMachine(ledger), eventstore.WithSnapshotPolicy(eventstore.EveryN(snapshotEvery))}
	if c.backend != "" {
		if _, serr := os.Stat(filepath.Join(storeDir, "STORE")); serr != nil {
			opts = append(opts, eventstore.WithBackend(c.backend))
		}
	}
	out.printf("workspace: %s\n", c.dir)
	store, err := eventstore.Open(storeDir, opts...)
	if err != nil {
		return fmt.Errorf("open the store: %w", err)
	}
	defer func() {
		if cerr := store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close the store: %w", cerr)
		}
	}()
	if c.metrics != "" {
		ms, serr := serveMetrics(store, c.metrics)
		if serr != nil {
			return fmt.Errorf("serve the metrics on %s: %w", c.metrics, serr)
		}
		defer func() {
			if cerr := ms.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("stop the metrics server: %w", cerr)
			}
		}()
		out.printf("metrics: %s\n", ms.URL())
	}
	rec := store.LastRecovery()
	out.printf("opened a %s store: head %d\n", store.Backend(), store.Head())
	if rec.Head > 0 {
		out.printf("recovered: snapshot at offset %d restored, %d events replayed after it, %d snapshots skipped, in %v\n",
			rec.SnapshotOffset, rec.EventsReplayed, len(rec.Skipped), rec.Duration.Round(time.Millisecond))
	}

	journal := filepath.Join(c.dir, "acks.log")
	plan := buildPlan(c.channels, c.crashChannel)
	if err := checkJournal(ctx, out, store, plan, journal); err != nil {
		return err
	}
	if err := checkBalances(ctx, out, store, ledger, "after opening"); err != nil {
		return err
	}
	j, err := os.OpenFile(journal, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open the journal: %w", err)
	}
	defer j.Close()
	if err := runPlan(ctx, out, store, plan, j, c.crash); err != nil {
		return err
	}
	want, err := expectedBalances(plan)
	if err != nil {
		return err
	}
	if err := checkBalances(ctx, out, store, ledger, "at the end"); err != nil {
		return err
	}
	if !ledger.Balances().equal(want) {
		return fmt.Errorf("the balances differ from the scenario's:\n%s", want)
	}
	out.printf("the balances are the scenario's: every append committed exactly once\n")
	if c.metrics != "" && out.err == nil {
		out.printf("serving the metrics until interrupted\n")
		<-ctx.Done()
		out.printf("interrupted: stopping the metrics server and closing the store\n")
	}
	return out.err
}

// runPlan makes the plan's appends. Those already committed, before a crash,
// are recognised as retries. With crash, it kills the process in the middle
// of the funding of the crash channel.
func runPlan(ctx context.Context, out *printer, store *eventstore.Store, plan []step, journal io.Writer, crash bool) error {
	before := store.Head()
	var written, retried int
	for _, s := range plan {
		if crash && s.crashPoint && eventstore.Offset(s.n) > before {
			crashNow(ctx, out, store, s, journal)
		}
		res, err := store.Append(ctx, s.stream, s.expected, s.event)
		if err != nil {
			return fmt.Errorf("step %d (%s): %w", s.n, s.what, err)
		}
		if res.Last <= before {
			retried++
			continue
		}
		written++
		// The journal records each acknowledged append, after the
		// acknowledgement: a crash may lose the last line, never add one.
		if _, err := fmt.Fprintf(journal, "ack %d %d\n", s.n, res.Last); err != nil {
			return fmt.Errorf("write the journal: %w", err)
		}
		switch {
		case s.event.Type == ChannelOpened:
			out.printf("%s: offset %d\n", s.what, res.Last)
		case s.event.Type == FundsDeposited:
			out.printf("%s: acknowledged at offset %d\n", s.what, res.Last)
		case s.expected == eventstore.ExpectedVersion(2+paymentsPerChannel):
			out.printf("%s: %d payments, up to offset %d\n", s.stream, paymentsPerChannel, res.Last)
		}
	}
	out.printf("scenario: %d appends in the plan; %d written now, %d already committed (recognised as retries, not written again)\n",
		len(plan), written, retried)
	out.printf("head %d\n", store.Head())
	return nil
}

// crashNow starts the append of s, a deposit that completes a funding, and
// kills the process while it is in flight: it may or may not commit, and it
// is not acknowledged.
func crashNow(ctx context.Context, out *printer, store *eventstore.Store, s step, journal io.Writer) {
	out.printf("%s: in flight\n", s.what)
	out.printf("SIGKILL in the middle of the funding of %s (head %d)\n", s.stream, store.Head())
	_, _ = fmt.Fprintf(journal, "inflight %d\n", s.n)
	go func() { _, _ = store.Append(ctx, s.stream, s.expected, s.event) }()
	// A random moment: before the commit, during it or after it.
	time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal ends the process
}

// checkJournal checks that every append the journal says was acknowledged
// is in the log, at the offset it was acknowledged with, and reports what
// became of the append in flight at a crash.
func checkJournal(ctx context.Context, out *printer, store *eventstore.Store, plan []step, path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open the journal: %w", err)
	}
	defer f.Close()
	acked, inflight := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 3 && fields[0] == "ack":
			n, _ := strconv.Atoi(fields[1])
			off, _ := strconv.ParseUint(fields[2], 10, 64)
			if n < 1 || n > len(plan) {
				return fmt.Errorf("the journal names step %d, the plan has %d", n, len(plan))
			}
			recs, err := store.ReadLog(ctx, eventstore.Offset(off), 1)
			if err != nil {
				return err
			}
			if len(recs) == 0 || recs[0].ID != plan[n-1].event.ID {
				return fmt.Errorf("LOST: step %d (%s) was acknowledged at offset %d, and the log does not hold it", n, plan[n-1].what, off)
			}
			acked++
			inflight = 0
		case len(fields) == 2 && fields[0] == "inflight":
			inflight, _ = strconv.Atoi(fields[1])
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read the journal: %w", err)
	}
	out.printf("journal: %d acknowledged appends, all in the log\n", acked)
	if inflight > 0 && inflight <= len(plan) {
		s := plan[inflight-1]
		recs, err := store.ReadStream(ctx, s.stream, uint64(s.expected)+1, 1)
		if err != nil {
			return err
		}
		state := "absent: it never committed, and the scenario will append it"
		if len(recs) == 1 && recs[0].ID == s.event.ID {
			state = fmt.Sprintf("present at offset %d: it committed before the kill, unacknowledged", recs[0].Offset)
		}
		out.printf("the append in flight at the crash (%s): %s\n", s.what, state)
	}
	return nil
}

// checkBalances compares the state machine's balances with the balances
// folded from the whole log.
func checkBalances(ctx context.Context, out *printer, store *eventstore.Store, ledger *Ledger, when string) error {
	recs, err := store.ReadLog(ctx, 1, 0)
	if err != nil {
		return fmt.Errorf("read the log: %w", err)
	}
	folded, err := fold(recs)
	if err != nil {
		return fmt.Errorf("fold the log: %w", err)
	}
	sm := ledger.Balances()
	out.printf("balances %s, from the state machine (snapshot + replay):\n%s", when, sm)
	out.printf("balances %s, folded from the %d events of the log:\n%s", when, len(recs), folded)
	if !sm.equal(folded) {
		out.printf("consistent: NO\n")
		return errors.New("the state machine's balances differ from the log's")
	}
	out.printf("consistent: yes\n")
	return nil
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
