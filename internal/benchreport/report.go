package benchreport

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/durablelog/eventstore/benchsuite"
)

// Report is the outcome of Run; results.json holds it whole.
type Report struct {
	// Started and Finished bound the run; Wall is its duration.
	Started  time.Time     `json:"started"`
	Finished time.Time     `json:"finished"`
	Wall     time.Duration `json:"wall_ns"`
	// Command is the command line of the process that ran it.
	Command []string `json:"command,omitempty"`
	// Machine describes where it ran.
	Machine Machine `json:"machine"`
	// Load is the load check made before the run: whether it was forced
	// to start on a busy machine.
	Load LoadGuard `json:"load_guard"`
	// Backends and Repeats are the run's; Scale and N are the sizes it used.
	Backends []string       `json:"backends"`
	Repeats  int            `json:"repeats"`
	Scale    float64        `json:"scale"`
	N        map[string]int `json:"n"`
	// LogBackends are those of Backends that are whole logs (postgres),
	// on which the raw engine workloads do not run.
	LogBackends []string `json:"log_backends,omitempty"`
	// Peers are the names under which the baselines that use no backend
	// are reported: the disk (the physical limit) and the peers of package
	// peers, in the order they first ran.
	Peers []string `json:"peers,omitempty"`
	// Workloads lists the workloads in report order; Memory says which
	// ran in child processes.
	Workloads []string        `json:"workloads"`
	Memory    map[string]bool `json:"memory,omitempty"`
	// Samples holds every run, in the order they ran.
	Samples []Sample `json:"samples"`
	// Results summarizes the samples per workload and backend (or peer),
	// in report order; Targets evaluates the targets, Yardstick the rate
	// of each backend over the memory engine's on every workload, and
	// Limit the rate of each backend and peer over the physical limit's.
	// All derive from Samples (see Summarize).
	Results   []Result       `json:"results"`
	Targets   []TargetResult `json:"targets"`
	Yardstick []TargetResult `json:"yardstick,omitempty"`
	Limit     []Ratio        `json:"limit,omitempty"`
	// Files lists the files written, relative to the output directory.
	Files []string `json:"files,omitempty"`
}

// Sample is one run of one workload on one backend.
type Sample struct {
	Workload string `json:"workload"`
	Backend  string `json:"backend"`
	// Repeat counts from 1.
	Repeat int `json:"repeat"`
	// N is the size the workload ran with.
	N int `json:"n"`
	// Ops, Events, Bytes and Elapsed are the workload's Measurement.
	Ops          int     `json:"ops"`
	Events       int     `json:"events"`
	Bytes        int64   `json:"bytes"`
	ElapsedSec   float64 `json:"elapsed_s"`
	EventsPerSec float64 `json:"events_per_s"`
	// P50us, P99us and MaxUs are latency percentiles in microseconds, 0
	// when the workload samples no latency.
	P50us float64 `json:"p50_us,omitempty"`
	P99us float64 `json:"p99_us,omitempty"`
	MaxUs float64 `json:"max_us,omitempty"`
	// Extra holds the workload's own figures, such as "open-ms".
	Extra map[string]float64 `json:"extra,omitempty"`
	// PeakRSSMiB is the child process's peak resident memory (VmHWM),
	// for the workloads run in a child; 0 otherwise.
	PeakRSSMiB float64 `json:"peak_rss_mib,omitempty"`
	// Load1 is the one-minute load average when the run started.
	Load1 float64 `json:"load1"`
	// LoadBefore and LoadAfter are the 1, 5 and 15-minute load averages
	// (/proc/loadavg) just before and just after the run.
	LoadBefore [3]float64 `json:"load_before"`
	LoadAfter  [3]float64 `json:"load_after"`
	// WallSec is the run's whole duration, setup included.
	WallSec float64 `json:"wall_s"`
	// Err is the run's error, if it failed.
	Err string `json:"error,omitempty"`
}

// sampleOf converts a measurement.
func sampleOf(m benchsuite.Measurement) Sample {
	s := Sample{
		Ops: m.Ops, Events: m.Events, Bytes: m.Bytes,
		ElapsedSec: m.Elapsed.Seconds(), EventsPerSec: m.EventsPerSec(),
	}
	if len(m.Latencies) > 0 {
		s.P50us = micros(m.Percentile(50))
		s.P99us = micros(m.Percentile(99))
		s.MaxUs = micros(m.Percentile(100))
	}
	if len(m.Extra) > 0 {
		s.Extra = make(map[string]float64, len(m.Extra))
		for k, v := range m.Extra {
			s.Extra[k] = v
		}
	}
	return s
}

