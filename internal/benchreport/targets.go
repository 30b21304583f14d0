package benchreport

import (
	"fmt"
	"slices"

	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/benchsuite"
	"github.com/durablelog/eventstore/benchsuite/peers"
	"github.com/durablelog/eventstore/benchsuite/rocksloop"
)

// TargetResult is one target on one backend.
type TargetResult struct {
	// ID is short and stable, for example "sync-16".
	ID string `json:"id"`
	// Title says what is measured; Formula how.
	Title   string `json:"title"`
	Formula string `json:"formula"`
	Backend string `json:"backend"`
	// Value is the measured figure over the repeats: for a ratio, the
	// ratio within each repeat, then their median and range.
	Value Summary `json:"value"`
	// Op and Threshold state the target, "≥ 0.9" for example; Op is empty
	// for a figure given for information only.
	Op        string  `json:"op,omitempty"`
	Threshold float64 `json:"threshold,omitempty"`
	// Unit of Value and Threshold: "×", "events/s", "ms" or "s".
	Unit string `json:"unit"`
	// Status is "pass", "FAIL", "info" (no threshold, or the memory
	// engine, which is a ceiling and not held to the targets), or
	// "not measured" (a workload did not run or failed).
	Status string `json:"status"`
	// Note is the maintainers' explanation of the figure, from notes.json
	// (see Notes), empty when they have written none.
	Note string `json:"note,omitempty"`
}

// Target statuses.
const (
	StatusPass        = "pass"
	StatusFail        = "FAIL"
	StatusInfo        = "info"
	StatusNotMeasured = "not measured"
)

// ceilingBackend is held to no target: it is the ceiling, with no disk.
const ceilingBackend = "memory"

// metric names a figure of a workload's samples: "events/s", "p50-ms"
// (the median latency: for a restart workload, the median Open of the
// run, which the slow first Open after the log was written does not
// sway), or a key of its Extra. backend, when set, takes the figure from
// that backend's or peer's samples (the disk, a peer) rather than the
// target's backend.
type metric struct {
	workload, name, backend string
}

func (m metric) value(s Sample) (float64, bool) {
	if s.Err != "" {
		return 0, false
	}
	switch m.name {
	case "events/s":
		return s.EventsPerSec, s.EventsPerSec > 0
	case "p50-ms":
		return s.P50us / 1000, s.P50us > 0
	}
	v, ok := s.Extra[m.name]
	return v, ok
}

func (m metric) String() string {
	s := m.workload
	if m.name != "events/s" {
		s += " " + m.name
	}
	if m.backend != "" {
		s += " (" + m.backend + ")"
	}
	return s
}

// targetDef defines a target: num / den (or num alone when den is unset),
// passed through fn when set, compared with op and threshold. It applies
// to every backend, or only to engines (engines: not to log backends,
// which have no raw engine), or only to the backends of only.
type targetDef struct {
	id, title string
	num, den  metric
	fn        func(float64) float64
	fnText    string // describes fn in the formula, with %s for the value
	op        string
	threshold float64
	unit      string
	engines   bool
	only      []string
}

// appliesTo reports whether d is evaluated on backend b.
func (d targetDef) appliesTo(b string, logBackends []string) bool {
	if d.engines && slices.Contains(logBackends, b) {
		return false
	}
	return len(d.only) == 0 || slices.Contains(d.only, b)
}

var (
	restart10KSnap = benchsuite.RestartWorkload(10_000, true).Name
	restart1MSnap  = benchsuite.RestartWorkload(1_000_000, true).Name
	restart1MNone  = benchsuite.RestartWorkload(1_000_000, false).Name
	processes      = ProcessesWorkloadName(Processes, ProcessWriters)
)

func rate(w benchsuite.Workload) metric { return metric{workload: w.Name, name: "events/s"} }

// rateOf is the rate of workload w measured on the peer or baseline b.
func rateOf(w benchsuite.Workload, b string) metric {
	return metric{workload: w.Name, name: "events/s", backend: b}
}

// timeFor10K turns an event rate into the seconds 10,000 events take.
func timeFor10K(rate float64) float64 { return 10_000 / rate }

// limitNote is the title's ending of the figures against the physical
// limit.
const limitNote = "the physical limit: hand-written group commit, preallocated file, fdatasync"

