package torture

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/conformance"
)

// ChildEnv is the environment variable that makes a test binary act as a
// child: it holds the ChildSpec as JSON. See MaybeRunChild.
const ChildEnv = "EVENTSTORE_TORTURE_CHILD"

// Child modes.
const (
	ModeWorkload = "workload" // open the store and run the workload until killed
	ModeInspect  = "inspect"  // open a damaged store and classify it (corruption trials)
)

// ChildSpec tells a child process what to do.
type ChildSpec struct {
	Mode    string `json:"mode"`
	Dir     string `json:"dir"`
	Backend string `json:"backend"`
	// Profile names the engine configuration (see EngineConfig).
	Profile string `json:"profile,omitempty"`
	// NoSync opens the store WithDurability(NoSync) instead of Sync:
	// appends are acknowledged before they are durable.
	NoSync bool `json:"no_sync,omitempty"`
	// Workload is run in ModeWorkload. With MaxAppends > 0 the child
	// closes the store and exits after them; otherwise it runs until it
	// is killed.
	Workload Workload `json:"workload"`
	// Hold, with MaxAppends > 0, makes the child report "done" after the
	// workload and then wait to be killed, without closing the store.
	Hold bool `json:"hold,omitempty"`
	// HistoryFile is the History (History.Save) that ModeInspect checks
	// the store against.
	HistoryFile string `json:"history_file,omitempty"`
	// Trial describes the damage, in ModeInspect, for the record.
	Trial *Damage `json:"trial,omitempty"`
}

// message is one line of the child's protocol on its fd 3.
type message struct {
	T        string                     `json:"t"` // ready, ack, rej, done, error, result
	Head     eventstore.Offset          `json:"head,omitempty"`
	Retries  uint64                     `json:"lock_retries,omitempty"`
	Recovery *eventstore.RecoveryReport `json:"recovery,omitempty"`
	Ack      *Ack                       `json:"ack,omitempty"`
	ID       *AppendID                  `json:"id,omitempty"`
	Stats    *Stats                     `json:"stats,omitempty"`
	Err      string                     `json:"err,omitempty"`
	Result   *Result                    `json:"result,omitempty"`
}

// MaybeRunChild runs the child's part and exits when ChildEnv is set, and
// returns at once otherwise. Call it first in TestMain.
func MaybeRunChild() {
	raw, ok := os.LookupEnv(ChildEnv)
	if !ok {
		return
	}
	os.Exit(runChild(raw, nil))
}

// runChild runs the child's part of spec raw. open, when not nil, opens the
// store of a workload child instead of Open with the spec's backend and
// profile (see RunWorkloadChild).
func runChild(raw string, open Opener) int {
	out := os.NewFile(3, "torture-pipe")
	if out == nil {
		fmt.Fprintln(os.Stderr, "torture child: no fd 3")
		return 2
	}
	// A parent that is gone closes our stdin: exit rather than linger.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	w := &lineWriter{f: out}
	var spec ChildSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		w.send(message{T: "error", Err: fmt.Sprintf("decode %s: %v", ChildEnv, err)})
		return 2
	}
	switch spec.Mode {
	case ModeWorkload:
		if open != nil {
			return workloadChildWith(spec, w, open)
		}
		return workloadChild(spec, w)
	case ModeInspect:
		res := inspectChild(spec)
		w.send(message{T: "result", Result: &res})
		return 0
	}
	w.send(message{T: "error", Err: fmt.Sprintf("unknown mode %q", spec.Mode)})
	return 2
}

func workloadChild(spec ChildSpec, w *lineWriter) int {
	opts, err := StoreOptions(spec.Backend, spec.Profile)
	if err != nil {
		w.send(message{T: "error", Err: err.Error()})
		return 1
	}
	if spec.NoSync {
		opts = append(opts, eventstore.WithDurability(eventstore.NoSync))
	}
	sm := new(conformance.HashState)
	s, err := Open(spec.Dir, sm, opts...)
	if err != nil {
		w.send(message{T: "error", Err: fmt.Sprintf("open: %v", err)})
		return 1
	}
	return runWorkload(spec, w, s)
}

