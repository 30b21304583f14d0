package benchreport

import (
	"math"
	"testing"

	"github.com/durablelog/eventstore/benchsuite"
)

func TestSummarize(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want Summary
	}{
		{nil, Summary{}},
		{[]float64{math.NaN()}, Summary{}},
		{[]float64{7}, Summary{N: 1, Median: 7, Min: 7, Max: 7, Q1: 7, Q3: 7}},
		{[]float64{5, 1, 3}, Summary{N: 3, Median: 3, Min: 1, Max: 5, Q1: 2, Q3: 4}},
		{[]float64{4, 1, 3, 2}, Summary{N: 4, Median: 2.5, Min: 1, Max: 4, Q1: 1.75, Q3: 3.25}},
		{[]float64{10, math.NaN(), 30, 20, 40, 1000}, Summary{N: 5, Median: 30, Min: 10, Max: 1000, Q1: 20, Q3: 40}},
	} {
		if got := Summarize(c.in); got != c.want {
			t.Errorf("Summarize(%v) = %+v, want %+v", c.in, got, c.want)
		}
	}
	if got := Summarize([]float64{90, 100, 110}).Spread(); math.Abs(got-0.2) > 1e-12 {
		t.Errorf("Spread = %v, want 0.2", got)
	}
}

// sample is a hand-made sample.
func sample(w benchsuite.Workload, backend string, repeat int, rate float64, extra map[string]float64) Sample {
	return Sample{Workload: w.Name, Backend: backend, Repeat: repeat, EventsPerSec: rate, Extra: extra}
}

func TestEvaluateTargets(t *testing.T) {
	restart := func(length int, snap bool, repeat int, ms, rate float64) Sample {
		return Sample{Workload: benchsuite.RestartWorkload(length, snap).Name, Backend: "kv", Repeat: repeat, EventsPerSec: rate,
			P50us: 1000 * ms, Extra: map[string]float64{"open-ms": 10 * ms}}
	}
	samples := []Sample{
		// sync-1: 0.8 and 1.0, median 0.9: pass (the bound is inclusive).
		sample(benchsuite.AppendSync1, "kv", 1, 800, nil), sample(benchsuite.RawSync1, "kv", 1, 1000, nil),
		sample(benchsuite.AppendSync1, "kv", 2, 2000, nil), sample(benchsuite.RawSync1, "kv", 2, 2000, nil),
		// sync-16 pairs by repeat: 2.0 and 1.0, median 1.5: pass. Seed's bar: 10,000/10,000 and 10,000/5,000 s.
		sample(benchsuite.AppendSync16, "kv", 1, 10_000, nil), sample(benchsuite.RawSync16, "kv", 1, 5_000, nil),
		sample(benchsuite.AppendSync16, "kv", 2, 5_000, nil), sample(benchsuite.RawSync16, "kv", 2, 5_000, nil),
		// sync-64-rate: 39,000: FAIL; sync-64, against 50,000 raw: 0.78, FAIL.
		sample(benchsuite.AppendSync64, "kv", 1, 39_000, nil), sample(benchsuite.RawSync64, "kv", 1, 50_000, nil),
		// A failed run counts for nothing.
		{Workload: benchsuite.AppendSync64.Name, Backend: "kv", Repeat: 2, EventsPerSec: 1e9, Err: "boom"},
		// Restart: 150 ms at 1M (FAIL), 50 ms at 10K: ratio 3 (FAIL).
		restart(1_000_000, true, 1, 150, 0), restart(10_000, true, 1, 50, 0),
		// Replay 700K events/s over a 1M events/s raw scan: 0.7, pass.
		restart(1_000_000, false, 1, 1400, 700_000), sample(benchsuite.RawScan, "kv", 1, 1_000_000, nil),
		// The state machine costs 20%: FAIL.
		sample(benchsuite.AppendSync1SM, "kv", 1, 640, nil), sample(benchsuite.AppendSync1SM, "kv", 2, 1600, nil),
		// The disk, for info.
		sample(benchsuite.DiskSync, DiskBackend, 1, 1700, nil),
		// The memory engine is a ceiling: info whatever its figures.
		sample(benchsuite.AppendSync1, "memory", 1, 1, nil), sample(benchsuite.RawSync1, "memory", 1, 1000, nil),
	}
	got := map[string]TargetResult{}
	for _, tr := range EvaluateTargets(samples, []string{"kv", "memory"}, nil) {
		got[tr.ID+"@"+tr.Backend] = tr
	}
	for _, c := range []struct {
		id, backend string
		median      float64
		n           int
		status      string
	}{
		{"sync-1", "kv", 0.9, 2, StatusPass},
		{"sync-16", "kv", 1.5, 2, StatusPass},
		{"sync-64", "kv", 39_000.0 / 50_000, 1, StatusFail},
		{"sync-64-rate", "kv", 39_000, 1, StatusFail},
		{"seed-16", "kv", 1.5, 2, StatusPass},
		{"seed-batch-100", "kv", 0, 0, StatusNotMeasured},
		{"batch-100", "kv", 0, 0, StatusNotMeasured},
		{"scan", "kv", 0, 0, StatusNotMeasured},
		{"restart-1M", "kv", 150, 1, StatusFail},
		{"restart-1M-vs-10K", "kv", 3, 1, StatusFail},
		{"replay", "kv", 0.7, 1, StatusPass},
		{"state-machine", "kv", 0.8, 2, StatusFail},
		{"group-commit", "kv", 0, 0, StatusNotMeasured},
		{"disk-1", "kv", 800.0 / 1700, 1, StatusInfo},
		{"sync-1", "memory", 0.001, 1, StatusInfo},
		{"sync-16", "memory", 0, 0, StatusNotMeasured},
	} {
		tr, ok := got[c.id+"@"+c.backend]
		if !ok {
			t.Errorf("no target %s on %s", c.id, c.backend)
			continue
		}
		if tr.Status != c.status || tr.Value.N != c.n || math.Abs(tr.Value.Median-c.median) > 1e-9 {
			t.Errorf("%s on %s: %s %+v, want %s, median %v over %d", c.id, c.backend, tr.Status, tr.Value, c.status, c.median, c.n)
		}
	}
	if f := got["seed-16@kv"].Formula; f != "10,000 / append/sync/16-writers" {
		t.Errorf("seed-16 formula %q", f)
	}
	if f := got["restart-1M-vs-10K@kv"].Formula; f != "restart/every-1000/1M p50-ms ÷ restart/every-1000/10K p50-ms" {
		t.Errorf("restart formula %q", f)
	}
}

