package benchreport

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/backends/pebble"
	"github.com/durablelog/eventstore/benchsuite"
	"github.com/durablelog/eventstore/benchsuite/peers"
)

// TestMain routes the child processes that Run starts (the test binary is
// the current executable) to ChildMain, as the CLI does.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == ChildArgs[0] && os.Args[2] == ChildArgs[1] {
		os.Exit(ChildMain(os.Args[3:]))
	}
	goleak.VerifyTestMain(m)
}

// quietLoad makes the load averages that Run reads l, for the test.
func quietLoad(t *testing.T, l [3]float64) {
	saved := readLoad
	readLoad = func() ([3]float64, bool) { return l, true }
	t.Cleanup(func() { readLoad = saved })
}

// peerWorkload returns the workload name of peer p.
func peerWorkload(t *testing.T, p peers.Peer, name string) benchsuite.Workload {
	t.Helper()
	for _, w := range peers.Workloads(p) {
		if w.Name == name {
			return w
		}
	}
	t.Fatalf("peer %s has no workload %s", p.Name, name)
	return benchsuite.Workload{}
}

// named gives w another name: the tests run the targets' workloads at
// lengths far below those their names promise.
func named(name string, w benchsuite.Workload) benchsuite.Workload {
	w.Name = name
	return w
}

