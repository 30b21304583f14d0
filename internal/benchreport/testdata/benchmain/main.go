// Command benchmain stands in for `eventstore bench` while the CLI is
// written elsewhere: it has the same flags and the same child routing. It
// lives under testdata so that `go build ./...` skips it; build it with
//
//	go build -o /tmp/benchmain ./internal/benchreport/testdata/benchmain
//
// and run `/tmp/benchmain bench --backends rocksdb,pebble --out DIR`, or
// `/tmp/benchmain render DIR/results.json DIR` to write a report again from
// its results.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"

	_ "github.com/durablelog/eventstore/backends/badger"
	_ "github.com/durablelog/eventstore/backends/memory"
	_ "github.com/durablelog/eventstore/backends/pebble"
	_ "github.com/durablelog/eventstore/backends/rocksdb"
	_ "github.com/durablelog/eventstore/backends/sqlite"
	"github.com/durablelog/eventstore/internal/benchreport"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "bench" && os.Args[2] == "--child" {
		os.Exit(benchreport.ChildMain(os.Args[3:]))
	}
	if len(os.Args) == 4 && os.Args[1] == "render" {
		r, err := benchreport.LoadReport(os.Args[2])
		if err == nil {
			err = r.WriteFiles(os.Args[3])
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) < 2 || os.Args[1] != "bench" {
		fmt.Fprintln(os.Stderr, "usage: benchmain bench [flags] | benchmain render results.json DIR")
		os.Exit(2)
	}
	fl := flag.NewFlagSet("bench", flag.ExitOnError)
	backends := fl.String("backends", "rocksdb,pebble,badger", "engines to compare, comma-separated")
	out := fl.String("out", "adr/reports/backend-comparison", "directory for the report")
	repeats := fl.Int("repeats", benchreport.DefaultRepeats, "runs of each workload on each engine")
	scale := fl.Float64("scale", 1, "multiplies each workload's default size")
	workloads := fl.String("workloads", "", "regular expression: run only the workloads whose name matches")
	logRuns := fl.Bool("log", false, "print one line per finished run on standard error")
	memRepeats := fl.Int("memory-repeats", 0, "runs of each memory workload on each engine (default: --repeats)")
	snapLen := fl.Int("snapshot-length", 0, "log length of the snapshot sweep (default 1,000,000)")
	force := fl.Bool("force", os.Getenv("BENCH_FORCE") != "" && os.Getenv("BENCH_FORCE") != "0", "run even when the machine is busy (also BENCH_FORCE=1)")
	maxLoad := fl.Float64("max-load", benchreport.DefaultMaxLoad(), "refuse to start above this 1-minute load average")
	pgDSN := fl.String("pg-dsn", "", "the PostgreSQL server of the postgres backend (default: a throwaway one)")
	sizes := map[string]int{}
	fl.Func("n", "NAME=N: run workload NAME with size N (repeatable)", func(v string) error {
		name, n, ok := strings.Cut(v, "=")
		i, err := strconv.Atoi(n)
		if !ok || err != nil {
			return fmt.Errorf("want NAME=N, got %q", v)
		}
		sizes[name] = i
		return nil
	})
	_ = fl.Parse(os.Args[2:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := benchreport.Config{
		Backends: strings.Split(*backends, ","), OutDir: *out, Repeats: *repeats, Scale: *scale,
		Filter: *workloads, N: sizes, Progress: os.Stderr,
		MemoryRepeats: *memRepeats, SnapshotLength: *snapLen,
		Force: *force, MaxLoad: *maxLoad, PostgresDSN: *pgDSN,
	}
	if *logRuns {
		cfg.Log = os.Stderr
	}
	rep, err := benchreport.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "eventstore bench:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s/%s in %s\n", *out, benchreport.ReportFile, rep.Wall.Round(1e9))
}
