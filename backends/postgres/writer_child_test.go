package postgres_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/conformance"
	"github.com/stretchr/testify/require"
)

// writerArgs configures a writer child: Goroutines goroutines make Appends
// appends each to the shared Streams, and the child records each
// acknowledged append in the file Acks.
type writerArgs struct {
	Proc       int      `json:"proc"`
	Goroutines int      `json:"goroutines"`
	Appends    int      `json:"appends"`
	Streams    []string `json:"streams"`
	// Mode is "any" (expected version Any), "exact" (read StreamVersion,
	// append with it, on a WrongExpectedVersionError read again and retry)
	// or "mixed" (exact and Any in turn).
	Mode      string `json:"mode"`
	MaxEvents int    `json:"max_events"`
	// StateMachine opens the store with a conformance.HashState and checks
	// after every append that it has applied everything up to res.Last.
	StateMachine bool   `json:"state_machine"`
	Acks         string `json:"acks"`
	Seed         uint64 `json:"seed"`
}

// ack is an acknowledged append, as a writer child records it.
type ack struct {
	Proc      int                     `json:"proc"`
	Goroutine int                     `json:"goroutine"`
	Stream    string                  `json:"stream"`
	Expected  int64                   `json:"expected"`
	Res       eventstore.AppendResult `json:"res"`
	Events    []eventstore.Event      `json:"events"`
}

// writerMsg is every message between a writer child and the test.
type writerMsg struct {
	Ready     bool   `json:"ready,omitempty"`
	Go        bool   `json:"go,omitempty"`
	Done      bool   `json:"done,omitempty"`
	Appends   int    `json:"appends,omitempty"`
	Conflicts int    `json:"conflicts,omitempty"`
	Head      uint64 `json:"head,omitempty"`
	// The state machine's sum once the child has caught up with Head.
	Count uint64 `json:"count,omitempty"`
	Last  uint64 `json:"last,omitempty"`
	Hash  string `json:"hash,omitempty"`
}