// targetDefs are the targets, in table order, and a few figures for
// information.
var targetDefs = []targetDef{
	{id: "sync-1", title: "One writer, Sync, 1 event per append, vs the raw engine's synced single writes",
		num: rate(benchsuite.AppendSync1), den: rate(benchsuite.RawSync1), op: "≥", threshold: 0.9, unit: "×", engines: true},
	{id: "sync-16", title: "16 writers, Sync, vs the raw engine with 16 synced writers",
		num: rate(benchsuite.AppendSync16), den: rate(benchsuite.RawSync16), op: "≥", threshold: 1.0, unit: "×", engines: true},
	{id: "sync-16-limit", title: "16 writers, Sync, vs " + limitNote + ", 16 writers",
		num: rate(benchsuite.AppendSync16), den: rateOf(benchsuite.AppendSync16, DiskBackend), unit: "×"},
	{id: "sync-64", title: "64 writers, Sync, vs the raw engine with 64 synced writers",
		num: rate(benchsuite.AppendSync64), den: rate(benchsuite.RawSync64), op: "≥", threshold: 1.0, unit: "×", engines: true},
	{id: "sync-64-limit", title: "64 writers, Sync, vs " + limitNote + ", 64 writers",
		num: rate(benchsuite.AppendSync64), den: rateOf(benchsuite.AppendSync64, DiskBackend), unit: "×"},
	{id: "sync-64-rate", title: "64 writers, Sync",
		num: rate(benchsuite.AppendSync64), op: "≥", threshold: 40_000, unit: "events/s"},
	{id: "seed-16", title: "Seed's bar: 10,000 Sync events by 16 writers",
		num: rate(benchsuite.AppendSync16), fn: timeFor10K, fnText: "10,000 / %s", op: "<", threshold: 2, unit: "s"},
	{id: "seed-batch-100", title: "Seed's bar: 10,000 Sync events in appends of 100",
		num: rate(benchsuite.AppendSyncBatch100), fn: timeFor10K, fnText: "10,000 / %s", op: "<", threshold: 2, unit: "s"},
	{id: "batch-100", title: "Appends of 100, Sync, vs the raw engine's synced batches of 100",
		num: rate(benchsuite.AppendSyncBatch100), den: rate(benchsuite.RawSyncBatch100), op: "≥", threshold: 0.8, unit: "×", engines: true},
	{id: "scan", title: "Full log scan, checksums checked, vs the engine's own ordered iterator",
		num: rate(benchsuite.ReadScan), den: rate(benchsuite.RawScan), op: "≥", threshold: 0.7, unit: "×", engines: true},
	{id: "scan-grocksdb", title: "Full log scan vs a plain grocksdb iterator loop (RocksDB)",
		num: rate(benchsuite.ReadScan), den: rate(rocksloop.Scan), op: "≥", threshold: 1.5, unit: "×", engines: true, only: []string{rocksloop.Engine}},
	{id: "replay", title: "Replay (restart without snapshots, 1M events) vs the engine's own ordered iterator",
		num: metric{workload: restart1MNone, name: "events/s"}, den: rate(benchsuite.RawScan), op: "≥", threshold: 0.7, unit: "×", engines: true},
	{id: "restart-1M", title: "Restart at 1M events, snapshots every 1000 (median Open of each run)",
		num: metric{workload: restart1MSnap, name: "p50-ms"}, op: "≤", threshold: 100, unit: "ms"},
	{id: "restart-1M-vs-10K", title: "Restart at 1M vs at 10K events, snapshots every 1000 (median Open of each run)",
		num: metric{workload: restart1MSnap, name: "p50-ms"}, den: metric{workload: restart10KSnap, name: "p50-ms"}, op: "≤", threshold: 2, unit: "×"},
	{id: "state-machine", title: "One writer, Sync, with a state machine vs without (at most 10% slower)",
		num: rate(benchsuite.AppendSync1SM), den: rate(benchsuite.AppendSync1), op: "≥", threshold: 0.9, unit: "×"},
	{id: "group-commit", title: "16 writers, Sync: group commit vs one commit per append",
		num: rate(benchsuite.AppendSync16), den: rate(benchsuite.AppendSync16NoGroup), unit: "×"},
	{id: "head-mark", title: "Head mark cost: one writer, Sync, with the head mark vs without",
		num: rate(benchsuite.AppendSync1), den: rate(benchsuite.AppendSync1NoMark), unit: "×", engines: true},
	{id: "metrics", title: "Metrics cost: one writer, Sync, with the metrics vs without (BenchmarkMetricsPerAppend measures the CPU cost: about 150 ns per append)",
		num: rate(benchsuite.AppendSync1), den: rate(benchsuite.AppendSync1NoMetrics), unit: "×"},
	{id: "disk-1", title: "One writer, Sync, vs the disk's write+fsync loop",
		num: rate(benchsuite.AppendSync1), den: rateOf(benchsuite.DiskSync, DiskBackend), unit: "×"},
	{id: "pg-16", title: "PostgreSQL: 16 writers, Sync, vs plain pgx on 16 connections (INSERT + COMMIT of one row)",
		num: rate(benchsuite.AppendSync16), den: rateOf(benchsuite.AppendSync16, peers.PgxName), op: "≥", threshold: 1.5, unit: "×", only: []string{postgres.Name}},
	{id: "pg-batch-100", title: "PostgreSQL: appends of 100, Sync, vs plain pgx inserting 100 rows per COMMIT",
		num: rate(benchsuite.AppendSyncBatch100), den: rateOf(benchsuite.AppendSyncBatch100, peers.PgxName), op: "≥", threshold: 0.8, unit: "×", only: []string{postgres.Name}},
	{id: "pg-processes", title: "PostgreSQL: 4 processes × 16 writers on one schema (total) vs one process with 16 writers",
		num: metric{workload: processes, name: "events/s"}, den: rate(benchsuite.AppendSync16), op: "≥", threshold: 1.0, unit: "×", only: []string{postgres.Name}},
	{id: "pg-processes-64", title: "PostgreSQL: 4 processes × 16 writers (total) vs one process with 64 writers",
		num: metric{workload: processes, name: "events/s"}, den: rate(benchsuite.AppendSync64), unit: "×", only: []string{postgres.Name}},
}

