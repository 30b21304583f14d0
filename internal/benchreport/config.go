package benchreport

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"runtime"
	"slices"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/benchsuite"
	"github.com/durablelog/eventstore/logstore"
)

// Config says what Run measures and where it writes. The zero value of each
// field but Backends and OutDir takes its documented default.
type Config struct {
	// Backends are the registered backends to compare, in report order:
	// engines (backend.Register), such as {"rocksdb", "pebble", "badger",
	// "sqlite", "memory"}, and log backends (logstore.Register), such as
	// "postgres". Required.
	Backends []string

	// Workloads run in this process, each on every backend it runs on
	// (benchsuite.Workload.RunsOn), and the Standalone ones (the disk
	// baselines, the peers) once per repeat. The default is
	// DefaultWorkloads(Backends).
	Workloads []benchsuite.Workload

	// Memory workloads run each in a child process (see ChildMain), which
	// reports its peak resident memory. The default is
	// benchsuite.MemoryWorkloads(); an empty, non-nil slice runs none.
	Memory []benchsuite.Workload

	// Filter, when not empty, is a regular expression: only the workloads
	// whose name it matches run, among Workloads, Memory and the snapshot
	// sweep alike. For example "^(append|raw)/" or "restart".
	Filter string

	// Repeats is how many times each workload runs on each backend. The
	// default is 5.
	Repeats int

	// MemoryRepeats is how many times each Memory workload runs on each
	// backend: peak memory varies little from run to run, and a run of a
	// million events is long. The default is Repeats; it is at most
	// Repeats.
	MemoryRepeats int

	// Scale multiplies each workload's DefaultN (the result is rounded and
	// at least 1): 0.01 gives a quick smoke run. The default is 1. The log
	// lengths built into a workload, such as the million events of
	// "restart/every-1000/1M", do not scale.
	Scale float64

	// N sets the n of the named workloads, overriding Scale.
	N map[string]int

	// SnapshotN are the N of the EveryN policies in the snapshot sweep
	// (ADR-0009; see benchsuite.SnapshotSweep). The default is
	// {100, 1000, 10000}; an empty, non-nil slice sweeps none.
	SnapshotN []uint64

	// SnapshotBudgets are the budgets of the Adaptive policies in the
	// sweep. The default is {10ms, 100ms}; an empty, non-nil slice sweeps
	// none.
	SnapshotBudgets []time.Duration

	// SnapshotLength is the log length whose restart the sweep measures.
	// The default is 1,000,000. The sweep also runs the policy Never, the
	// reference for the append overhead; it runs only when SnapshotN or
	// SnapshotBudgets is not empty.
	SnapshotLength int

	// OutDir receives the report's files; Run creates it. Required.
	OutDir string

	// WorkDir is where the stores under measurement live: Run creates a
	// temporary directory in it and removes it at the end. The default is
	// OutDir, so that the disk the report describes is the one measured.
	WorkDir string

	// Progress, when it is a terminal, shows a progress bar with one step
	// per run. Otherwise, or when nil, Run prints nothing to it.
	Progress io.Writer

	// Log, when not nil, receives one plain line per finished run, whatever
	// Progress is: for logs and for runs in the background.
	Log io.Writer

	// ChildCommand is the program, with its leading arguments, that routes
	// to ChildMain; Run appends the child's flags (see ChildArgs). The
	// default is the current executable followed by ChildArgs.
	ChildCommand []string

	// MaxLoad is the highest 1-minute load average (/proc/loadavg) at
	// which Run starts: above it, Run refuses with an error wrapping
	// ErrBusy, because the figures would measure the other work as much as
	// the store. The default is DefaultLoadPerCore times the number of
	// cores: 1.5 on 2 cores. Where the load cannot be read, Run starts.
	MaxLoad float64

	// Force runs even when the load is above MaxLoad; the report then says
	// at its top, and in results.json, that its figures were taken under
	// load.
	Force bool

	// PostgresDSN is the server that the "postgres" backend and the pgx
	// baselines use, when "postgres" is among Backends. Each store gets a
	// schema of its own there, dropped when its run ends. The default, "",
	// starts a throwaway server (internal/pgtest) under WorkDir for the
	// run, and removes it at the end.
	PostgresDSN string
}