func TestRunWritesEveryFile(t *testing.T) {
	quietLoad(t, [3]float64{0.25, 0.5, 0.75})
	out := t.TempDir()
	var prog, log bytes.Buffer
	cfg := Config{
		Backends: []string{memory.Name, pebble.Name},
		Workloads: []benchsuite.Workload{
			benchsuite.DiskSync,
			benchsuite.RawSync1, benchsuite.AppendSync1, benchsuite.AppendSync1SM,
			benchsuite.RawSync16, benchsuite.AppendSync16, peerWorkload(t, peers.Disk, benchsuite.AppendSync16.Name),
			benchsuite.RawScan, benchsuite.ReadScan,
			named(restart10KSnap, benchsuite.RestartWorkload(200, true)),
			named(restart1MSnap, benchsuite.RestartWorkload(300, true)),
			named(restart1MNone, benchsuite.RestartWorkload(300, false)),
			benchsuite.Space,
		},
		Memory:          []benchsuite.Workload{benchsuite.MemoryAppend}, // memory/replay: TestChildMainArguments
		Repeats:         2,
		Scale:           0.001, // 2 single appends, 20 concurrent ones, 1000-event scans
		N:               map[string]int{benchsuite.AppendSync1.Name: 5},
		SnapshotN:       []uint64{100},
		SnapshotBudgets: []time.Duration{time.Millisecond},
		SnapshotLength:  400,
		OutDir:          out,
		Progress:        &prog,
		Log:             &log,
	}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if prog.Len() != 0 {
		t.Errorf("progress written to a writer that is not a terminal: %q", prog.String())
	}
	// 2 disk workloads + 11 on 2 engines + 3 sweep policies on 2 + 1 memory on 2, twice.
	const runs = 2 * (2 + 11*2 + 3*2 + 1*2)
	if len(rep.Samples) != runs {
		t.Fatalf("%d samples, want %d", len(rep.Samples), runs)
	}
	t.Logf("runs:\n%s", log.String())
	if lines := strings.Count(log.String(), "\n"); lines != runs {
		t.Errorf("%d log lines, want %d:\n%s", lines, runs, log.String())
	}
	for _, s := range rep.Samples {
		if s.Err != "" {
			t.Errorf("%s on %s: %s", s.Workload, s.Backend, s.Err)
		}
	}
	for _, s := range rep.Samples {
		if s.Workload == benchsuite.MemoryAppend.Name && s.PeakRSSMiB <= 0 {
			t.Errorf("memory/append on %s: no peak RSS from the child", s.Backend)
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(out, ".bench-work-*")); len(entries) != 0 {
		t.Errorf("work directories left behind: %v", entries)
	}

	// results.json holds the whole report.
	b, err := os.ReadFile(filepath.Join(out, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Samples) != runs || len(back.Targets) == 0 || len(back.Machine.Engines) != 2 || back.Machine.Go == "" {
		t.Errorf("results.json: %d samples, %d targets, engines %v, go %q", len(back.Samples), len(back.Targets), back.Machine.Engines, back.Machine.Go)
	}

	// results.csv: a header and one row per run, all of the same width.
	f, err := os.Open(filepath.Join(out, CSVFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != runs+1 || rows[0][0] != "workload" {
		t.Errorf("results.csv: %d rows, header %v", len(rows), rows[0])
	}

	// Every chart decodes, and the report links it.
	md, err := os.ReadFile(filepath.Join(out, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	var nCharts int
	for _, name := range rep.Files {
		if !strings.HasSuffix(name, ".png") {
			continue
		}
		nCharts++
		f, err := os.Open(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if img.Bounds().Dx() < 100 {
			t.Errorf("%s: %v", name, img.Bounds())
		}
		if !bytes.Contains(md, []byte("]("+name+")")) {
			t.Errorf("report.md does not link %s", name)
		}
	}
	if nCharts != len(charts) {
		t.Errorf("%d charts, want %d: %v", nCharts, len(charts), rep.Files)
	}
	for _, want := range []string{"## Machine", "## Method", "## Targets", "| Target | Formula | Threshold | memory | pebble |", "sync-write",
		"## Snapshot policies (ADR-0009)", "## Memory", "## Against the physical limit", "## The memory engine as the yardstick", "## Load during the run",
		"| append/sync/16-writers | 6 | 0.25 [0.25] | 0.25 [0.25] | 0.50 [0.50] | 0.75 [0.75] | 0 |"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("report.md lacks %q", want)
		}
	}

	// Each target has a value on pebble; the memory engine's are info.
	for _, tr := range rep.Targets {
		switch {
		case tr.ID == "disk-1" || tr.ID == "sync-16-limit":
			if tr.Status != StatusInfo || !tr.Value.Valid() {
				t.Errorf("%s on %s: %s %+v, want info", tr.ID, tr.Backend, tr.Status, tr.Value)
			}
		case tr.ID == "sync-64" || tr.ID == "sync-64-limit" || tr.ID == "sync-64-rate" || tr.ID == "seed-batch-100" || tr.ID == "batch-100" || tr.ID == "group-commit" || tr.ID == "head-mark" || tr.ID == "metrics":
			if tr.Status != StatusNotMeasured {
				t.Errorf("%s on %s: %s, want %s (its workloads did not run)", tr.ID, tr.Backend, tr.Status, StatusNotMeasured)
			}
		case strings.HasPrefix(tr.ID, "pg-") || tr.ID == "scan-grocksdb":
			t.Errorf("%s evaluated on %s", tr.ID, tr.Backend)
		case tr.Backend == memory.Name && tr.Status != StatusInfo:
			t.Errorf("%s on memory: %s, want info", tr.ID, tr.Status)
		case !tr.Value.Valid() || tr.Value.N != 2:
			t.Errorf("%s on %s: %+v", tr.ID, tr.Backend, tr.Value)
		}
	}
	// pebble and memory against the limit; pebble against memory.
	if len(rep.Limit) != 2 || rep.Limit[0].Workload != benchsuite.AppendSync16.Name || rep.Limit[0].Value.N != 2 {
		t.Errorf("limit ratios %+v", rep.Limit)
	}
	for _, y := range rep.Yardstick {
		if y.Backend != pebble.Name || y.Value.N != 2 || y.Status == StatusNotMeasured || y.Note == "" {
			t.Errorf("yardstick %+v", y)
		}
	}
	if rep.Load.Forced || !rep.Load.Known || rep.Samples[0].LoadBefore != [3]float64{0.25, 0.5, 0.75} {
		t.Errorf("load %+v, first run's %v", rep.Load, rep.Samples[0].LoadBefore)
	}
	if bytes.Contains(md, []byte("UNDER LOAD")) {
		t.Error("report.md says under load")
	}

	// LoadReport reads the report back: the same summaries, the same page.
	again, err := LoadReport(filepath.Join(out, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Results, rep.Results) || !reflect.DeepEqual(again.Targets, rep.Targets) {
		t.Error("results.json read back gives other results or targets")
	}
	if again.markdown() != string(md) {
		t.Error("report.md written again from results.json differs")
	}
}

func TestRunFilterAndCancel(t *testing.T) {
	quietLoad(t, [3]float64{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Config{Backends: []string{memory.Name}, OutDir: t.TempDir(), Filter: "^append/sync/1-writer$", Memory: []benchsuite.Workload{}})
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("Run with a cancelled context: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no backend", Config{OutDir: "x"}, "no backend"},
		{"unknown backend", Config{Backends: []string{"nope"}, OutDir: "x"}, "unknown backend"},
		{"disk", Config{Backends: []string{DiskBackend}, OutDir: "x"}, "name of a baseline"},
		{"peer", Config{Backends: []string{"bbolt"}, OutDir: "x"}, "name of a baseline"},
		{"max load", Config{Backends: []string{memory.Name}, OutDir: "x", MaxLoad: -1}, "MaxLoad"},
		{"peer twice", Config{Backends: []string{memory.Name}, OutDir: "x", Workloads: peers.Workloads(peers.Bolt)[:1], Memory: peers.Workloads(peers.Bolt)[:1]}, "of bbolt listed twice"},
		{"twice", Config{Backends: []string{memory.Name, memory.Name}, OutDir: "x"}, "twice"},
		{"no out", Config{Backends: []string{memory.Name}}, "output directory"},
		{"filter", Config{Backends: []string{memory.Name}, OutDir: "x", Filter: "("}, "Filter"},
		{"nothing matches", Config{Backends: []string{memory.Name}, OutDir: "x", Filter: "^none$"}, "no workload"},
		{"scale", Config{Backends: []string{memory.Name}, OutDir: "x", Scale: -1}, "Scale"},
		{"n", Config{Backends: []string{memory.Name}, OutDir: "x", N: map[string]int{"a": 0}}, "N["},
	} {
		_, err := c.cfg.withDefaults()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
	cfg, err := Config{Backends: []string{memory.Name}, OutDir: "x"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Repeats != DefaultRepeats || cfg.Scale != 1 || cfg.WorkDir != "x" || len(cfg.ChildCommand) != 3 || cfg.MaxLoad != DefaultMaxLoad() {
		t.Errorf("defaults: %+v", cfg)
	}
	// All, the grocksdb loop, the peers, then the sweep: Never, 3 EveryN,
	// 2 Adaptive.
	if got, want := len(cfg.Workloads), len(benchsuite.All())+1+len(peers.AllWorkloads())+6; got != want {
		t.Errorf("%d workloads, want %d", got, want)
	}
	if got := cfg.Workloads[len(cfg.Workloads)-1].Name; got != "snapshots/adaptive-100ms/1M" {
		t.Errorf("last workload %q", got)
	}
	if cfg.n(benchsuite.RawScan) != 1_000_000 {
		t.Errorf("n(raw/scan) = %d", cfg.n(benchsuite.RawScan))
	}
}

func TestPlanRotatesBackends(t *testing.T) {
	cfg := Config{
		Backends:  []string{"a", "b", "c"},
		Workloads: []benchsuite.Workload{benchsuite.DiskSync, benchsuite.AppendSync1},
		Memory:    []benchsuite.Workload{benchsuite.MemoryAppend},
		Repeats:   3, MemoryRepeats: 3, Scale: 0.5,
	}
	var got []string
	for _, st := range plan(cfg) {
		s := st.w.Name + "@" + st.backend
		if st.child {
			s += "(child)"
		}
		got = append(got, s)
	}
	want := strings.Fields(`
		disk/write+fsync@disk append/sync/1-writer@a append/sync/1-writer@b append/sync/1-writer@c memory/append@a(child) memory/append@b(child) memory/append@c(child)
		disk/write+fsync@disk append/sync/1-writer@b append/sync/1-writer@c append/sync/1-writer@a memory/append@b(child) memory/append@c(child) memory/append@a(child)
		disk/write+fsync@disk append/sync/1-writer@c append/sync/1-writer@a append/sync/1-writer@b memory/append@c(child) memory/append@a(child) memory/append@b(child)`)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("plan:\n%v\nwant\n%v", got, want)
	}
	cfg.MemoryRepeats = 1
	if got := len(plan(cfg)); got != len(want)-2*3 {
		t.Errorf("with MemoryRepeats 1: %d steps, want %d", got, len(want)-2*3)
	}
	if n := plan(cfg)[1].n; n != 1000 {
		t.Errorf("n = %d, want half of 2000", n)
	}
}

func TestChildMainArguments(t *testing.T) {
	var out, errb bytes.Buffer
	for _, args := range [][]string{
		nil,
		{"--workload", "memory/append", "--backend", "memory"},
		{"--workload", "nope", "--backend", "memory", "--n", "10"},
		{"--bogus"},
		{"--process", "--workload", "x", "--backend", "postgres", "--n", "10"},
	} {
		out.Reset()
		errb.Reset()
		if code := childMain(args, strings.NewReader(""), &out, &errb); code != 2 {
			t.Errorf("childMain(%q) = %d, want 2", args, code)
		}
		if out.Len() != 0 {
			t.Errorf("childMain(%q) wrote %q on stdout", args, out.String())
		}
	}
	out.Reset()
	if code := childMain([]string{"--workload", benchsuite.MemoryReplay.Name, "--backend", memory.Name, "--n", "300", "--dir", t.TempDir()}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("childMain: %d: %s", code, errb.String())
	}
	var s Sample
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Workload != benchsuite.MemoryReplay.Name || s.Events != 300 || s.PeakRSSMiB <= 0 || s.Extra["peak-rss-mib"] <= 0 {
		t.Errorf("child sample %+v", s)
	}
}

func TestProgressIsQuietOffTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "progress"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	for _, w := range []io.Writer{&buf, f, nil} {
		p := newProgress(w, nil, 3)
		if p.bar != nil {
			t.Errorf("%T: a progress bar off a terminal", w)
		}
		p.start(0, step{w: benchsuite.AppendSync1, backend: "memory"})
		p.done(0, Sample{})
		p.finish()
	}
	if fi, _ := f.Stat(); buf.Len() != 0 || fi.Size() != 0 {
		t.Errorf("progress wrote %q and %d bytes", buf.String(), fi.Size())
	}
}