func (d targetDef) formula() string {
	f := d.num.String()
	if d.den.workload != "" {
		f += " ÷ " + d.den.String()
	}
	if d.fnText != "" {
		f = fmt.Sprintf(d.fnText, f)
	}
	return f
}

// sampleIndex finds a sample by workload, backend and repeat.
type sampleIndex struct {
	m       map[sampleKey]Sample
	repeats int
}

type sampleKey struct {
	w, b string
	r    int
}

func indexSamples(samples []Sample) sampleIndex {
	idx := sampleIndex{m: make(map[sampleKey]Sample, len(samples))}
	for _, s := range samples {
		idx.m[sampleKey{s.Workload, s.Backend, s.Repeat}] = s
		idx.repeats = max(idx.repeats, s.Repeat)
	}
	return idx
}

// values returns, per repeat where both were measured, num on backend nb
// over den on db (num alone when den has no workload).
func (idx sampleIndex) values(num metric, nb string, den metric, db string) []float64 {
	var vals []float64
	for r := 1; r <= idx.repeats; r++ {
		ns, ok := idx.m[sampleKey{num.workload, nb, r}]
		if !ok {
			continue
		}
		v, ok := num.value(ns)
		if !ok {
			continue
		}
		if den.workload != "" {
			ds, ok := idx.m[sampleKey{den.workload, db, r}]
			if !ok {
				continue
			}
			dv, ok := den.value(ds)
			if !ok || dv == 0 {
				continue
			}
			v /= dv
		}
		vals = append(vals, v)
	}
	return vals
}

// EvaluateTargets computes every target on every backend it applies to
// from samples; logBackends are the backends that are whole logs, to
// which the targets against the raw engine do not apply. A ratio pairs the
// two workloads' samples of the same repeat.
func EvaluateTargets(samples []Sample, backends, logBackends []string) []TargetResult {
	idx := indexSamples(samples)
	var out []TargetResult
	for _, d := range targetDefs {
		for _, b := range backends {
			if !d.appliesTo(b, logBackends) {
				continue
			}
			nb, db := b, b
			if d.num.backend != "" {
				nb = d.num.backend
			}
			if d.den.backend != "" {
				db = d.den.backend
			}
			vals := idx.values(d.num, nb, d.den, db)
			if d.fn != nil {
				for i, v := range vals {
					vals[i] = d.fn(v)
				}
			}
			t := TargetResult{
				ID: d.id, Title: d.title, Formula: d.formula(), Backend: b,
				Value: Summarize(vals), Op: d.op, Threshold: d.threshold, Unit: d.unit,
			}
			t.Status = judge(t.Value, d.op, d.threshold)
			if t.Status != StatusNotMeasured && (d.op == "" || b == ceilingBackend) {
				t.Status = StatusInfo
			}
			out = append(out, t)
		}
	}
	return out
}

// judge compares the median with the threshold.
func judge(v Summary, op string, threshold float64) string {
	if !v.Valid() {
		return StatusNotMeasured
	}
	var ok bool
	switch op {
	case "≥":
		ok = v.Median >= threshold
	case "≤":
		ok = v.Median <= threshold
	case "<":
		ok = v.Median < threshold
	default:
		return StatusInfo
	}
	if ok {
		return StatusPass
	}
	return StatusFail
}
