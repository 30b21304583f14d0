package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/durablelog/eventstore/backends/postgres"
)

// childEnv marks the processes that run starts, for a test binary that
// runs them as this program.
const childEnv = "MULTIWRITER_CHILD=1"

// run starts the writers and the projection as processes of this program,
// waits for them, and checks the projection against the plan. The
// projection runs twice: until half of the payments are applied, then again
// from its checkpoint until all of them are.
func run(ctx context.Context, c config, out io.Writer) (State, error) {
	if c.dir == "" {
		tmp, err := os.MkdirTemp("", "multiwriter-")
		if err != nil {
			return State{}, err
		}
		defer os.RemoveAll(tmp)
		c.dir = tmp
	}
	info, err := postgres.Inspect(ctx, postgres.Options{DSN: c.dsn, Schema: c.schema})
	if err != nil {
		return State{}, err
	}
	if !info.Empty() {
		return State{}, fmt.Errorf("schema %q of database %q is not empty (%d events): the example checks its result against its plan; give -schema a new name, or drop the schema",
			c.schema, info.Database, info.Head)
	}
	fmt.Fprintf(out, "store: postgres database %q schema %q; workspace %s\n", info.Database, c.schema, c.dir)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := &procs{c: c, out: out}
	total := uint64(c.writers * c.payments)

	first, err := p.start(ctx, "projection", "project", "-until", strconv.FormatUint(total/2, 10))
	if err != nil {
		return State{}, err
	}
	var writers []*exec.Cmd
	for w := range c.writers {
		cmd, err := p.start(ctx, fmt.Sprintf("writer-%d", w), "write", "-writer", strconv.Itoa(w))
		if err != nil {
			return State{}, err
		}
		writers = append(writers, cmd)
	}
	if err := first.Wait(); err != nil {
		return State{}, fmt.Errorf("projection, first run: %w", err)
	}
	second, err := p.start(ctx, "projection", "project", "-until", strconv.FormatUint(total, 10))
	if err != nil {
		return State{}, err
	}
	for w, cmd := range writers {
		if err := cmd.Wait(); err != nil {
			return State{}, fmt.Errorf("writer-%d: %w", w, err)
		}
	}
	if err := second.Wait(); err != nil {
		return State{}, fmt.Errorf("projection, second run: %w", err)
	}
	st, err := load(stateFile(c))
	if err != nil {
		return st, err
	}
	printState(out, st)
	want := expected(c, st.Checkpoint.Generation)
	if !reflect.DeepEqual(st, want) {
		return st, fmt.Errorf("the projection differs from the plan: %+v, want %+v", st, want)
	}
	fmt.Fprintf(out, "the projection matches the plan: %d payments, each applied once, balances exact\n", total)
	return st, nil
}

// expected is the projection's final State by the plan: every payment of
// every writer applied once, whatever the order the writers committed in.
func expected(c config, generation uint64) State {
	st := State{Checkpoint: Checkpoint{Generation: generation, Offset: uint64(c.writers * c.payments)}, Accounts: map[string]Account{}}
	for w := range c.writers {
		for _, p := range plan(c, w) {
			a := st.Accounts[p.account]
			a.Balance += p.amount
			a.Payments++
			st.Accounts[p.account] = a
		}
	}
	return st
}

// printState prints the read model.
func printState(out io.Writer, st State) {
	names := make([]string, 0, len(st.Accounts))
	for name := range st.Accounts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		a := st.Accounts[name]
		fmt.Fprintf(out, "  %-10s balance %6d  payments %3d\n", name, a.Balance, a.Payments)
	}
}

// procs starts the example's processes, with their output on out, each line
// prefixed with the process's name.
type procs struct {
	c   config
	out io.Writer
	mu  sync.Mutex
}

// start starts this program with the command and the arguments, and the
// shared flags.
func (p *procs) start(ctx context.Context, name string, args ...string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args = append(args, "-dsn", p.c.dsn, "-schema", p.c.schema, "-dir", p.c.dir,
		"-writers", strconv.Itoa(p.c.writers), "-payments", strconv.Itoa(p.c.payments), "-accounts", strconv.Itoa(p.c.accounts))
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Env = append(os.Environ(), childEnv)
	cmd.Stdout = &prefixed{p: p, name: name}
	cmd.Stderr = cmd.Stdout
	// Stopped early (another process failed): SIGTERM first, which closes
	// the store cleanly.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return cmd, nil
}

// prefixed writes whole lines to the shared output, prefixed.
type prefixed struct {
	p    *procs
	name string
	buf  []byte
}

func (w *prefixed) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		w.p.mu.Lock()
		_, err := fmt.Fprintf(w.p.out, "%-11s %s\n", w.name+":", w.buf[:i])
		w.p.mu.Unlock()
		w.buf = w.buf[i+1:]
		if err != nil {
			return len(b), err
		}
	}
}