// writerChild opens the store, says ready, waits for go, appends, says done
// with counts, waits for the final head of the log, catches up with it, and
// answers with its head and its state machine's sum.
func writerChild(cio *childIO, spec childSpec) error {
	var a writerArgs
	if err := jsonArgs(spec, &a); err != nil {
		return err
	}
	var sm *conformance.HashState
	var extra []eventstore.Option
	if a.StateMachine {
		sm = &conformance.HashState{}
		extra = append(extra, eventstore.WithStateMachine(sm), eventstore.WithSnapshotPolicy(eventstore.EveryN(200)))
	}
	s, err := spec.open(extra...)
	if err != nil {
		return err
	}
	defer s.Close()
	f, err := os.Create(a.Acks)
	if err != nil {
		return err
	}
	defer f.Close()
	acks := bufio.NewWriter(f)
	if err := cio.send(writerMsg{Ready: true, Head: uint64(s.Head())}); err != nil {
		return err
	}
	var msg writerMsg
	if err := cio.recv(&msg); err != nil || !msg.Go {
		return fmt.Errorf("waiting for go: %v %+v", err, msg)
	}
	var (
		mu        sync.Mutex
		appends   int
		conflicts int
		errs      []error
		wg        sync.WaitGroup
	)
	for g := range a.Goroutines {
		wg.Go(func() {
			w := &appender{s: s, sm: sm, args: a, g: g, rng: rand.New(rand.NewPCG(a.Seed, uint64(a.Proc*1000+g)))}
			for i := range a.Appends {
				rec, err := w.append(i)
				mu.Lock()
				if err == nil {
					appends++
					conflicts += w.conflicts
					w.conflicts = 0
					err = encodeLine(acks, rec)
				}
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(append(errs, acks.Flush(), f.Sync())...); err != nil {
		return err
	}
	if err := cio.send(writerMsg{Done: true, Appends: appends, Conflicts: conflicts}); err != nil {
		return err
	}
	if err := cio.recv(&msg); err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	caughtUp := func() bool {
		if sm != nil {
			// Head moves before the state machine applies what it
			// publishes.
			if _, last, _ := sm.Sum(); uint64(last) < msg.Head {
				return false
			}
		}
		return uint64(s.Head()) >= msg.Head
	}
	for !caughtUp() {
		if time.Now().After(deadline) {
			return fmt.Errorf("head %d, still not %d after a minute", s.Head(), msg.Head)
		}
		time.Sleep(5 * time.Millisecond)
	}
	reply := writerMsg{Head: uint64(s.Head())}
	if sm != nil {
		var last eventstore.Offset
		reply.Count, last, reply.Hash = sm.Sum()
		reply.Last = uint64(last)
	}
	if err := cio.send(reply); err != nil {
		return err
	}
	return s.Close()
}

// appender is one goroutine of a writer child.
type appender struct {
	s         *eventstore.Store
	sm        *conformance.HashState
	args      writerArgs
	g         int
	rng       *rand.Rand
	conflicts int
}

// append makes the i-th append of the goroutine and returns it as
// acknowledged.
func (w *appender) append(i int) (ack, error) {
	ctx := context.Background()
	a := ack{Proc: w.args.Proc, Goroutine: w.g, Stream: w.args.Streams[w.rng.IntN(len(w.args.Streams))], Expected: int64(eventstore.Any)}
	n := 1 + w.rng.IntN(max(w.args.MaxEvents, 1))
	for j := range n {
		e := eventstore.Event{
			ID:   fmt.Sprintf("p%d-g%d-a%d-e%d", w.args.Proc, w.g, i, j),
			Type: fmt.Sprintf("T%d", j),
			Data: fmt.Appendf(nil, "p%d g%d a%d e%d %x", w.args.Proc, w.g, i, j, w.rng.Uint64()),
		}
		if j%2 == 1 {
			e.Metadata = map[string]string{"proc": fmt.Sprint(w.args.Proc), "quote": `'"\`}
		}
		a.Events = append(a.Events, e)
	}
	exact := w.args.Mode == "exact" || w.args.Mode == "mixed" && i%2 == 0
	for attempt := 0; ; attempt++ {
		if attempt == 10000 {
			return a, fmt.Errorf("append %d of goroutine %d: still conflicting after %d attempts", i, w.g, attempt)
		}
		if exact {
			v, err := w.s.StreamVersion(ctx, a.Stream)
			if err != nil {
				return a, err
			}
			a.Expected = int64(v)
		}
		res, err := w.s.Append(ctx, a.Stream, eventstore.ExpectedVersion(a.Expected), a.Events...)
		var wev *eventstore.WrongExpectedVersionError
		if exact && errors.As(err, &wev) {
			if wev.Stream != a.Stream || int64(wev.Actual) == a.Expected {
				return a, fmt.Errorf("a wrong expected version error that does not fit: %v (expected %d)", err, a.Expected)
			}
			w.conflicts++
			continue
		}
		if err != nil {
			return a, fmt.Errorf("append %d of goroutine %d to %q: %w", i, w.g, a.Stream, err)
		}
		if int(res.Last-res.First)+1 != n || exact && res.Version != uint64(a.Expected)+uint64(n) {
			return a, fmt.Errorf("append of %d events at expected %d returned %+v", n, a.Expected, res)
		}
		if h := w.s.Head(); h < res.Last {
			return a, fmt.Errorf("append returned %+v before the head (%d) reached it", res, h)
		}
		if w.sm != nil {
			if _, last, _ := w.sm.Sum(); last < res.Last {
				return a, fmt.Errorf("append returned %+v when the state machine had applied up to %d", res, last)
			}
		}
		a.Res = res
		return a, nil
	}
}

// writerRun is the test's end of a set of writer children.
type writerRun struct {
	procs []*childProc
	args  []writerArgs
}

// startWriters starts n writer children with the arguments that args makes
// for each, and waits until each has opened its store.
func startWriters(t *testing.T, env pgEnv, n int, args func(proc int) writerArgs) *writerRun {
	t.Helper()
	w := &writerRun{}
	for p := range n {
		a := args(p)
		a.Proc = p
		if a.Acks == "" {
			a.Acks = fmt.Sprintf("%s/acks-%d.jsonl", t.TempDir(), p)
		}
		w.args = append(w.args, a)
		w.procs = append(w.procs, startChild(t, fmt.Sprintf("writer-%d", p), env, childSpec{Role: "writer"}, a))
	}
	for _, c := range w.procs {
		var m writerMsg
		c.recv(&m)
		require.True(t, m.Ready, "child %s: %+v", c.name, m)
	}
	return w
}

// run lets the writers go and waits until all are done; it returns the
// appends and conflicts they counted.
func (w *writerRun) run(t *testing.T) (appends, conflicts int) {
	t.Helper()
	for _, c := range w.procs {
		c.send(writerMsg{Go: true})
	}
	for _, c := range w.procs {
		var m writerMsg
		c.recv(&m)
		require.True(t, m.Done, "child %s: %+v", c.name, m)
		appends += m.Appends
		conflicts += m.Conflicts
	}
	return appends, conflicts
}

// finish tells the writers the log's final head, and returns what each
// answered once it caught up with it; the children then exit.
func (w *writerRun) finish(t *testing.T, head int64) []writerMsg {
	t.Helper()
	var out []writerMsg
	for _, c := range w.procs {
		c.send(writerMsg{Head: uint64(head)})
	}
	for _, c := range w.procs {
		var m writerMsg
		c.recv(&m)
		require.Equal(t, uint64(head), m.Head, "child %s caught up with another head", c.name)
		out = append(out, m)
	}
	for _, c := range w.procs {
		c.wait()
	}
	return out
}

// acks reads the appends the writers acknowledged.
func (w *writerRun) acks(t *testing.T) []ack {
	t.Helper()
	var out []ack
	for _, a := range w.args {
		out = append(out, readJSONLines[ack](t, a.Acks)...)
	}
	return out
}
