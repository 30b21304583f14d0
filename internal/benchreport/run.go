package benchreport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/benchsuite"
)

// step is one run of one workload on one backend.
type step struct {
	repeat  int
	w       benchsuite.Workload
	backend string
	n       int
	child   bool
}

// plan lists the steps: per repeat, each workload on each backend, the
// backends in an order that rotates from one repeat to the next.
func plan(cfg Config) []step {
	var steps []step
	for r := range cfg.Repeats {
		order := slices.Concat(cfg.Backends[r%len(cfg.Backends):], cfg.Backends[:r%len(cfg.Backends)])
		add := func(w benchsuite.Workload, child bool) {
			if engineFree(w) {
				steps = append(steps, step{repeat: r + 1, w: w, backend: DiskBackend, n: cfg.n(w), child: child})
				return
			}
			for _, b := range order {
				steps = append(steps, step{repeat: r + 1, w: w, backend: b, n: cfg.n(w), child: child})
			}
		}
		for _, w := range cfg.Workloads {
			add(w, false)
		}
		if r < cfg.MemoryRepeats {
			for _, w := range cfg.Memory {
				add(w, true)
			}
		}
	}
	return steps
}

// Run runs the workloads of cfg on its backends, writes the report's files
// into cfg.OutDir and returns the report. A workload that fails on a
// backend is recorded in the report and does not stop the run; Run fails
// on a bad configuration, on an output it cannot write, or when ctx ends.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("benchreport: %w", err)
	}
	if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("benchreport: %w", err)
	}
	work, err := os.MkdirTemp(cfg.WorkDir, ".bench-work-")
	if err != nil {
		return nil, fmt.Errorf("benchreport: %w", err)
	}
	dirs := &dirTracker{root: work}
	defer func() {
		benchsuite.Cleanup()
		dirs.forgetAll()
		_ = os.RemoveAll(work)
	}()

	rep := &Report{
		Started: time.Now(), Command: os.Args, Backends: cfg.Backends, Repeats: cfg.Repeats, Scale: cfg.Scale,
		N: map[string]int{}, Memory: map[string]bool{},
	}
	for _, w := range cfg.Workloads {
		rep.Workloads = append(rep.Workloads, w.Name)
		rep.N[w.Name] = cfg.n(w)
	}
	for _, w := range cfg.Memory {
		rep.Workloads = append(rep.Workloads, w.Name)
		rep.N[w.Name] = cfg.n(w)
		rep.Memory[w.Name] = true
	}
	rep.Machine, err = describeMachine(work, cfg.Backends, dirs)
	if err != nil {
		return nil, err
	}

	steps := plan(cfg)
	prog := newProgress(cfg.Progress, cfg.Log, len(steps))
	for i, st := range steps {
		if err := ctx.Err(); err != nil {
			prog.abort()
			return nil, fmt.Errorf("benchreport: interrupted after %d of %d runs: %w", i, len(steps), context.Cause(ctx))
		}
		prog.start(i, st)
		start := time.Now()
		load := loadAverage()[0]
		var s Sample
		if st.child {
			s = runChild(ctx, cfg.ChildCommand, work, st)
		} else {
			s = runStep(ctx, st, dirs)
		}
		s.Workload, s.Backend, s.Repeat, s.N = st.w.Name, st.backend, st.repeat, st.n
		s.Load1, s.WallSec = load, time.Since(start).Seconds()
		if s.Err != "" && ctx.Err() != nil {
			prog.abort()
			return nil, fmt.Errorf("benchreport: interrupted during %s on %s: %w", st.w.Name, st.backend, context.Cause(ctx))
		}
		rep.Samples = append(rep.Samples, s)
		prog.done(i, s)
	}
	prog.finish()
	rep.Machine.LoadEnd = loadAverage()
	rep.Finished = time.Now()
	rep.Wall = rep.Finished.Sub(rep.Started)
	rep.Summarize()
	if err := rep.WriteFiles(cfg.OutDir); err != nil {
		return rep, err
	}
	return rep, nil
}

// runStep runs one step in this process.
func runStep(ctx context.Context, st step, dirs *dirTracker) (s Sample) {
	t := benchsuite.Target{Backend: st.backend, TempDir: dirs.newDir(st.backend)}
	defer dirs.forgetRemoved()
	defer func() {
		if p := recover(); p != nil {
			s = Sample{Err: fmt.Sprintf("panic: %v", p)}
		}
	}()
	m, err := st.w.Run(ctx, t, st.n)
	s = sampleOf(m)
	if err != nil {
		s.Err = err.Error()
	}
	return s
}

// dirTracker hands out the workloads' directories and frees the memory
// engine's data of those removed: the memory engine keeps a store's data
// until the process ends or memory.Forget, and a run of a million events
// holds hundreds of MiB.
type dirTracker struct {
	root string
	mu   sync.Mutex
	dirs []string
}

func (d *dirTracker) newDir(prefix string) func() (string, error) {
	return func() (string, error) {
		dir, err := os.MkdirTemp(d.root, prefix+"-")
		if err != nil {
			return "", err
		}
		d.mu.Lock()
		d.dirs = append(d.dirs, dir)
		d.mu.Unlock()
		return dir, nil
	}
}

// forgetRemoved forgets the directories that no longer exist; those that
// remain are the fixtures that benchsuite keeps until Cleanup.
func (d *dirTracker) forgetRemoved() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dirs = slices.DeleteFunc(d.dirs, func(dir string) bool {
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			return false
		}
		forget(dir)
		return true
	})
}

func (d *dirTracker) forgetAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, dir := range d.dirs {
		forget(dir)
	}
	d.dirs = nil
}

// forget drops the memory engine's data kept for dir: the raw-engine
// workloads open the engine on dir, the event store on dir/engine.
func forget(dir string) {
	memory.Forget(dir)
	memory.Forget(filepath.Join(dir, "engine"))
}

// loadAverage returns the 1, 5 and 15-minute load averages, zeros when
// unknown.
func loadAverage() [3]float64 {
	var l [3]float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return l
	}
	_, _ = fmt.Sscan(strings.TrimSpace(string(b)), &l[0], &l[1], &l[2])
	return l
}
