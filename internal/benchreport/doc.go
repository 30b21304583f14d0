// Package benchreport runs the shared benchmark workloads (package
// benchsuite) on several engines and writes the comparison report: a
// Markdown page, PNG charts, the raw results as JSON and CSV, and the
// machine's details. It is the body of `eventstore bench`.
//
// # Method
//
// Run repeats every workload on every engine Config.Repeats times. Within a
// repeat each workload runs on each engine in turn, in an order that rotates
// from one repeat to the next, so that a burst of machine noise lands on all
// engines rather than on one. Every figure is reported as the median over the
// repeats with its spread (min and max, and the quartiles in results.json).
// The targets of issue 5 are ratios between two workloads measured in the
// same repeat on the same engine (for example the event store's synced
// single-writer rate over the raw engine's): each repeat gives one ratio,
// and the report gives their median and range.
//
// The disk baselines (workloads named "disk/...") use no engine; they run
// once per repeat, reported under the backend name "disk".
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
// as one line of JSON.
//
// # Files
//
// Run writes into Config.OutDir: report.md, results.json (the whole Report),
// results.csv (one row per run), and the charts: throughput-append.png,
// throughput-read.png, latency.png, restart.png, space.png,
// snapshots-restart.png, snapshots-overhead.png and memory.png (a chart
// whose workloads did not run is left out). LoadReport reads results.json
// back, and Report.WriteFiles writes the files again from it.
package benchreport