// runWorkload runs the workload of a child on its open store s, reporting on
// w, until the child is killed, or until the workload ends (MaxAppends).
func runWorkload(spec ChildSpec, w *lineWriter, s *eventstore.Store) int {
	rec := s.LastRecovery()
	w.send(message{T: "ready", Head: s.Head(), Recovery: &rec, Retries: LockRetries()})
	st, err := spec.Workload.Run(context.Background(), s, pipeSink{w})
	if err != nil {
		w.send(message{T: "error", Err: err.Error()})
		return 1
	}
	if spec.Hold {
		w.send(message{T: "done", Stats: &st})
		select {} // until killed; the stdin watcher exits if the parent dies
	}
	if err := s.Close(); err != nil {
		w.send(message{T: "error", Err: fmt.Sprintf("close: %v", err)})
		return 1
	}
	w.send(message{T: "done", Stats: &st})
	return 0
}

// lineWriter writes one JSON line per message with one write(2), so that a
// line is in the pipe whole or not at all (lines are below PIPE_BUF).
type lineWriter struct {
	mu sync.Mutex
	f  *os.File
}

func (w *lineWriter) send(m message) {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	b = append(b, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.f.Write(b); err != nil {
		os.Exit(4) // the parent is gone
	}
}

type pipeSink struct{ w *lineWriter }

func (p pipeSink) Ack(a Ack)          { p.w.send(message{T: "ack", Ack: &a}) }
func (p pipeSink) Reject(id AppendID) { p.w.send(message{T: "rej", ID: &id}) }

// Child is a child process started by StartWorkloadChild or by a
// corruption trial.
type Child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	sink  Sink

	ready   chan struct{} // closed at the "ready" line
	done    chan struct{} // closed at the "done" line
	drained chan struct{} // closed when the pipe reached EOF

	started time.Time
	readyAt time.Time

	mu          sync.Mutex
	acks        int
	ackWait     []ackWaiter
	head        eventstore.Offset
	lockRetries uint64
	recovery    eventstore.RecoveryReport
	stats       *Stats
	childErr    string
	result      *Result
	stderr      bytes.Buffer

	waitOnce sync.Once
	waitErr  error
}

type ackWaiter struct {
	n  int
	ch chan struct{}
}

// StartWorkloadChild starts this test binary as a child that opens the store
// spec.Dir (see Open) and runs spec.Workload, and reports the
// acknowledgements and rejections to sink (usually a *History). The caller
// must Kill or Wait for it.
func StartWorkloadChild(spec ChildSpec, sink Sink) (*Child, error) {
	spec.Mode = ModeWorkload
	return startChild(spec, sink)
}

func startChild(spec ChildSpec, sink Sink) (*Child, error) {
	return startChildCommand(spec, sink, ChildCommand{})
}

// startChildCommand starts the child of spec with cmd's arguments and
// environment (the defaults: "-test.run=^$" and ChildEnv).
func startChildCommand(spec ChildSpec, sink Sink, cmd ChildCommand) (*Child, error) {
	args, env := cmd.Args, cmd.Env
	if args == nil {
		args = []string{"-test.run=^$"}
	}
	if env == "" {
		env = ChildEnv
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c := &Child{sink: sink, ready: make(chan struct{}), done: make(chan struct{}), drained: make(chan struct{})}
	c.cmd = exec.Command(exe, args...)
	c.cmd.Env = append(append(os.Environ(), cmd.Environ...), env+"="+string(raw))
	c.cmd.ExtraFiles = []*os.File{pw}
	c.cmd.Stderr = &lockedWriter{mu: &c.mu, w: &c.stderr}
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	c.started = time.Now()
	if err := c.cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("torture: start the child: %w", err)
	}
	pw.Close() // the child holds the write end now: EOF comes when it dies
	go c.read(pr)
	return c, nil
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (c *Child) read(pr *os.File) {
	defer close(c.drained)
	defer pr.Close()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	readyClosed := false
	for sc.Scan() {
		var m message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			c.mu.Lock()
			c.childErr = fmt.Sprintf("malformed line from the child: %q", sc.Text())
			c.mu.Unlock()
			continue
		}
		switch m.T {
		case "ready":
			c.mu.Lock()
			c.head = m.Head
			c.lockRetries = m.Retries
			if m.Recovery != nil {
				c.recovery = *m.Recovery
			}
			c.mu.Unlock()
			if !readyClosed {
				c.readyAt = time.Now()
				close(c.ready)
				readyClosed = true
			}
		case "ack":
			if c.sink != nil && m.Ack != nil {
				c.sink.Ack(*m.Ack)
			}
			c.mu.Lock()
			c.acks++
			kept := c.ackWait[:0]
			for _, w := range c.ackWait {
				if c.acks >= w.n {
					close(w.ch)
				} else {
					kept = append(kept, w)
				}
			}
			c.ackWait = kept
			c.mu.Unlock()
		case "rej":
			if c.sink != nil && m.ID != nil {
				c.sink.Reject(*m.ID)
			}
		case "done":
			c.mu.Lock()
			c.stats = m.Stats
			c.mu.Unlock()
			close(c.done)
		case "error":
			c.mu.Lock()
			c.childErr = m.Err
			c.mu.Unlock()
		case "result":
			c.mu.Lock()
			c.result = m.Result
			c.mu.Unlock()
		}
	}
	// A line cut short by the kill is not a whole message, and Scanner
	// returns it as a last token only when it ends the stream without a
	// newline: it then fails to decode above and is reported as malformed.
	// Lines are written with one write(2), so this does not happen.
}

