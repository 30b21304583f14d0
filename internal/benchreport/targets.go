package benchreport

import (
	"fmt"

	"github.com/durablelog/eventstore/benchsuite"
)

// TargetResult is one target of issue 5 (or of issue 3) on one backend.
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
// sway), or a key of its Extra. backend, when set, takes the figure from that backend's
// samples (the disk baselines) rather than the target's backend.
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
	return s
}

// targetDef defines a target: num / den (or num alone when den is unset),
// passed through fn when set, compared with op and threshold.
type targetDef struct {
	id, title string
	num, den  metric
	fn        func(float64) float64
	fnText    string // describes fn in the formula, with %s for the value
	op        string
	threshold float64
	unit      string
}

var (
	restart10KSnap = benchsuite.RestartWorkload(10_000, true).Name
	restart1MSnap  = benchsuite.RestartWorkload(1_000_000, true).Name
	restart1MNone  = benchsuite.RestartWorkload(1_000_000, false).Name
)

func rate(w benchsuite.Workload) metric { return metric{workload: w.Name, name: "events/s"} }

// timeFor10K turns an event rate into the seconds 10,000 events take.
func timeFor10K(rate float64) float64 { return 10_000 / rate }

// targetDefs are the targets of issue 5's "Targets" section, those of
// issue 3 that the same run measures, and a few figures for information.
var targetDefs = []targetDef{
	{id: "sync-1", title: "One writer, Sync, 1 event per append, vs the raw engine's synced single writes",
		num: rate(benchsuite.AppendSync1), den: rate(benchsuite.RawSync1), op: "≥", threshold: 0.9, unit: "×"},
	{id: "sync-16", title: "16 writers, Sync, vs the raw engine with 16 synced writers",
		num: rate(benchsuite.AppendSync16), den: rate(benchsuite.RawSync16), op: "≥", threshold: 1.5, unit: "×"},
	{id: "sync-64", title: "64 writers, Sync",
		num: rate(benchsuite.AppendSync64), op: "≥", threshold: 40_000, unit: "events/s"},
	{id: "seed-16", title: "Seed's bar: 10,000 Sync events by 16 writers",
		num: rate(benchsuite.AppendSync16), fn: timeFor10K, fnText: "10,000 / %s", op: "<", threshold: 2, unit: "s"},
	{id: "seed-batch-100", title: "Seed's bar: 10,000 Sync events in appends of 100",
		num: rate(benchsuite.AppendSyncBatch100), fn: timeFor10K, fnText: "10,000 / %s", op: "<", threshold: 2, unit: "s"},
	{id: "batch-100", title: "Appends of 100, Sync, vs the raw engine's synced batches of 100",
		num: rate(benchsuite.AppendSyncBatch100), den: rate(benchsuite.RawSyncBatch100), op: "≥", threshold: 0.8, unit: "×"},
	{id: "scan", title: "Full log scan, checksums checked, vs the raw engine's ordered scan",
		num: rate(benchsuite.ReadScan), den: rate(benchsuite.RawScan), op: "≥", threshold: 0.7, unit: "×"},
	{id: "restart-1M", title: "Restart at 1M events, snapshots every 1000 (median Open of each run)",
		num: metric{workload: restart1MSnap, name: "p50-ms"}, op: "≤", threshold: 100, unit: "ms"},
	{id: "restart-1M-vs-10K", title: "Restart at 1M vs at 10K events, snapshots every 1000 (median Open of each run)",
		num: metric{workload: restart1MSnap, name: "p50-ms"}, den: metric{workload: restart10KSnap, name: "p50-ms"}, op: "≤", threshold: 2, unit: "×"},
	{id: "replay", title: "Replay without snapshots (issue 3) vs the raw engine's ordered scan",
		num: metric{workload: restart1MNone, name: "events/s"}, den: rate(benchsuite.RawScan), op: "≥", threshold: 0.7, unit: "×"},
	{id: "state-machine", title: "One writer, Sync, with a state machine vs without (issue 3: at most 10% slower)",
		num: rate(benchsuite.AppendSync1SM), den: rate(benchsuite.AppendSync1), op: "≥", threshold: 0.9, unit: "×"},
	{id: "group-commit", title: "16 writers, Sync: group commit vs one commit per append",
		num: rate(benchsuite.AppendSync16), den: rate(benchsuite.AppendSync16NoGroup), unit: "×"},
	{id: "disk-1", title: "One writer, Sync, vs the disk's write+fsync loop",
		num: rate(benchsuite.AppendSync1), den: metric{workload: benchsuite.DiskSync.Name, name: "events/s", backend: DiskBackend}, unit: "×"},
}

func (d targetDef) formula() string {
	f := d.num.String()
	if d.den.workload != "" {
		den := d.den.String()
		if d.den.backend != "" {
			den += " (" + d.den.backend + ")"
		}
		f += " ÷ " + den
	}
	if d.fnText != "" {
		f = fmt.Sprintf(d.fnText, f)
	}
	return f
}

// EvaluateTargets computes every target on every backend from samples. A
// ratio pairs the two workloads' samples of the same repeat.
func EvaluateTargets(samples []Sample, backends []string) []TargetResult {
	type key struct {
		w, b string
		r    int
	}
	idx := map[key]Sample{}
	repeats := 0
	for _, s := range samples {
		idx[key{s.Workload, s.Backend, s.Repeat}] = s
		repeats = max(repeats, s.Repeat)
	}
	var out []TargetResult
	for _, d := range targetDefs {
		for _, b := range backends {
			var vals []float64
			for r := 1; r <= repeats; r++ {
				nb := b
				if d.num.backend != "" {
					nb = d.num.backend
				}
				ns, ok := idx[key{d.num.workload, nb, r}]
				if !ok {
					continue
				}
				v, ok := d.num.value(ns)
				if !ok {
					continue
				}
				if d.den.workload != "" {
					db := b
					if d.den.backend != "" {
						db = d.den.backend
					}
					ds, ok := idx[key{d.den.workload, db, r}]
					if !ok {
						continue
					}
					dv, ok := d.den.value(ds)
					if !ok || dv == 0 {
						continue
					}
					v /= dv
				}
				if d.fn != nil {
					v = d.fn(v)
				}
				vals = append(vals, v)
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
