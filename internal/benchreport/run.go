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
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/benchsuite"
	"github.com/durablelog/eventstore/benchsuite/peers"
	"github.com/durablelog/eventstore/internal/pgtest"
)

// step is one run of one workload on one backend.
type step struct {
	repeat  int
	w       benchsuite.Workload
	backend string
	n       int
	child   bool
}

// plan lists the steps: per repeat, each workload on each backend it runs
// on, the backends in an order that rotates from one repeat to the next;
// a Standalone workload once, under its own name.
func plan(cfg Config) []step {
	var steps []step
	for r := range cfg.Repeats {
		order := slices.Concat(cfg.Backends[r%len(cfg.Backends):], cfg.Backends[:r%len(cfg.Backends)])
		add := func(w benchsuite.Workload, child bool) {
			if w.Standalone != "" {
				steps = append(steps, step{repeat: r + 1, w: w, backend: w.Standalone, n: cfg.n(w), child: child})
				return
			}
			for _, b := range order {
				if w.RunsOn(b, isEngine(b)) {
					steps = append(steps, step{repeat: r + 1, w: w, backend: b, n: cfg.n(w), child: child})
				}
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
// into cfg.OutDir and returns the report. It refuses to start, with an
// error wrapping ErrBusy, when the machine's load is above cfg.MaxLoad
// (unless cfg.Force). A workload that fails on a backend is recorded in
// the report and does not stop the run; Run fails on a bad configuration,
// on an output it cannot write, or when ctx ends.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	guard, err := checkLoad(cfg.MaxLoad, cfg.Force)
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
	env := &runEnv{pgDSN: cfg.PostgresDSN}
	dirs := &dirTracker{root: work, env: env}
	var srv *pgtest.Server
	defer func() {
		benchsuite.Cleanup()
		dirs.forgetAll() // drops the postgres schemas left
		_ = env.close()
		if srv != nil {
			_ = srv.Close()
		}
		_ = os.RemoveAll(work)
	}()
	if slices.Contains(cfg.Backends, postgres.Name) && env.pgDSN == "" {
		if srv, err = startPostgres(ctx, cfg.WorkDir); err != nil {
			return nil, err
		}
		env.pgDSN = srv.DSN("postgres")
	}

	rep := &Report{
		Started: time.Now(), Command: os.Args, Backends: cfg.Backends, Repeats: cfg.Repeats, Scale: cfg.Scale,
		N: map[string]int{}, Memory: map[string]bool{}, Load: guard,
	}
	for _, b := range cfg.Backends {
		if !isEngine(b) {
			rep.LogBackends = append(rep.LogBackends, b)
		}
	}
	for i, w := range slices.Concat(cfg.Workloads, cfg.Memory) {
		if !slices.Contains(rep.Workloads, w.Name) {
			rep.Workloads = append(rep.Workloads, w.Name)
		}
		rep.N[w.Name] = cfg.n(w)
		if i >= len(cfg.Workloads) {
			rep.Memory[w.Name] = true
		}
	}
	rep.Machine, err = describeMachine(ctx, work, cfg.Backends, dirs, env)
	if err != nil {
		return nil, err
	}
	rep.Machine.LoadStart = guard.AtStart

	steps := plan(cfg)
	for _, st := range steps {
		if st.w.Standalone != "" && !slices.Contains(rep.Peers, st.backend) {
			rep.Peers = append(rep.Peers, st.backend)
		}
	}
	prog := newProgress(cfg.Progress, cfg.Log, len(steps))
	for i, st := range steps {
		if err := ctx.Err(); err != nil {
			prog.abort()
			return nil, fmt.Errorf("benchreport: interrupted after %d of %d runs: %w", i, len(steps), context.Cause(ctx))
		}
		prog.start(i, st)
		start := time.Now()
		before := loadAverage()
		var s Sample
		if st.child {
			s = runChild(ctx, cfg.ChildCommand, work, st, env)
		} else {
			s = runStep(ctx, st, dirs, env)
		}
		s.Workload, s.Backend, s.Repeat, s.N = st.w.Name, st.backend, st.repeat, st.n
		s.LoadBefore, s.LoadAfter = before, loadAverage()
		s.Load1, s.WallSec = before[0], time.Since(start).Seconds()
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

// target returns the Target of a step: its backend, with the
// configuration the run gives it, and directories from dirs.
func target(st step, dirs *dirTracker, env *runEnv) benchsuite.Target {
	t := benchsuite.Target{Backend: st.backend, TempDir: dirs.newDir(st.backend)}
	switch st.backend {
	case postgres.Name:
		dsn := env.pgDSN
		t.Config = func(dir string) any { return postgres.Options{DSN: dsn, Schema: schemaFor(dir)} }
	case peers.PgxName:
		dsn := env.pgDSN
		t.Config = func(string) any { return dsn }
	}
	return t
}

// runStep runs one step in this process.
func runStep(ctx context.Context, st step, dirs *dirTracker, env *runEnv) (s Sample) {
	t := target(st, dirs, env)
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
	env  *runEnv
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
		d.forget(dir)
		return true
	})
}

func (d *dirTracker) forgetAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, dir := range d.dirs {
		d.forget(dir)
	}
	d.dirs = nil
}

// forget drops what a store that lived in dir left outside it: the memory
// engine's data (the raw-engine workloads open the engine on dir, the
// event store on dir/engine), and the schema of a postgres store.
func (d *dirTracker) forget(dir string) {
	memory.Forget(dir)
	memory.Forget(filepath.Join(dir, "engine"))
	if strings.HasPrefix(filepath.Base(dir), postgres.Name+"-") {
		logDropError(dir, d.env.dropSchema(dir))
	}
}
