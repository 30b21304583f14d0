// Package benchreport runs the shared benchmark workloads (package
// benchsuite) on several backends, beside the baselines that use none, and
// writes the comparison report: a Markdown page, PNG charts, the raw results
// as JSON and CSV, and the machine's details. It is the body of `eventstore
// bench --backends`.
//
// # A quiet machine
//
// Run refuses to start, with an error wrapping ErrBusy, when the 1-minute
// load average is above Config.MaxLoad (0.75 per core by default: 1.5 on 2
// cores), because its figures would measure the other work as much as the
// store. Config.Force runs anyway; the report then says at its top, and in
// results.json (Report.Load), that it was taken under load. The 1, 5 and
// 15-minute load averages before and after every run are recorded in its
// Sample and summarized per workload in the report.
//
// # Method
//
// Run repeats every workload on every backend Config.Repeats times. Within a
// repeat each workload runs on each backend in turn, in an order that rotates
// from one repeat to the next, so that a burst of machine noise lands on all
// backends rather than on one. Every figure is reported as the median over
// the repeats with its spread (min and max, and the quartiles in
// results.json). The targets are ratios between two workloads measured in
// the same repeat (for example the event store's synced 16-writer rate over
// the raw engine's): each repeat gives one ratio, and the report gives their
// median and range.
//
// A workload runs on the backends it says it runs on
// (benchsuite.Workload.RunsOn): the raw engine workloads not on postgres,
// which is a whole log rather than an engine. The workloads that use no
// backend (Standalone) run once per repeat and are reported under their own
// name: the disk baselines and the physical limit ("disk"), and the peers of
// package peers, which a Go user would write instead of the store (SQLite,
// bbolt, tidwall/wal; plain pgx for postgres). With postgres among the
// backends, Run starts a throwaway PostgreSQL server (internal/pgtest) unless
// Config.PostgresDSN names one, gives every store a schema of its own, and
// runs ProcessesWorkload, in which several child processes append to one
// schema.
//
// # The report
//
// Besides a table per group of workloads, the report has: the targets, each
// with its formula, threshold, value per backend and status, and, for a
// missed one, the maintainers' explanation from notes.json (or a place for
// it); every backend and peer against the physical limit, as a table and as
// a chart normalised to the limit; every backend against the memory engine,
// the yardstick; and the load during the run.
//
// # Memory
//
// Peak resident memory can only be measured in a process that runs nothing
// else, so the memory workloads (benchsuite.MemoryWorkloads) each run in a
// child process: Run starts Config.ChildCommand, by default the current
// executable with the arguments
//
//	bench --child --workload NAME --backend NAME --n N --dir DIR
//
// and the program must route them to ChildMain (see ChildArgs). ChildMain
// runs the one workload and prints its sample, with the process's peak RSS,
// as one line of JSON. The processes of ProcessesWorkload go through
// ChildMain too.
//
// # Files
//
// Run writes into Config.OutDir: report.md, results.json (the whole Report),
// results.csv (one row per run), and the charts: limit.png,
// throughput-append.png, throughput-read.png, latency.png, restart.png,
// space.png, snapshots-restart.png, snapshots-overhead.png and memory.png (a
// chart whose workloads did not run is left out). LoadReport reads
// results.json back, and Report.WriteFiles writes the files again from it,
// with the notes of the current notes.json.
package benchreport