// Ready is closed when the child has opened the store.
func (c *Child) Ready() <-chan struct{} { return c.ready }

// Done is closed when the child reports that its workload finished
// (Workload.MaxAppends).
func (c *Child) Done() <-chan struct{} { return c.done }

// StartupTime returns how long the child took to open the store, 0 if it
// has not yet.
func (c *Child) StartupTime() time.Duration {
	select {
	case <-c.ready:
		return c.readyAt.Sub(c.started)
	default:
		return 0
	}
}

// Exited is closed when the child's pipe is closed: the child is dead or
// about to be.
func (c *Child) Exited() <-chan struct{} { return c.drained }

// AfterAcks returns a channel that is closed once the child has reported n
// acknowledgements.
func (c *Child) AfterAcks(n int) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{})
	if c.acks >= n {
		close(ch)
		return ch
	}
	c.ackWait = append(c.ackWait, ackWaiter{n: n, ch: ch})
	return ch
}

// Acks returns the number of acknowledgements read so far.
func (c *Child) Acks() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.acks
}

// Head returns the head the child found when it opened the store.
func (c *Child) Head() eventstore.Offset {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.head
}

// Stats returns the workload's figures the child reported when it finished
// (Workload.MaxAppends), nil before.
func (c *Child) Stats() *Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Recovery returns the recovery report the child sent when it was ready.
func (c *Child) Recovery() eventstore.RecoveryReport {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recovery
}

// LockRetries returns how often the child found the store locked when it
// opened it (see Open).
func (c *Child) LockRetries() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lockRetries
}

// Stderr returns what the child wrote to its standard error.
func (c *Child) Stderr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

// Err returns the error the child reported, "" when none.
func (c *Child) Err() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.childErr
}

// Kill sends SIGKILL to the child and returns once it is dead and every line
// it wrote has been read (and fed to the sink). It reports whether the child
// was still running when killed.
func (c *Child) Kill() (killed bool) {
	select {
	case <-c.drained:
	default:
		killed = c.cmd.Process.Signal(syscall.SIGKILL) == nil
	}
	_ = c.Wait()
	return killed
}

// Wait waits for the child to exit by itself and for its pipe to drain, and
// returns its exit error.
func (c *Child) Wait() error {
	c.waitOnce.Do(func() {
		<-c.drained
		c.waitErr = c.cmd.Wait()
		_ = c.stdin.Close()
	})
	return c.waitErr
}

// WaitTimeout is Wait that kills the child after d.
func (c *Child) WaitTimeout(d time.Duration) (timedOut bool, err error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.drained:
	case <-t.C:
		timedOut = c.Kill()
	}
	return timedOut, c.Wait()
}

// describe returns the child's exit status, error and the tail of its
// stderr, for failure messages.
func (c *Child) describe() string {
	var b bytes.Buffer
	if c.cmd.ProcessState != nil {
		fmt.Fprintf(&b, "child %s", c.cmd.ProcessState)
	}
	if e := c.Err(); e != "" {
		fmt.Fprintf(&b, "; reported: %s", e)
	}
	if s := c.Stderr(); s != "" {
		if len(s) > 4000 {
			s = "..." + s[len(s)-4000:]
		}
		fmt.Fprintf(&b, "; stderr:\n%s", s)
	}
	return b.String()
}
