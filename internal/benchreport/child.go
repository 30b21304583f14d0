package benchreport

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/durablelog/eventstore/benchsuite"
)

// ChildMain runs one workload in this process and prints its sample, with
// the process's peak resident memory (VmHWM), as one line of JSON on
// standard output. args are the arguments that follow ChildArgs:
//
//	--workload NAME   a workload of DefaultWorkloads or benchsuite.MemoryWorkloads()
//	--backend NAME    a registered backend
//	--n N             the workload's size
//	--dir DIR         where to create the store (default: the system's temporary directory)
//	--pg-dsn DSN      the PostgreSQL server of the postgres backend
//
// With --process, it runs one process's part of the multi-process workload
// (ProcessesWorkload) instead, in the store directory --dir, on the schema
// --schema, with --writers writers whose streams start with --prefix: it
// prints "ready" once the store is open, appends when a line arrives on
// standard input, and then prints its sample as JSON.
//
// It returns the process's exit code: 0 on success, 1 when the workload
// failed (the JSON line then carries the error), 2 on bad arguments. The
// program that routes to it must have imported the engines.
func ChildMain(args []string) int { return childMain(args, os.Stdin, os.Stdout, os.Stderr) }

// childOptions are the flags of a child process.
type childOptions struct {
	workload, backend, dir, pgDSN string
	n                             int
	process                       bool
	schema, prefix                string
	writers                       int
}

func childMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o childOptions
	fl := flag.NewFlagSet("bench --child", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&o.workload, "workload", "", "workload name")
	fl.StringVar(&o.backend, "backend", "", "backend name")
	fl.IntVar(&o.n, "n", 0, "workload size")
	fl.StringVar(&o.dir, "dir", "", "directory for the store")
	fl.StringVar(&o.pgDSN, "pg-dsn", "", "the PostgreSQL server")
	fl.BoolVar(&o.process, "process", false, "one process of the multi-process workload")
	fl.StringVar(&o.schema, "schema", "", "with --process: the shared schema")
	fl.StringVar(&o.prefix, "prefix", "", "with --process: the prefix of the writers' streams")
	fl.IntVar(&o.writers, "writers", 0, "with --process: the writers")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 || o.workload == "" || o.backend == "" || o.n <= 0 {
		fmt.Fprintln(stderr, "usage: bench --child --workload NAME --backend NAME --n N [--dir DIR] [--pg-dsn DSN]")
		return 2
	}
	if o.process {
		if o.dir == "" || o.pgDSN == "" || o.schema == "" || o.writers <= 0 {
			fmt.Fprintln(stderr, "usage: bench --child --process --workload NAME --backend postgres --n N --dir DIR --pg-dsn DSN --schema NAME --writers N [--prefix P]")
			return 2
		}
		return processMain(o, stdin, stdout, stderr)
	}
	w, ok := childWorkload(o.workload, o.backend)
	if !ok {
		fmt.Fprintf(stderr, "bench --child: unknown workload %q\n", o.workload)
		return 2
	}
	tmp, err := os.MkdirTemp(o.dir, "child-")
	if err != nil {
		fmt.Fprintf(stderr, "bench --child: %v\n", err)
		return 2
	}
	defer os.RemoveAll(tmp)
	env := &runEnv{pgDSN: o.pgDSN}
	defer env.close()
	dirs := &dirTracker{root: tmp, env: env}
	defer dirs.forgetAll() // before env.close: drops the schemas left
	st := step{w: w, backend: o.backend, n: o.n}
	s := runStep(context.Background(), st, dirs, env)
	benchsuite.Cleanup()
	s.Workload, s.Backend, s.N = w.Name, o.backend, o.n
	s.PeakRSSMiB = float64(benchsuite.ProcStatus("VmHWM")) / (1 << 20)
	if err := json.NewEncoder(stdout).Encode(s); err != nil {
		fmt.Fprintf(stderr, "bench --child: %v\n", err)
		return 1
	}
	if s.Err != "" {
		return 1
	}
	return 0
}

// childWorkload finds a workload that a child can run by its name and
// the backend (or baseline) it runs on.
func childWorkload(name, backendName string) (benchsuite.Workload, bool) {
	for _, w := range append(benchsuite.MemoryWorkloads(), DefaultWorkloads(nil, nil)...) {
		if w.Name == name && (w.Standalone == "" || w.Standalone == backendName) {
			return w, true
		}
	}
	return benchsuite.Workload{}, false
}

// runChild runs st in a child process and returns its sample.
func runChild(ctx context.Context, command []string, dir string, st step, env *runEnv) Sample {
	args := append(command[1:len(command):len(command)],
		"--workload", st.w.Name, "--backend", st.backend, "--n", strconv.Itoa(st.n), "--dir", dir)
	if env.pgDSN != "" {
		args = append(args, "--pg-dsn", env.pgDSN)
	}
	cmd := exec.CommandContext(ctx, command[0], args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var s Sample
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		if runErr == nil {
			runErr = err
		}
		return Sample{Err: fmt.Sprintf("child process %s: %v: %s", strings.Join(cmd.Args, " "), runErr, tailString(stderr.String(), 2000))}
	}
	return s
}
