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
//	--workload NAME   a workload of benchsuite.All() or benchsuite.MemoryWorkloads()
//	--backend NAME    a registered engine
//	--n N             the workload's size
//	--dir DIR         where to create the store (default: the system's temporary directory)
//
// It returns the process's exit code: 0 on success, 1 when the workload
// failed (the JSON line then carries the error), 2 on bad arguments. The
// program that routes to it must have imported the engines.
func ChildMain(args []string) int { return childMain(args, os.Stdout, os.Stderr) }

func childMain(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("bench --child", flag.ContinueOnError)
	fl.SetOutput(stderr)
	name := fl.String("workload", "", "workload name")
	backendName := fl.String("backend", "", "engine name")
	n := fl.Int("n", 0, "workload size")
	dir := fl.String("dir", "", "directory for the store")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 || *name == "" || *backendName == "" || *n <= 0 {
		fmt.Fprintln(stderr, "usage: bench --child --workload NAME --backend NAME --n N [--dir DIR]")
		return 2
	}
	w, ok := childWorkload(*name)
	if !ok {
		fmt.Fprintf(stderr, "bench --child: unknown workload %q\n", *name)
		return 2
	}
	tmp, err := os.MkdirTemp(*dir, "child-")
	if err != nil {
		fmt.Fprintf(stderr, "bench --child: %v\n", err)
		return 2
	}
	defer os.RemoveAll(tmp)
	dirs := &dirTracker{root: tmp}
	st := step{w: w, backend: *backendName, n: *n}
	s := runStep(context.Background(), st, dirs)
	benchsuite.Cleanup()
	s.Workload, s.Backend, s.N = w.Name, *backendName, *n
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

// childWorkload finds a workload that a child can run by its name.
func childWorkload(name string) (benchsuite.Workload, bool) {
	for _, w := range append(benchsuite.MemoryWorkloads(), benchsuite.All()...) {
		if w.Name == name {
			return w, true
		}
	}
	return benchsuite.Workload{}, false
}

// runChild runs st in a child process and returns its sample.
func runChild(ctx context.Context, command []string, dir string, st step) Sample {
	args := append(command[1:len(command):len(command)],
		"--workload", st.w.Name, "--backend", st.backend, "--n", strconv.Itoa(st.n), "--dir", dir)
	cmd := exec.CommandContext(ctx, command[0], args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var s Sample
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = msg[len(msg)-2000:]
		}
		if runErr == nil {
			runErr = err
		}
		return Sample{Err: fmt.Sprintf("child process %s: %v: %s", strings.Join(cmd.Args, " "), runErr, msg)}
	}
	return s
}
