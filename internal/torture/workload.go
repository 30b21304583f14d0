package torture

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/conformance"
)

// SnapshotEvery is the snapshot policy of the durability tests: EveryN(50).
const SnapshotEvery = 50

// Open opens the store in dir as the durability tests do: Sync durability,
// sm as the state machine, EveryN(SnapshotEvery) snapshots. opts come last,
// so they can override any of these (name the engine with
// eventstore.WithBackend and pass its configuration with
// eventstore.WithBackendConfig).
//
// Open retries for up to LockRetry while the directory is locked
// (eventstore.ErrLocked). The store's lock is an flock, which belongs to an
// open file description: when a test process that runs several loops at
// once forks a child (os/exec) while one loop's store is open, the forked
// process holds a duplicate of the lock's descriptor until it execs, so the
// lock outlives that store's Close for a moment.
func Open(dir string, sm *conformance.HashState, opts ...eventstore.Option) (*eventstore.Store, error) {
	base := []eventstore.Option{
		eventstore.WithDurability(eventstore.Sync),
		eventstore.WithStateMachine(sm),
		eventstore.WithSnapshotPolicy(eventstore.EveryN(SnapshotEvery)),
	}
	opts = append(base, opts...)
	deadline := time.Now().Add(LockRetry)
	for {
		s, err := eventstore.Open(dir, opts...)
		if !errors.Is(err, eventstore.ErrLocked) || time.Now().After(deadline) {
			return s, err
		}
		lockRetries.Add(1)
		time.Sleep(5 * time.Millisecond)
	}
}

// LockRetry is how long Open retries a locked directory.
const LockRetry = 10 * time.Second

var lockRetries atomic.Uint64

// LockRetries returns how many times Open found the directory locked and
// retried, in this process.
func LockRetries() uint64 { return lockRetries.Load() }

// Ack is one acknowledged append: Append returned nil.
type Ack struct {
	ID     AppendID          `json:"id"`
	Stream string            `json:"stream"`
	First  eventstore.Offset `json:"first"`
	Last   eventstore.Offset `json:"last"`
	// Version is the stream's version after the append (the version of
	// its last event).
	Version uint64 `json:"version"`
	// Events is the number of events, Last-First+1.
	Events int `json:"events"`
	// Hash is Planned.Hash of the content submitted.
	Hash string `json:"hash"`
}

// Sink receives what a Workload learns. Both methods may be called
// concurrently.
type Sink interface {
	// Ack is called after Append returned nil, never before.
	Ack(Ack)
	// Reject is called after Append failed with a wrong expected
	// version: the append must be absent from the log.
	Reject(AppendID)
}

// Workload appends concurrently to random streams.
type Workload struct {
	Shape Shape
	// Epoch distinguishes the runs that write one directory: give each
	// run of a History its own, so append ids never repeat.
	Epoch uint32
	// Workers is the number of appending goroutines. Default 4.
	Workers int
	// MaxAppends, when positive, stops the workload after that many
	// appends were attempted (acknowledged, rejected or failed). Zero runs
	// until ctx is done.
	MaxAppends int
	// AnyPercent is the share of appends made with eventstore.Any; the
	// others name the exact version the worker believes the stream is at
	// (NoStream for a stream it believes empty). Default 50. A negative
	// value means 0.
	AnyPercent int
}

// Stats counts what a Workload did.
type Stats struct {
	Appends  uint64 // attempted
	Acked    uint64 // appends acknowledged
	Events   uint64 // events acknowledged
	Rejected uint64 // wrong expected version
}

// Run appends until ctx is done, MaxAppends appends were attempted, or an
// append fails with another error than a wrong expected version, which it
// returns. Appends themselves run with context.Background: an append that
// started is waited for, so its outcome is known. It reports to sink, which
// may be nil.
func (w Workload) Run(ctx context.Context, s *eventstore.Store, sink Sink) (Stats, error) {
	shape := w.Shape.withDefaults()
	workers := w.Workers
	if workers <= 0 {
		workers = 4
	}
	anyPct := w.AnyPercent
	if anyPct == 0 {
		anyPct = 50
	}
	var (
		st      stats
		started atomic.Int64
		known   = newVersions()
		wg      sync.WaitGroup
		errOnce sync.Once
		runErr  error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for wk := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(shape.Seed^uint64(w.Epoch)<<20, uint64(wk)+1))
			for seq := uint32(1); ctx.Err() == nil; seq++ {
				if w.MaxAppends > 0 && started.Add(1) > int64(w.MaxAppends) {
					return
				}
				id := AppendID{Epoch: w.Epoch, Worker: uint16(wk), Seq: seq}
				if err := appendOne(s, shape, id, rng.IntN(100) < anyPct, known, sink, &st); err != nil {
					errOnce.Do(func() { runErr = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	return st.get(), runErr
}

func appendOne(s *eventstore.Store, shape Shape, id AppendID, useAny bool, known *versions, sink Sink, st *stats) error {
	p := Plan(shape, id)
	expected := eventstore.Any
	if !useAny {
		expected = eventstore.ExpectedVersion(known.get(p.Stream))
	}
	st.appends.Add(1)
	res, err := s.Append(context.Background(), p.Stream, expected, p.Events...)
	var wrong *eventstore.WrongExpectedVersionError
	switch {
	case errors.As(err, &wrong):
		known.raise(p.Stream, wrong.Actual)
		st.rejected.Add(1)
		if sink != nil {
			sink.Reject(id)
		}
		return nil
	case err != nil:
		return fmt.Errorf("torture: append %s to %q (expected %d): %w", id, p.Stream, expected, err)
	}
	known.raise(p.Stream, res.Version)
	st.acked.Add(1)
	st.events.Add(uint64(len(p.Events)))
	if sink != nil {
		sink.Ack(Ack{ID: id, Stream: p.Stream, First: res.First, Last: res.Last, Version: res.Version, Events: len(p.Events), Hash: p.Hash()})
	}
	return nil
}

type stats struct{ appends, acked, events, rejected atomic.Uint64 }

func (s *stats) get() Stats {
	return Stats{Appends: s.appends.Load(), Acked: s.acked.Load(), Events: s.events.Load(), Rejected: s.rejected.Load()}
}

// versions is what the workers believe the streams' versions are.
type versions struct {
	mu sync.Mutex
	m  map[string]uint64
}

func newVersions() *versions { return &versions{m: map[string]uint64{}} }

func (v *versions) get(stream string) uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.m[stream]
}

func (v *versions) raise(stream string, ver uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.m[stream] = max(v.m[stream], ver)
}
