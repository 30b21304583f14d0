package benchreport

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/benchsuite"
)

// The multi-process workload: Processes child processes, each with
// ProcessWriters writers, append to one shared log.
const (
	Processes      = 4
	ProcessWriters = 16
)

// ProcessesWorkloadName names the workload of ProcessesWorkload with procs
// processes of writers writers each.
func ProcessesWorkloadName(procs, writers int) string {
	return fmt.Sprintf("append/sync/%d-processes/%d-writers", procs, writers)
}

// ProcessesWorkload returns the workload in which procs child processes,
// started with command (see Config.ChildCommand), open stores on one shared
// log (the postgres backend: one schema) and append n single 200-byte
// events in all, Sync, from writers goroutines each, every writer to its
// own stream. It measures their total: the children open their stores and
// say so, then all start at once on a line from the parent, and the time
// runs from that line to the last child's result. It runs on the postgres
// backend only.
func ProcessesWorkload(procs, writers int, command []string) benchsuite.Workload {
	return benchsuite.Workload{
		Name:     ProcessesWorkloadName(procs, writers),
		Run:      processesRun(procs, writers, command),
		DefaultN: benchsuite.AppendSync64.DefaultN,
		Only:     []string{postgres.Name},
	}
}

func processesRun(procs, writers int, command []string) func(context.Context, benchsuite.Target, int) (benchsuite.Measurement, error) {
	return func(ctx context.Context, t benchsuite.Target, n int) (m benchsuite.Measurement, err error) {
		dir, cleanup, err := t.NewDir()
		if err != nil {
			return m, err
		}
		defer cleanup()
		var opts postgres.Options
		if t.Config != nil {
			opts, _ = t.Config(dir).(postgres.Options)
		}
		if t.Backend != postgres.Name || opts.DSN == "" {
			return m, fmt.Errorf("benchreport: %s runs on the postgres backend with a DSN, not on %s", ProcessesWorkloadName(procs, writers), t.Backend)
		}
		if len(command) == 0 {
			return m, errors.New("benchreport: no command for the child processes")
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		children := make([]*child, procs)
		defer func() {
			for _, c := range children {
				if c != nil {
					err = errors.Join(err, c.stop())
				}
			}
		}()
		for i := range procs {
			share := n / procs
			if i < n%procs {
				share++
			}
			args := append(slices.Clip(command[1:]),
				"--process", "--workload", ProcessesWorkloadName(procs, writers), "--backend", postgres.Name,
				"--n", strconv.Itoa(share), "--writers", strconv.Itoa(writers), "--prefix", fmt.Sprintf("p%d-", i),
				"--dir", filepath.Join(dir, fmt.Sprintf("p%d", i)), "--pg-dsn", opts.DSN, "--schema", opts.Schema)
			if children[i], err = startChild(ctx, command[0], args); err != nil {
				return m, err
			}
		}
		for _, c := range children {
			if err := c.waitReady(); err != nil {
				return m, err
			}
		}
		start := time.Now()
		for _, c := range children {
			if err := c.start(); err != nil {
				return m, err
			}
		}
		results := make([]processResult, procs)
		errs := make([]error, procs)
		var wg sync.WaitGroup
		for i, c := range children {
			wg.Go(func() { results[i], errs[i] = c.result() })
		}
		wg.Wait()
		m.Elapsed = time.Since(start)
		if err := errors.Join(errs...); err != nil {
			return m, err
		}
		for _, r := range results {
			m.Ops += r.Ops
			m.Events += r.Events
			m.Bytes += r.Bytes
			for _, us := range r.LatenciesUs {
				m.Latencies = append(m.Latencies, time.Duration(us*1000))
			}
		}
		return m, nil
	}
}

// processResult is what a child of the multi-process workload prints.
type processResult struct {
	Sample
	LatenciesUs []float64 `json:"latencies_us"`
}

// child is a running child process of the multi-process workload.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Reader
	stderr *lockedBuffer
	done   bool
}

// processReady is the line a child prints once its store is open.
const processReady = "ready"

func startChild(ctx context.Context, name string, args []string) (*child, error) {
	c := &child{cmd: exec.CommandContext(ctx, name, args...), stderr: &lockedBuffer{}}
	c.cmd.Stderr = c.stderr
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c.out = bufio.NewReader(stdout)
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("benchreport: start a child process: %w", err)
	}
	return c, nil
}

func (c *child) fail(what string, err error) error {
	return fmt.Errorf("benchreport: child process %s: %s: %v: %s", strings.Join(c.cmd.Args, " "), what, err, tailString(c.stderr.String(), 2000))
}

// waitReady reads the child's ready line.
func (c *child) waitReady() error {
	line, err := c.out.ReadString('\n')
	if err == nil && strings.TrimSpace(line) != processReady {
		err = fmt.Errorf("unexpected output %q", line)
	}
	if err != nil {
		return c.fail("waiting for it to open its store", err)
	}
	return nil
}

// start tells the child to append.
func (c *child) start() error {
	if _, err := io.WriteString(c.stdin, "go\n"); err != nil {
		return c.fail("starting it", err)
	}
	return nil
}

// result reads the child's result and waits for it to exit.
func (c *child) result() (processResult, error) {
	var r processResult
	line, err := c.out.ReadString('\n')
	if err == nil {
		err = json.Unmarshal([]byte(line), &r)
	}
	if err == nil && r.Err != "" {
		err = errors.New(r.Err)
	}
	werr := c.cmd.Wait()
	c.done = true
	if err == nil {
		err = werr
	}
	if err != nil {
		return r, c.fail("appending", err)
	}
	return r, nil
}

// stop ends a child that has not finished (its context is cancelled by
// then, which kills it) and reaps it.
func (c *child) stop() error {
	if c.done {
		return nil
	}
	_ = c.stdin.Close()
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
	c.done = true
	return nil
}

// processMain is the child's side of the multi-process workload.
func processMain(o childOptions, stdin io.Reader, stdout, stderr io.Writer) int {
	opts := postgres.Options{DSN: o.pgDSN, Schema: o.schema}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "bench --child --process: %v\n", err)
		return 1
	}
	s, err := eventstore.Open(o.dir, eventstore.WithBackend(postgres.Name), eventstore.WithBackendConfig(opts),
		eventstore.WithDurability(eventstore.Sync))
	if err != nil {
		fmt.Fprintf(stderr, "bench --child --process: %v\n", err)
		return 1
	}
	defer s.Close()
	fmt.Fprintln(stdout, processReady)
	if _, err := bufio.NewReader(stdin).ReadString('\n'); err != nil {
		fmt.Fprintf(stderr, "bench --child --process: no start line: %v\n", err)
		return 1
	}
	m, err := benchsuite.AppendSingles(context.Background(), s, o.writers, o.n, o.prefix)
	if err == nil {
		err = s.Close()
	}
	r := processResult{Sample: sampleOf(m)}
	for _, d := range m.Latencies {
		r.LatenciesUs = append(r.LatenciesUs, micros(d))
	}
	if err != nil {
		r.Err = err.Error()
	}
	if err := json.NewEncoder(stdout).Encode(r); err != nil {
		fmt.Fprintf(stderr, "bench --child --process: %v\n", err)
		return 1
	}
	if r.Err != "" {
		return 1
	}
	return 0
}

// schemaFor names the schema of the store in dir: every store of a run
// gets its own.
func schemaFor(dir string) string {
	h := fnv.New64a()
	h.Write([]byte(dir))
	return fmt.Sprintf("bench_%016x", h.Sum64())
}

// lockedBuffer is a buffer that a child process writes while Run reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func tailString(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