func TestJudge(t *testing.T) {
	one := func(v float64) Summary { return Summarize([]float64{v}) }
	for _, c := range []struct {
		v    Summary
		op   string
		thr  float64
		want string
	}{
		{one(1), "≥", 1, StatusPass}, {one(0.99), "≥", 1, StatusFail},
		{one(2), "≤", 2, StatusPass}, {one(2.01), "≤", 2, StatusFail},
		{one(2), "<", 2, StatusFail}, {one(1.99), "<", 2, StatusPass},
		{one(5), "", 0, StatusInfo}, {Summary{}, "≥", 1, StatusNotMeasured},
	} {
		if got := judge(c.v, c.op, c.thr); got != c.want {
			t.Errorf("judge(%v %s %v) = %s, want %s", c.v.Median, c.op, c.thr, got, c.want)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {0.1234, "0.123"}, {1.5, "1.5"}, {12.34, "12.3"}, {999.6, "1,000"}, {9999, "9,999"},
		{12345, "12.3K"}, {1_234_567, "1.23M"}, {12_345_678, "12.3M"}, {-20_000, "-20K"},
	} {
		if got := formatNum(c.v); got != c.want {
			t.Errorf("formatNum(%v) = %q, want %q", c.v, got, c.want)
		}
	}
	if got := formatInt(-1234567); got != "-1,234,567" {
		t.Errorf("formatInt = %q", got)
	}
	if got := formatDuration(1500); got != "1.5 ms" {
		t.Errorf("formatDuration = %q", got)
	}
	if got := spread(Summarize([]float64{1, 2, 3}), "×"); got != "[1.00×–3.00×]" {
		t.Errorf("spread = %q", got)
	}
	if v, ok := parseCount("10K"); !ok || v != 10_000 {
		t.Errorf("parseCount(10K) = %v", v)
	}
}
