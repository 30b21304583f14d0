package benchreport

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/benchsuite"
)

func TestLoadGuard(t *testing.T) {
	quietLoad(t, [3]float64{99.5, 2.25, 1.75})
	cfg := Config{
		Backends: []string{memory.Name}, Workloads: []benchsuite.Workload{benchsuite.AppendSync1},
		Memory: []benchsuite.Workload{}, SnapshotN: []uint64{}, SnapshotBudgets: []time.Duration{}, Repeats: 1, Scale: 0.001,
		OutDir: t.TempDir(), MaxLoad: 1.5,
	}
	_, err := Run(context.Background(), cfg)
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "99.50") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("Run on a busy machine: %v, want ErrBusy with the load and the way out", err)
	}
	if entries, _ := os.ReadDir(cfg.OutDir); len(entries) != 0 {
		t.Errorf("a refused run wrote %d files", len(entries))
	}

	cfg.Force = true
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Load.Forced || rep.Load.AtStart != [3]float64{99.5, 2.25, 1.75} || rep.Load.Limit != 1.5 {
		t.Errorf("load guard %+v", rep.Load)
	}
	if above, total := rep.runsAboveLimit(); above != 1 || total != 1 {
		t.Errorf("runs above the limit: %d of %d", above, total)
	}
	md, err := os.ReadFile(filepath.Join(cfg.OutDir, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"TAKEN UNDER LOAD", "99.50 when the run started", "limit of 1.50", "forced to start at 99.50"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if i := bytes.Index(md, []byte("TAKEN UNDER LOAD")); i > bytes.Index(md, []byte("## Machine")) {
		t.Error("the warning is not at the top")
	}
}

func TestLoadRoseDuringTheRun(t *testing.T) {
	// On 2 cores the benchmark's own share is 2: a run that starts at 2.0
	// or 3.5 measures the benchmark, one at 3.6 other work too.
	r := &Report{Load: LoadGuard{Limit: 1.5, Known: true}, Machine: Machine{Cores: 2}, Samples: []Sample{
		{LoadBefore: [3]float64{1, 1, 1}}, {LoadBefore: [3]float64{2, 1, 1}}, {LoadBefore: [3]float64{3.5, 1, 1}}, {LoadBefore: [3]float64{3.6, 1, 1}},
	}}
	var b strings.Builder
	r.loadBanner(&b)
	if !strings.Contains(b.String(), "1 of its 4 runs") || !strings.Contains(b.String(), "above 3.50") || strings.Contains(b.String(), "UNDER LOAD") {
		t.Errorf("banner %q", b.String())
	}
	r.Samples = r.Samples[:3]
	b.Reset()
	r.loadBanner(&b)
	if b.Len() != 0 {
		t.Errorf("runs within the benchmark's own share: banner %q", b.String())
	}
	quietLoad(t, [3]float64{1, 1, 1})
	if g, err := checkLoad(1.5, false); err != nil || g.Forced {
		t.Errorf("below the limit: %+v, %v", g, err)
	}
}