// ChildArgs are the leading arguments with which Run starts a child
// process by default: the program must pass the arguments that follow them
// to ChildMain. The full command line is
//
//	<executable> bench --child --workload NAME --backend NAME --n N --dir DIR
var ChildArgs = []string{"bench", "--child"}

// Defaults of Config.
const (
	DefaultRepeats        = 5
	DefaultSnapshotLength = 1_000_000
	// DefaultLoadPerCore times the number of cores is the default MaxLoad.
	DefaultLoadPerCore = 0.75
)

// DefaultMaxLoad returns the default of Config.MaxLoad on this machine.
func DefaultMaxLoad() float64 { return DefaultLoadPerCore * float64(runtime.NumCPU()) }

// DefaultSnapshotN and DefaultSnapshotBudgets are the sweep's default
// policies.
var (
	DefaultSnapshotN       = []uint64{100, 1000, 10000}
	DefaultSnapshotBudgets = []time.Duration{10 * time.Millisecond, 100 * time.Millisecond}
)

// DiskBackend is the name under which the disk baselines and the physical
// limit, which use no backend, are reported.
const DiskBackend = benchsuite.DiskName

// withDefaults returns a copy of c with its defaults filled in, or an error
// naming what is wrong.
func (c Config) withDefaults() (Config, error) {
	if len(c.Backends) == 0 {
		return c, fmt.Errorf("benchreport: no backend: name at least one of %v", backend.Names())
	}
	c.Backends = slices.Clone(c.Backends)
	for _, b := range c.Backends {
		if b == DiskBackend || slices.Contains(peerNames(), b) {
			return c, fmt.Errorf("benchreport: %q is the name of a baseline; name backends, among %v", b, backendNames())
		}
		if _, err := backend.Lookup(b); err != nil {
			if _, ok := logstore.Lookup(b); !ok {
				return c, fmt.Errorf("benchreport: unknown backend %q (forgotten import?); registered: %v", b, backendNames())
			}
		}
	}
	if i := firstDup(c.Backends); i >= 0 {
		return c, fmt.Errorf("benchreport: backend %q named twice", c.Backends[i])
	}
	if c.OutDir == "" {
		return c, errors.New("benchreport: no output directory (Config.OutDir)")
	}
	if c.Repeats == 0 {
		c.Repeats = DefaultRepeats
	}
	if c.Repeats < 0 {
		return c, fmt.Errorf("benchreport: Repeats %d: must be positive", c.Repeats)
	}
	if c.MemoryRepeats == 0 || c.MemoryRepeats > c.Repeats {
		c.MemoryRepeats = c.Repeats
	}
	if c.MemoryRepeats < 0 {
		return c, fmt.Errorf("benchreport: MemoryRepeats %d: must be positive", c.MemoryRepeats)
	}
	if c.Scale == 0 {
		c.Scale = 1
	}
	if c.Scale < 0 || math.IsNaN(c.Scale) || math.IsInf(c.Scale, 0) {
		return c, fmt.Errorf("benchreport: Scale %v: must be positive", c.Scale)
	}
	if c.MaxLoad == 0 {
		c.MaxLoad = DefaultMaxLoad()
	}
	if c.MaxLoad < 0 || math.IsNaN(c.MaxLoad) {
		return c, fmt.Errorf("benchreport: MaxLoad %v: must be positive", c.MaxLoad)
	}
	if c.Memory == nil {
		c.Memory = benchsuite.MemoryWorkloads()
	}
	if c.SnapshotN == nil {
		c.SnapshotN = DefaultSnapshotN
	}
	if c.SnapshotBudgets == nil {
		c.SnapshotBudgets = DefaultSnapshotBudgets
	}
	if c.SnapshotLength == 0 {
		c.SnapshotLength = DefaultSnapshotLength
	}
	if c.SnapshotLength < 0 {
		return c, fmt.Errorf("benchreport: SnapshotLength %d: must be positive", c.SnapshotLength)
	}
	if c.WorkDir == "" {
		c.WorkDir = c.OutDir
	}
	if len(c.ChildCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return c, fmt.Errorf("benchreport: find the executable for the child processes: %w", err)
		}
		c.ChildCommand = append([]string{exe}, ChildArgs...)
	}
	if c.Workloads == nil {
		c.Workloads = DefaultWorkloads(c.Backends, c.ChildCommand)
	}
	for name, n := range c.N {
		if n <= 0 {
			return c, fmt.Errorf("benchreport: N[%q] = %d: must be positive", name, n)
		}
	}
	var re *regexp.Regexp
	if c.Filter != "" {
		var err error
		if re, err = regexp.Compile(c.Filter); err != nil {
			return c, fmt.Errorf("benchreport: Filter: %w", err)
		}
	}
	keep := func(ws []benchsuite.Workload) []benchsuite.Workload {
		return slices.DeleteFunc(slices.Clone(ws), func(w benchsuite.Workload) bool { return re != nil && !re.MatchString(w.Name) })
	}
	c.Workloads = append(keep(c.Workloads), keep(SweepWorkloads(c.SnapshotN, c.SnapshotBudgets, c.SnapshotLength))...)
	c.Memory = keep(c.Memory)
	names := map[[2]string]bool{}
	for _, w := range append(slices.Clone(c.Workloads), c.Memory...) {
		if w.Run == nil || w.Name == "" {
			return c, fmt.Errorf("benchreport: workload %q has no name or no Run", w.Name)
		}
		if slices.Contains(c.Backends, w.Standalone) {
			return c, fmt.Errorf("benchreport: workload %q is reported as %q, the name of a backend", w.Name, w.Standalone)
		}
		k := [2]string{w.Name, w.Standalone}
		if names[k] {
			if w.Standalone != "" {
				return c, fmt.Errorf("benchreport: workload %q of %s listed twice", w.Name, w.Standalone)
			}
			return c, fmt.Errorf("benchreport: workload %q listed twice", w.Name)
		}
		names[k] = true
	}
	if len(names) == 0 {
		return c, fmt.Errorf("benchreport: no workload matches the filter %q", c.Filter)
	}
	return c, nil
}

