package benchsuite

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backend"
)

// Target is the engine under measurement.
type Target struct {
	// Backend is the registered engine name.
	Backend string
	// Config, when not nil, returns the engine configuration for a store
	// in dir (eventstore.WithBackendConfig / backend.Options.Config).
	Config func(dir string) any
	// TempDir returns a fresh directory; it must be removed by the caller
	// of the workload. The default creates one under os.TempDir().
	TempDir func() (string, error)
}

// NewDir returns a fresh directory for a workload's store (from TempDir,
// or under os.TempDir()) and the function that removes it.
func (t Target) NewDir() (string, func(), error) {
	if t.TempDir != nil {
		d, err := t.TempDir()
		return d, func() { _ = os.RemoveAll(d) }, err
	}
	d, err := os.MkdirTemp("", "esbench-"+t.Backend+"-")
	return d, func() { _ = os.RemoveAll(d) }, err
}

func (t Target) options(dir string, extra ...eventstore.Option) []eventstore.Option {
	opts := []eventstore.Option{eventstore.WithBackend(t.Backend)}
	if t.Config != nil {
		if c := t.Config(dir); c != nil {
			opts = append(opts, eventstore.WithBackendConfig(c))
		}
	}
	return append(opts, extra...)
}

// OpenKV opens t's engine on dir directly, through the engine contract,
// with no event store above it: the raw engine baselines use it. It fails
// for a backend that is not a backend.Engine (a log backend such as
// postgres).
func (t Target) OpenKV(dir string) (backend.KV, error) {
	e, err := backend.Lookup(t.Backend)
	if err != nil {
		return nil, err
	}
	var cfg any
	if t.Config != nil {
		cfg = t.Config(dir)
	}
	return e.Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler), Config: cfg})
}

// Measurement is the outcome of one run of a workload.
type Measurement struct {
	// Ops counts the timed operations (appends, commits, opens, reads).
	Ops int
	// Events counts the events those operations carried.
	Events int
	// Bytes counts the payload bytes.
	Bytes int64
	// Elapsed is the timed duration.
	Elapsed time.Duration
	// Latencies holds per-operation latencies, when the workload samples
	// them.
	Latencies []time.Duration
	// Extra holds workload-specific figures, such as "bytes/event".
	Extra map[string]float64
}

// EventsPerSec returns the event rate.
func (m Measurement) EventsPerSec() float64 {
	if m.Elapsed <= 0 {
		return 0
	}
	return float64(m.Events) / m.Elapsed.Seconds()
}

// Percentile returns the p-th latency percentile (0 < p <= 100), 0 when
// no latency was sampled.
func (m Measurement) Percentile(p float64) time.Duration {
	if len(m.Latencies) == 0 {
		return 0
	}
	s := slices.Clone(m.Latencies)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// Workload is one measured scenario.
type Workload struct {
	// Name identifies the workload, for example "append/sync/16-writers".
	Name string
	// Run performs the workload with size n (operations, or events for
	// fills) on t and measures the timed part only.
	Run func(ctx context.Context, t Target, n int) (Measurement, error)
	// DefaultN is the size the report uses.
	DefaultN int

	// EngineOnly marks a workload that opens the engine itself (the raw
	// engine baselines, the space measurement) or measures what only a
	// store on an engine has (the head mark): backends that are whole logs,
	// such as postgres, skip it.
	EngineOnly bool
	// Only, when not empty, lists the backends the workload runs on, for
	// example {"rocksdb"} for a baseline written against one engine's own
	// library; the others skip it.
	Only []string
	// Standalone, when set, means that the workload uses no backend of the
	// run: it runs once per repeat, whatever the backends, and its figures
	// are reported under this name beside the backends' ("disk" for the
	// disk baselines, a peer's name for the peers of package peers).
	Standalone string
}

// RunsOn reports whether w runs on the backend name, which is an engine
// (a backend.Engine, under logstore/kvlog) when engine is true and a log
// backend (logstore.Opener) otherwise. A Standalone workload runs on no
// backend.
func (w Workload) RunsOn(name string, engine bool) bool {
	switch {
	case w.Standalone != "":
		return false
	case w.EngineOnly && !engine:
		return false
	case len(w.Only) > 0:
		return slices.Contains(w.Only, name)
	}
	return true
}

// Bench runs w as a testing.B benchmark with n = b.N, and reports events/s,
// the heap allocations per event of the whole run (the workload's setup,
// the store and the engine: allocs/event) and, when sampled, the p50 and
// p99 latencies.
func Bench(b *testing.B, t Target, w Workload) {
	b.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	m, err := w.Run(context.Background(), t, b.N)
	if err != nil {
		b.Fatalf("%s on %s: %v", w.Name, t.Backend, err)
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(m.EventsPerSec(), "events/s")
	if m.Events > 0 {
		b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(m.Events), "allocs/event")
	}
	if len(m.Latencies) > 0 {
		b.ReportMetric(float64(m.Percentile(50).Microseconds()), "p50-µs")
		b.ReportMetric(float64(m.Percentile(99).Microseconds()), "p99-µs")
	}
	for k, v := range m.Extra {
		b.ReportMetric(v, k)
	}
}

// dirSize returns the bytes of the files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	return n, err
}

// Payload returns size bytes of event data, a pattern that depends on i.
func Payload(size int, i int) []byte {
	b := make([]byte, size)
	for j := range b {
		b[j] = byte(i*31 + j*7)
	}
	return b
}

// StreamName names the i-th stream of a workload, "stream-0007".
func StreamName(i int) string { return fmt.Sprintf("stream-%04d", i) }
