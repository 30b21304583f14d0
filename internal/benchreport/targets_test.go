package benchreport

import (
	"math"
	"strings"
	"testing"

	"github.com/durablelog/eventstore/benchsuite"
	"github.com/durablelog/eventstore/benchsuite/peers"
	"github.com/durablelog/eventstore/benchsuite/rocksloop"
)

func TestTargetApplicability(t *testing.T) {
	samples := []Sample{
		sample(benchsuite.AppendSync16, "postgres", 1, 3000, nil), sample(benchsuite.AppendSync16, peers.PgxName, 1, 1000, nil),
		{Workload: processes, Backend: "postgres", Repeat: 1, EventsPerSec: 2400},
		sample(benchsuite.ReadScan, "rocksdb", 1, 300_000, nil), sample(rocksloop.Scan, "rocksdb", 1, 100_000, nil),
		sample(benchsuite.AppendSync16, DiskBackend, 1, 6000, nil), sample(benchsuite.AppendSync16, "rocksdb", 1, 1500, nil),
	}
	got := map[string]TargetResult{}
	for _, tr := range EvaluateTargets(samples, []string{"rocksdb", "postgres"}, []string{"postgres"}) {
		got[tr.ID+"@"+tr.Backend] = tr
	}
	for _, c := range []struct {
		key    string
		median float64
		status string
	}{
		{"pg-16@postgres", 3, StatusPass},
		{"pg-processes@postgres", 0.8, StatusFail},
		{"pg-batch-100@postgres", 0, StatusNotMeasured},
		{"scan-grocksdb@rocksdb", 3, StatusPass},
		{"sync-16-limit@rocksdb", 0.25, StatusInfo},
		{"sync-16-limit@postgres", 0.5, StatusInfo},
	} {
		tr, ok := got[c.key]
		if !ok || tr.Status != c.status || math.Abs(tr.Value.Median-c.median) > 1e-9 {
			t.Errorf("%s: %+v (found %v), want %v %s", c.key, tr, ok, c.median, c.status)
		}
	}
	for _, absent := range []string{"pg-16@rocksdb", "scan-grocksdb@postgres", "sync-16@postgres", "scan@postgres", "head-mark@postgres"} {
		if _, ok := got[absent]; ok {
			t.Errorf("%s evaluated", absent)
		}
	}
	if f := got["pg-16@postgres"].Formula; f != "append/sync/16-writers ÷ append/sync/16-writers (pgx)" {
		t.Errorf("formula %q", f)
	}
}

func TestYardstick(t *testing.T) {
	samples := []Sample{
		sample(benchsuite.AppendSync1, "memory", 1, 100_000, nil), sample(benchsuite.AppendSync1, "kv", 1, 1000, nil),
		sample(benchsuite.AppendSync1, "memory", 2, 50_000, nil), sample(benchsuite.AppendSync1, "kv", 2, 1000, nil),
		sample(benchsuite.ReadScan, "memory", 1, 1_000_000, nil), sample(benchsuite.ReadScan, "kv", 1, 500_000, nil),
		sample(benchsuite.MemoryAppend, "memory", 1, 1, nil), sample(benchsuite.MemoryAppend, "kv", 1, 1, nil),
	}
	ws := []string{benchsuite.AppendSync1.Name, benchsuite.ReadScan.Name, benchsuite.MemoryAppend.Name}
	ys := EvaluateYardstick(samples, ws, []string{"kv", "memory"}, map[string]bool{benchsuite.MemoryAppend.Name: true})
	if len(ys) != 2 {
		t.Fatalf("%d figures: %+v", len(ys), ys)
	}
	if y := ys[0]; y.Title != benchsuite.AppendSync1.Name || math.Abs(y.Value.Median-0.015) > 1e-9 || y.Status != StatusFail || y.Value.N != 2 {
		t.Errorf("sync: %+v", y)
	}
	if y := ys[1]; y.Value.Median != 0.5 || y.Status != StatusPass {
		t.Errorf("scan: %+v", y)
	}
	if ys := EvaluateYardstick(samples, ws, []string{"kv"}, nil); ys != nil {
		t.Errorf("without the memory engine: %+v", ys)
	}
}

func TestNotes(t *testing.T) {
	if _, ok := notes[YardstickID]; !ok {
		t.Errorf("notes.json has no %q", YardstickID)
	}
	n, err := parseNotes([]byte(`{"_how": "ignored", "a": {"*": "all", "x": "on x"}, "a/w": {"y": "w on y"}}`))
	if err != nil {
		t.Fatal(err)
	}
	saved := notes
	notes = n
	defer func() { notes = saved }()
	ts := []TargetResult{{ID: "a", Backend: "x"}, {ID: "a", Backend: "z"}, {ID: "b", Backend: "x", Status: StatusFail}}
	ys := []TargetResult{{ID: "a", Title: "w", Backend: "y"}, {ID: "a", Title: "w", Backend: "x"}}
	applyNotes(ts, ys)
	for i, want := range []string{"on x", "all", ""} {
		if ts[i].Note != want {
			t.Errorf("target %d: note %q, want %q", i, ts[i].Note, want)
		}
	}
	if ys[0].Note != "w on y" || ys[1].Note != "on x" {
		t.Errorf("yardstick notes %q, %q", ys[0].Note, ys[1].Note)
	}
	if p := noteOrPlaceholder(ts[2]); !strings.Contains(p, `"b"`) || !strings.Contains(p, "notes.json") {
		t.Errorf("placeholder %q", p)
	}
	for _, bad := range []string{`[`, `{"a": "not an object"}`} {
		if _, err := parseNotes([]byte(bad)); err == nil {
			t.Errorf("parseNotes(%s): no error", bad)
		}
	}
	r := &Report{Targets: []TargetResult{{ID: "b", Backend: "x", Status: StatusFail, Op: "≥", Threshold: 1, Unit: "×", Value: Summarize([]float64{0.5})}}}
	var b strings.Builder
	r.notesList(&b)
	if !strings.Contains(b.String(), "**b on x** (0.50×, target ≥ 1.00×): *no explanation yet") {
		t.Errorf("missed targets:\n%s", b.String())
	}
}
