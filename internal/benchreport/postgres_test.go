package benchreport

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/benchsuite"
	"github.com/durablelog/eventstore/benchsuite/peers"
)

// TestRunOnPostgres runs the shared workloads, the pgx baselines and the
// multi-process workload on a throwaway PostgreSQL server that Run starts.
func TestRunOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL server")
	}
	quietLoad(t, [3]float64{0.5, 0.5, 0.5})
	out := t.TempDir()
	cfg := Config{
		Backends: []string{postgres.Name, memory.Name},
		Workloads: []benchsuite.Workload{
			benchsuite.RawSync16, // an engine's: skipped on postgres
			benchsuite.AppendSync16, benchsuite.AppendSyncBatch100, benchsuite.ReadScan,
			named(restart1MNone, benchsuite.RestartWorkload(200, false)),
			peers.PgxWorkloads()[0], peers.PgxWorkloads()[1],
		},
		Memory: []benchsuite.Workload{}, SnapshotN: []uint64{}, SnapshotBudgets: []time.Duration{},
		Repeats: 1, OutDir: out,
		N: map[string]int{
			benchsuite.AppendSync16.Name: 48, benchsuite.AppendSyncBatch100.Name: 3, benchsuite.ReadScan.Name: 300, restart1MNone: 2,
		},
	}
	cfg.Workloads = append(cfg.Workloads, ProcessesWorkload(2, 3, nil))
	cfg.N[ProcessesWorkloadName(2, 3)] = 30
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Workloads[len(cfg.Workloads)-1] = ProcessesWorkload(2, 3, append([]string{exe}, ChildArgs...))
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ran := map[string]bool{}
	for _, s := range rep.Samples {
		ran[s.Workload+"@"+s.Backend] = true
		if s.Err != "" {
			t.Errorf("%s on %s: %s", s.Workload, s.Backend, s.Err)
		}
	}
	for _, want := range []string{
		"append/sync/16-writers@postgres", "append/sync/16-writers@pgx", "append/sync/batch-100@pgx",
		"append/sync/2-processes/3-writers@postgres", "read/log-scan@postgres", restart1MNone + "@postgres",
	} {
		if !ran[want] {
			t.Errorf("%s did not run", want)
		}
	}
	for _, never := range []string{"raw/sync-write/16-writers@postgres", "append/sync/2-processes/3-writers@memory"} {
		if ran[never] {
			t.Errorf("%s ran", never)
		}
	}
	for _, s := range rep.Samples {
		if s.Workload == ProcessesWorkloadName(2, 3) && (s.Events != 30 || s.P99us <= 0) {
			t.Errorf("multi-process sample %+v", s)
		}
	}
	if len(rep.LogBackends) != 1 || !strings.HasPrefix(rep.Machine.Engines[0].Version, "PostgreSQL ") {
		t.Errorf("log backends %v, engines %v", rep.LogBackends, rep.Machine.Engines)
	}
	got := map[string]TargetResult{}
	for _, tr := range rep.Targets {
		got[tr.ID+"@"+tr.Backend] = tr
	}
	if tr := got["pg-16@postgres"]; !tr.Value.Valid() || tr.Status == StatusNotMeasured {
		t.Errorf("pg-16: %+v", tr)
	}
	if tr := got["pg-batch-100@postgres"]; !tr.Value.Valid() {
		t.Errorf("pg-batch-100: %+v", tr)
	}
	if _, ok := got["sync-16@postgres"]; ok {
		t.Error("sync-16 evaluated on postgres, which has no raw engine")
	}
	md, err := os.ReadFile(filepath.Join(out, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| PostgreSQL: 16 writers, Sync, vs plain pgx") || !strings.Contains(string(md), " n/a |") {
		t.Errorf("report.md lacks the postgres targets or n/a cells")
	}
}
