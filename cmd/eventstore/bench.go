package main

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/durablelog/eventstore"
	// The comparison report runs every engine; the others are imported by
	// main.go, and postgres by benchreport.
	_ "github.com/durablelog/eventstore/backends/sqlite"
	"github.com/durablelog/eventstore/internal/benchreport"
	"github.com/spf13/cobra"
)

const benchLong = `Measure appends on an engine: --writers goroutines append --events events in
appends of --batch events each, spread over --streams streams, with
--data-size bytes of data per event, and the command prints events/s, MB/s and
the latency of one append (p50, p99).

It runs in a new temporary directory, removed at the end, or in --dir, which
must not hold a store yet and is kept (a way to make a large store for
trying the other commands). --backend chooses the engine (default rocksdb;
memory is the ceiling): rocksdb, pebble, badger, sqlite or memory; bench
refuses postgres, whose throwaway store would land in a shared schema.

This is the quick measurement. With --backends, the command writes the full
comparison report instead (package internal/benchreport): every workload on
every named backend, beside the raw engines, the physical limit of the disk
and the peers (SQLite, bbolt, tidwall/wal; plain pgx for postgres), repeated,
with the targets table and charts, into --out. It refuses to start when the
1-minute load average is above --max-load (0.75 per core by default):
--force, or BENCH_FORCE=1 in the environment, runs anyway, and the report
then says that it was taken under load. With postgres among the backends it
starts a throwaway PostgreSQL server unless --pg-dsn names one. --rewrite
writes the report in --out again from its results.json, for example after an
edit of the targets' notes.`

const benchExample = `  eventstore bench --backend pebble
  eventstore bench --backend rocksdb --events 1000000 --batch 100 --writers 4 --dir /tmp/events-1m
  eventstore bench --backends pebble,memory --out /tmp/report --repeats 1 --scale 0.01 --workloads '^append/sync/16'
  eventstore bench --rewrite --out adr/reports/backend-comparison`

type benchOptions struct {
	events   int
	batch    int
	writers  int
	streams  int
	dataSize int
	noSync   bool
}