func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }

// Result summarizes one workload on one backend over the repeats. Failed
// runs count in Failures and are left out of the figures.
type Result struct {
	Workload string `json:"workload"`
	Backend  string `json:"backend"`
	N        int    `json:"n"`
	Runs     int    `json:"runs"`
	Failures int    `json:"failures,omitempty"`
	// Error is the first failure's error.
	Error        string             `json:"error,omitempty"`
	EventsPerSec Summary            `json:"events_per_s"`
	P50us        Summary            `json:"p50_us"`
	P99us        Summary            `json:"p99_us"`
	MaxUs        Summary            `json:"max_us"`
	Extra        map[string]Summary `json:"extra,omitempty"`
	PeakRSSMiB   Summary            `json:"peak_rss_mib"`
}

// Summarize recomputes r.Results and r.Targets from r.Samples.
func (r *Report) Summarize() {
	type key struct{ w, b string }
	groups := map[key][]Sample{}
	for _, s := range r.Samples {
		k := key{s.Workload, s.Backend}
		groups[k] = append(groups[k], s)
	}
	r.Results = r.Results[:0]
	for _, w := range r.Workloads {
		for _, b := range r.columns() {
			ss, ok := groups[key{w, b}]
			if !ok {
				continue
			}
			r.Results = append(r.Results, summarizeSamples(ss))
		}
	}
	r.Targets = EvaluateTargets(r.Samples, r.Backends, r.LogBackends)
	r.Yardstick = EvaluateYardstick(r.Samples, r.Workloads, r.Backends, r.Memory)
	r.Limit = r.limitRatios()
	applyNotes(r.Targets, r.Yardstick)
}

// columns lists the backends and the peers in table order: the physical
// limit, the backends, then the other peers.
func (r *Report) columns() []string {
	cols := slices.Clone(r.Backends)
	if slices.Contains(r.Peers, DiskBackend) || slices.ContainsFunc(r.Samples, func(s Sample) bool { return s.Backend == DiskBackend }) {
		cols = append([]string{DiskBackend}, cols...)
	}
	for _, p := range r.Peers {
		if !slices.Contains(cols, p) {
			cols = append(cols, p)
		}
	}
	return cols
}

func summarizeSamples(ss []Sample) Result {
	res := Result{Workload: ss[0].Workload, Backend: ss[0].Backend, N: ss[0].N}
	var rate, p50, p99, mx, rss []float64
	extra := map[string][]float64{}
	for _, s := range ss {
		if s.Err != "" {
			res.Failures++
			if res.Error == "" {
				res.Error = s.Err
			}
			continue
		}
		res.Runs++
		rate = append(rate, s.EventsPerSec)
		if s.P50us > 0 || s.P99us > 0 {
			p50 = append(p50, s.P50us)
			p99 = append(p99, s.P99us)
			mx = append(mx, s.MaxUs)
		}
		if s.PeakRSSMiB > 0 {
			rss = append(rss, s.PeakRSSMiB)
		}
		for k, v := range s.Extra {
			extra[k] = append(extra[k], v)
		}
	}
	res.EventsPerSec, res.P50us, res.P99us, res.MaxUs, res.PeakRSSMiB = Summarize(rate), Summarize(p50), Summarize(p99), Summarize(mx), Summarize(rss)
	if len(extra) > 0 {
		res.Extra = map[string]Summary{}
		for k, v := range extra {
			res.Extra[k] = Summarize(v)
		}
	}
	return res
}

// result returns the result of workload w on backend b.
func (r *Report) result(w, b string) (Result, bool) {
	i := slices.IndexFunc(r.Results, func(x Result) bool { return x.Workload == w && x.Backend == b })
	if i < 0 {
		return Result{}, false
	}
	return r.Results[i], true
}

// LoadReport reads a results.json that Run wrote and recomputes its
// summaries, so that Report.WriteFiles can write the report again, for
// example after a change to the charts.
func LoadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("benchreport: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("benchreport: %s: %w", path, err)
	}
	r.Summarize()
	return &r, nil
}