// SweepWorkloads returns the snapshot sweep of ADR-0009: the policy Never
// (the reference), then EveryN(n) for each of ns, then Adaptive(b) for each
// of budgets, each restarting a log of length events. It is empty when ns
// and budgets both are.
func SweepWorkloads(ns []uint64, budgets []time.Duration, length int) []benchsuite.Workload {
	if len(ns) == 0 && len(budgets) == 0 {
		return nil
	}
	ws := []benchsuite.Workload{benchsuite.SnapshotSweep("never", eventstore.Never(), length)}
	for _, n := range ns {
		ws = append(ws, benchsuite.SnapshotSweep(fmt.Sprintf("every-%d", n), eventstore.EveryN(n), length))
	}
	for _, b := range budgets {
		ws = append(ws, benchsuite.SnapshotSweep("adaptive-"+b.String(), eventstore.Adaptive(b), length))
	}
	return ws
}

// n returns the size of workload w's runs.
func (c Config) n(w benchsuite.Workload) int {
	if n, ok := c.N[w.Name]; ok {
		return n
	}
	return max(1, int(math.Round(float64(w.DefaultN)*c.Scale)))
}

// isEngine reports whether the backend name is an engine (backend.Engine)
// rather than a log backend.
func isEngine(name string) bool {
	_, err := backend.Lookup(name)
	return err == nil
}

// backendNames lists the registered engines and log backends.
func backendNames() []string {
	names := slices.Concat(backend.Names(), logstore.Names())
	slices.Sort(names)
	return names
}

func firstDup(s []string) int {
	seen := map[string]bool{}
	for i, v := range s {
		if seen[v] {
			return i
		}
		seen[v] = true
	}
	return -1
}