// benchResult is bench's output.
type benchResult struct {
	Backend       string  `json:"backend"`
	Dir           string  `json:"dir,omitempty"`
	Durability    string  `json:"durability"`
	Events        int     `json:"events"`
	Batch         int     `json:"batch"`
	Writers       int     `json:"writers"`
	Streams       int     `json:"streams"`
	DataSize      int     `json:"data_size"`
	Seconds       float64 `json:"seconds"`
	EventsPerSec  float64 `json:"events_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
	AppendP50Usec float64 `json:"append_p50_us"`
	AppendP99Usec float64 `json:"append_p99_us"`
}

func newBenchCmd(a *app) *cobra.Command {
	o := benchOptions{events: 100_000, batch: 10, writers: 4, streams: 100, dataSize: 100}
	var r struct {
		backends      []string
		out, filter   string
		repeats       int
		memoryRepeats int
		scale         float64
		snapshotLen   int
		force         bool
		maxLoad       float64
		pgDSN         string
		rewrite       bool
		logRuns       bool
		sizes         map[string]int
	}
	c := &cobra.Command{
		Use:     "bench [--events N] [--batch N] [--writers N] [--streams N] [--data-size BYTES]",
		Short:   "Measure append throughput and latency on an engine",
		Long:    benchLong,
		Example: benchExample,
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if r.rewrite {
				rep, err := benchreport.LoadReport(filepath.Join(r.out, benchreport.JSONFile))
				if err != nil {
					return err
				}
				if err := rep.WriteFiles(r.out); err != nil {
					return err
				}
				a.printf("wrote %s\n", filepath.Join(r.out, benchreport.ReportFile))
				return nil
			}
			if len(r.backends) > 0 {
				cfg := benchreport.Config{Backends: r.backends, OutDir: r.out, Repeats: r.repeats, MemoryRepeats: r.memoryRepeats,
					Scale: r.scale, Filter: r.filter, SnapshotLength: r.snapshotLen,
					MaxLoad: r.maxLoad, Force: r.force || benchForced(os.Getenv("BENCH_FORCE")), PostgresDSN: r.pgDSN, N: r.sizes}
				if a.progress != "never" {
					cfg.Progress = a.stderr // a bar only when it is a terminal
				}
				if r.logRuns {
					cfg.Log = a.stderr
				}
				rep, err := benchreport.Run(c.Context(), cfg)
				if err != nil {
					return err
				}
				if rep.Load.Forced {
					a.printf("warning: taken under load (1-minute load average %.2f at the start, limit %.2f): the report says so\n", rep.Load.AtStart[0], rep.Load.Limit)
				}
				a.printf("wrote %s in %s\n", filepath.Join(r.out, benchreport.ReportFile), rep.Wall.Round(time.Second))
				return nil
			}
			if o.events < 1 || o.batch < 1 || o.writers < 1 || o.streams < 1 || o.dataSize < 0 {
				return usageErrorf("--events, --batch, --writers and --streams must be at least 1, --data-size at least 0")
			}
			return runBench(c.Context(), a, o)
		},
	}
	f := c.Flags()
	f.IntVar(&o.events, "events", o.events, "how many events to append")
	f.IntVar(&o.batch, "batch", o.batch, "events per append")
	f.IntVar(&o.writers, "writers", o.writers, "concurrent appenders")
	f.IntVar(&o.streams, "streams", o.streams, "streams to spread the events over")
	f.IntVar(&o.dataSize, "data-size", o.dataSize, "bytes of data per event")
	f.BoolVar(&o.noSync, "nosync", false, "acknowledge appends without fsync (NoSync)")
	f.StringSliceVar(&r.backends, "backends", nil, "write the comparison report instead: run the benchmark suite on these engines")
	f.StringVar(&r.out, "out", "adr/reports/backend-comparison", "with --backends: the report's directory")
	f.IntVar(&r.repeats, "repeats", benchreport.DefaultRepeats, "with --backends: runs of each workload on each engine")
	f.IntVar(&r.memoryRepeats, "memory-repeats", 1, "with --backends: runs of each peak-memory workload (each in a child process)")
	f.Float64Var(&r.scale, "scale", 1, "with --backends: multiplies each workload's default size (0.01: a smoke run)")
	f.IntVar(&r.snapshotLen, "snapshot-length", 100_000, "with --backends: the log length of the snapshot-policy sweep")
	f.StringVar(&r.filter, "workloads", "", "with --backends: regexp; only matching workloads run")
	f.BoolVar(&r.force, "force", false, "with --backends: run even when the machine is busy (also BENCH_FORCE=1); the report says it was taken under load")
	f.Float64Var(&r.maxLoad, "max-load", benchreport.DefaultMaxLoad(), "with --backends: refuse to start above this 1-minute load average")
	f.StringVar(&r.pgDSN, "pg-dsn", "", "with --backends and postgres: the server to use (default: a throwaway server for the run)")
	f.BoolVar(&r.rewrite, "rewrite", false, "write the report in --out again from its results.json (after editing the notes)")
	f.BoolVar(&r.logRuns, "log", false, "with --backends: print one line per finished run on standard error")
	f.StringToIntVar(&r.sizes, "n", nil, "with --backends: NAME=N runs workload NAME with size N (repeatable)")
	return c
}

// benchForced reads BENCH_FORCE: set to anything but "", "0" or "false".
func benchForced(v string) bool {
	v = strings.TrimSpace(strings.ToLower(v))
	return v != "" && v != "0" && v != "false" && v != "no"
}

func runBench(ctx context.Context, a *app, o benchOptions) (err error) {
	name := a.backend
	if name == "" {
		name = eventstore.DefaultBackend
	}
	if err := checkEngine(name, "bench", "it writes a throwaway store, which on PostgreSQL would land in a shared schema"); err != nil {
		return err
	}
	dir := a.dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "eventstore-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := checkEmptyDest(dir, "--dir"); err != nil {
		return err
	}
	durability := eventstore.Sync
	if o.noSync {
		durability = eventstore.NoSync
	}
	s, err := eventstore.Open(dir, eventstore.WithBackend(name), eventstore.WithDurability(durability))
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	res, err := bench(ctx, a, s, o)
	if err != nil {
		return err
	}
	res.Backend, res.Durability = name, durability.String()
	if a.dir != "" {
		res.Dir = a.dir
	}
	if a.json {
		return a.printJSON(res)
	}
	a.printf("%s, %s: %d events in appends of %d, %d writers, %d streams, %d-byte data\n",
		res.Backend, res.Durability, res.Events, res.Batch, res.Writers, res.Streams, res.DataSize)
	a.printf("%.0f events/s, %.1f MB/s, %.2fs; append latency p50 %.0fµs, p99 %.0fµs\n",
		res.EventsPerSec, res.MBPerSec, res.Seconds, res.AppendP50Usec, res.AppendP99Usec)
	return nil
}

// bench runs the appends and measures them.
func bench(ctx context.Context, a *app, s *eventstore.Store, o benchOptions) (benchResult, error) {
	res := benchResult{Events: o.events, Batch: o.batch, Writers: o.writers, Streams: o.streams, DataSize: o.dataSize}
	appends := (o.events + o.batch - 1) / o.batch
	var (
		next    atomic.Int64 // the next append to make
		wg      sync.WaitGroup
		errOnce sync.Once
		firstEr error
		lat     = make([][]time.Duration, o.writers)
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b := a.newBar(int64(o.events), "bench", "ev")
	start := time.Now()
	for w := range o.writers {
		wg.Go(func() {
			// Each event gets its own random data, as real events would:
			// identical payloads would flatter the engines' compression.
			var seed [32]byte
			_, _ = rand.Read(seed[:])
			src := mrand.NewChaCha8(seed)
			for {
				i := int(next.Add(1) - 1)
				if i >= appends {
					return
				}
				n := min(o.batch, o.events-i*o.batch)
				events := make([]eventstore.Event, n)
				data := make([]byte, n*o.dataSize)
				_, _ = src.Read(data)
				for j := range events {
					events[j] = eventstore.Event{Type: "BenchEvent", Data: data[j*o.dataSize : (j+1)*o.dataSize]}
				}
				t := time.Now()
				_, err := s.Append(ctx, fmt.Sprintf("bench-%d", i%o.streams), eventstore.Any, events...)
				if err != nil {
					errOnce.Do(func() { firstEr = err; cancel() })
					return
				}
				lat[w] = append(lat[w], time.Since(t))
				b.add(int64(n))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstEr != nil {
		b.stop()
		return res, fmt.Errorf("bench: %w", firstEr)
	}
	b.done()
	all := slices.Concat(lat...)
	slices.Sort(all)
	res.Seconds = elapsed.Seconds()
	res.EventsPerSec = float64(o.events) / elapsed.Seconds()
	res.MBPerSec = float64(o.events) * float64(o.dataSize) / elapsed.Seconds() / 1e6
	res.AppendP50Usec = float64(all[len(all)/2].Microseconds())
	res.AppendP99Usec = float64(all[len(all)*99/100].Microseconds())
	return res, nil
}
