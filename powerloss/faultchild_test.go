package powerloss

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/rocksdb"
	"github.com/durablelog/eventstore/conformance"
	"github.com/durablelog/eventstore/internal/torture"
)

// faultChildEnv makes the test binary run faultChild (see
// maybeRunFaultChild). A store whose write-ahead log failed runs in a
// process of its own, so that a crash is an outcome and not the end of the
// test (the rocksdb engine's Close used to abort the process after such a
// failure: TestCloseAfterFailedCommit), and a store abandoned after a
// failure leaves nothing in the test process (RocksDB will not reopen a
// directory that an open instance in the same process still locks).
const faultChildEnv = "EVENTSTORE_POWERLOSS_FAULT_CHILD"

// faultSpec tells a fault child what to do.
type faultSpec struct {
	Dir     string        `json:"dir"`
	Backend string        `json:"backend"`
	Shape   torture.Shape `json:"shape"`
	Epoch   uint32        `json:"epoch"`
	// Close closes the store after the failure; otherwise the child exits
	// without closing it, as a crashed process would.
	Close bool `json:"close"`
	// Hold makes the child open the store, report it is ready and wait to
	// be killed, without appending.
	Hold bool `json:"hold,omitempty"`
	// MaxAppends, when positive, bounds the workload; a child whose
	// appends all succeeded reports "done" (and closes the store if Close
	// is set).
	MaxAppends int `json:"max_appends,omitempty"`
	// RocksWAL, for the rocksdb engine, is the WALRecoveryMode to open it
	// with (with the smallest memtable); 0 is the engine's defaults.
	RocksWAL rocksdb.WALRecoveryMode `json:"rocks_wal,omitempty"`
}

// options returns the store options of spec.
func (spec faultSpec) options() []eventstore.Option {
	opts := []eventstore.Option{eventstore.WithBackend(spec.Backend)}
	if spec.Backend == rocksdb.Name && spec.RocksWAL != 0 {
		opts = append(opts, eventstore.WithBackendConfig(rocksdb.Options{WALRecoveryMode: spec.RocksWAL, WriteBufferSize: 64 << 10}))
	}
	return opts
}

// faultMsg is one line of a fault child's standard output.
type faultMsg struct {
	T   string            `json:"t"` // ready, ack, rej, failed, refused, closed, done, error
	Ack *torture.Ack      `json:"ack,omitempty"`
	ID  *torture.AppendID `json:"id,omitempty"`
	Err string            `json:"err,omitempty"`
	OK  bool              `json:"ok,omitempty"`
}

// maybeRunFaultChild runs a fault child and exits when faultChildEnv is set.
func maybeRunFaultChild() {
	raw, ok := os.LookupEnv(faultChildEnv)
	if !ok {
		return
	}
	os.Exit(faultChild(raw))
}

type lineOut struct {
	mu sync.Mutex
}

func (l *lineOut) send(m faultMsg) {
	b, _ := json.Marshal(m)
	l.mu.Lock()
	defer l.mu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

type lineSink struct{ out *lineOut }

func (s lineSink) Ack(a torture.Ack)          { s.out.send(faultMsg{T: "ack", Ack: &a}) }
func (s lineSink) Reject(id torture.AppendID) { s.out.send(faultMsg{T: "rej", ID: &id}) }

// faultChild opens the store, reports it is ready, runs the torture
// workload until an append fails, checks that later appends are refused,
// and closes the store if asked.
func faultChild(raw string) int {
	out := &lineOut{}
	go func() { // die with the parent
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	var spec faultSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		out.send(faultMsg{T: "error", Err: err.Error()})
		return 2
	}
	s, err := torture.Open(spec.Dir, new(conformance.HashState), spec.options()...)
	if err != nil {
		out.send(faultMsg{T: "error", Err: "open: " + err.Error()})
		return 1
	}
	out.send(faultMsg{T: "ready"})
	if spec.Hold {
		select {}
	}
	_, err = torture.Workload{Shape: spec.Shape, Epoch: spec.Epoch, Workers: 4, MaxAppends: spec.MaxAppends}.Run(context.Background(), s, lineSink{out})
	if err == nil {
		if spec.Close {
			out.send(faultMsg{T: "closed", Err: fmt.Sprint(s.Close())})
		}
		out.send(faultMsg{T: "done"})
		return 0
	}
	out.send(faultMsg{T: "failed", Err: err.Error(), OK: errors.Is(err, eventstore.ErrFailed)})
	refused, why := true, ""
	for i := range 3 {
		_, err := s.Append(context.Background(), "after-failure", eventstore.Any, eventstore.Event{Type: "T", Data: []byte{byte(i)}})
		if !errors.Is(err, eventstore.ErrFailed) || !strings.Contains(fmt.Sprint(err), "reopen") {
			refused, why = false, fmt.Sprint(err)
		}
	}
	out.send(faultMsg{T: "refused", OK: refused, Err: why})
	if spec.Close {
		out.send(faultMsg{T: "closed", Err: fmt.Sprint(s.Close())})
	}
	return 0
}

// faultProc is a running fault child.
type faultProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	h      *torture.History
	stderr strings.Builder
	mu     sync.Mutex
	acks   int
	msgs   map[string]faultMsg
	ready  chan struct{}
	done   chan struct{}
}

func startFaultChild(spec faultSpec, h *torture.History) (*faultProc, error) {
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p := &faultProc{h: h, msgs: map[string]faultMsg{}, ready: make(chan struct{}), done: make(chan struct{})}
	p.cmd = exec.Command(exe, "-test.run=^$")
	p.cmd.Env = append(os.Environ(), faultChildEnv+"="+string(raw))
	p.cmd.Stderr = &lockedBuilder{mu: &p.mu, b: &p.stderr}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go p.read(stdout)
	return p, nil
}

type lockedBuilder struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (p *faultProc) read(r io.Reader) {
	defer close(p.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var m faultMsg
		if !strings.HasPrefix(sc.Text(), "{") || json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		switch m.T {
		case "ack":
			p.h.Ack(*m.Ack)
			p.mu.Lock()
			p.acks++
			p.mu.Unlock()
		case "rej":
			p.h.Reject(*m.ID)
		case "ready":
			close(p.ready)
		}
		p.mu.Lock()
		p.msgs[m.T] = m
		p.mu.Unlock()
	}
}

// waitAcks waits until the child reported n acknowledgements.
func (p *faultProc) waitAcks(n int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		p.mu.Lock()
		acks := p.acks
		p.mu.Unlock()
		switch {
		case acks >= n:
			return nil
		case isClosed(p.done):
			return fmt.Errorf("the fault child stopped after %d acks: %s", acks, p.describe())
		case time.Now().After(deadline):
			return fmt.Errorf("the fault child made %d acks in %v", acks, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wait waits for the child to exit (killing it after d) and returns its
// messages by type.
func (p *faultProc) wait(d time.Duration) (map[string]faultMsg, error) {
	select {
	case <-p.done:
	case <-time.After(d):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
	err := p.cmd.Wait()
	_ = p.stdin.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.msgs, err
}

func (p *faultProc) describe() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("messages %v; stderr: %s", p.msgs, tail(p.stderr.String()))
}

func (p *faultProc) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}
