package eventstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/durablelog/eventstore/internal/fsutil"
	"github.com/durablelog/eventstore/internal/layout"
	"github.com/durablelog/eventstore/internal/snapfile"
	"github.com/durablelog/eventstore/logstore"
)

// Fingerprinter is an optional interface of a StateMachine: Fingerprint
// returns a mark of the state's schema, such as "balances/v3", that is stored
// in every snapshot. Recovery skips a snapshot whose fingerprint differs and
// replays the events instead, so changing the mark is how a new release
// discards snapshots it cannot read. At most 1024 bytes.
type Fingerprinter interface {
	Fingerprint() string
}

// ErrNoStateMachine is returned by Snapshot on a store opened without
// WithStateMachine.
var ErrNoStateMachine = errors.New("eventstore: no state machine: open the store WithStateMachine to take snapshots")

// defaultReadCost is the replay cost of reading and decoding one event that
// Adaptive assumes until a recovery has measured it.
const defaultReadCost = 2 * time.Microsecond

// stateMachine applies committed records to the caller's StateMachine and
// takes its snapshots.
type stateMachine struct {
	s           *Store
	sm          StateMachine
	policy      SnapshotPolicy
	fingerprint string
	dir         string
	retention   int
	hooks       snapfile.Hooks

	// mu orders Apply and Snapshot(w): held while either runs.
	mu      sync.Mutex
	stopped bool // Apply failed: apply nothing more
	// recovered is set once Open's recovery has restored the state and
	// replayed the log: commits published before apply nothing.
	recovered bool
	applied   Offset // last applied offset
	// last is the offset of the newest snapshot restored, durable, or
	// written and queued for the background writer; the counters below
	// count what was applied since it. A snapshot that fails moves them
	// back (see takeFailures), so that the next trigger tries again.
	last           Offset
	eventsSince    uint64
	bytesSince     uint64
	applyTimeSince time.Duration
	readPerEvent   time.Duration
	// failures counts the snapshot attempts that failed in a row, and
	// failedAt is the offset applied at the last of them: an automatic
	// retry waits 1, 2, 4, ... events after it (Store.Snapshot and Close
	// do not wait).
	failures uint
	failedAt Offset
	closed   bool                 // no snapshot may start
	queue    chan pendingSnapshot // to the background writer; nil until the first

	bg sync.WaitGroup

	statusMu sync.Mutex
	status   SnapshotStatus
	durable  Offset // the newest durable or restored snapshot
	// failed holds the background failures not yet taken into account by
	// the goroutine that holds mu (takeFailures).
	failed []pendingSnapshot
}

// SnapshotStatus reports the store's snapshot activity since Open.
type SnapshotStatus struct {
	// Last is the offset of the newest durable snapshot, 0 when none.
	Last Offset
	// Taken and Failed count snapshots written and failed since Open.
	Taken, Failed uint64
	// LastError is the last failure, nil when the last attempt succeeded.
	LastError error
}

func newStateMachine(s *Store, sm StateMachine) *stateMachine {
	m := &stateMachine{
		s: s, sm: sm, policy: s.opts.policy, dir: layout.Snapshots(s.dir),
		retention: s.opts.retention, readPerEvent: defaultReadCost, hooks: s.opts.snapshotHooks,
	}
	if m.policy == nil {
		m.policy = EveryN(DefaultSnapshotEvery)
	}
	if m.retention <= 0 {
		m.retention = DefaultSnapshotRetention
	}
	if f, ok := sm.(Fingerprinter); ok {
		m.fingerprint = f.Fingerprint()
	}
	return m
}

func (m *stateMachine) stats(closing bool) SnapshotStats {
	return SnapshotStats{
		Head: m.applied, LastSnapshot: m.last, EventsSince: m.eventsSince, BytesSince: m.bytesSince,
		ApplyTimeSince:  m.applyTimeSince,
		EstimatedReplay: m.applyTimeSince + time.Duration(m.eventsSince)*m.readPerEvent,
		Closing:         closing,
	}
}

// apply applies one record; the caller holds mu.
func (m *stateMachine) apply(r Record) error {
	t := time.Now()
	err := m.sm.Apply(r)
	m.applyTimeSince += time.Since(t)
	if err != nil {
		return err
	}
	m.applied = r.Offset
	m.eventsSince++
	m.bytesSince += uint64(len(r.Data))
	return nil
}

// applyCommitted runs on the committing goroutine after each commit.
func (m *stateMachine) applyCommitted(recs []logstore.Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped || !m.recovered {
		// Before the end of recovery, the replay reads what is published.
		return
	}
	for _, r := range recs {
		if r.Offset <= m.applied {
			continue // the replay of recovery applied it
		}
		if r.Offset != m.applied+1 {
			m.stopped = true
			m.s.fail(r.Offset, fmt.Errorf("%w: %w: the log published offset %d after offset %d was applied: an offset would be skipped; reopen the store",
				ErrFailed, ErrStateMachine, r.Offset, m.applied))
			return
		}
		if err := m.apply(r); err != nil {
			m.stopped = true
			m.s.fail(r.Offset, fmt.Errorf("%w: %w: Apply of offset %d (stream %q version %d) returned: %w; the events are durable; reopen the store to rebuild the state",
				ErrFailed, ErrStateMachine, r.Offset, r.Stream, r.Version, err))
			return
		}
	}
	m.takeFailures()
	if m.retryDue() && m.policy.ShouldSnapshot(m.stats(false)) {
		m.snapshotLocked(false)
	}
}

// retryDue reports whether an automatic snapshot may be tried: always when
// the last attempt succeeded, else once 1, 2, 4, ... (at most 65536) events
// were applied since the last failure, so that a failing disk or Snapshot
// method is not retried at every commit. The caller holds mu.
func (m *stateMachine) retryDue() bool {
	if m.failures == 0 {
		return true
	}
	return uint64(m.applied-m.failedAt) >= 1<<min(m.failures-1, 16)
}

// takeFailures takes into account the snapshots that failed in the
// background since the last call: the bookkeeping moves back to the newest
// durable or restored snapshot, so that the events the failed snapshot was
// to cover count again and the policy, Store.Snapshot and Close try again.
// The caller holds mu.
func (m *stateMachine) takeFailures() {
	m.statusMu.Lock()
	failed := m.failed
	m.failed = nil
	durable := m.durable
	ok := m.status.LastError == nil
	m.statusMu.Unlock()
	if len(failed) == 0 {
		if ok {
			m.failures = 0
		}
		return
	}
	for _, p := range failed {
		m.bytesSince += p.bytes
		m.applyTimeSince += p.applyTime
	}
	m.noteFailure()
	if m.last > durable {
		m.last = durable
		m.eventsSince = uint64(m.applied - durable) // offsets are dense and every one was applied
	}
}

// noteFailure counts a failed attempt for retryDue. The caller holds mu.
func (m *stateMachine) noteFailure() {
	m.failures++
	m.failedAt = m.applied
}

// snapshotQueue bounds the snapshots written but not yet durable. A trigger
// that finds the queue full is skipped; the next one tries again.
const snapshotQueue = 4

// pendingSnapshot is a snapshot whose content is written and which waits for
// the background writer to make it durable.
type pendingSnapshot struct {
	w      *snapfile.Writer
	offset Offset
	out    chan error
	// What the policy's counters held when the snapshot was queued, given
	// back if it fails.
	bytes     uint64
	applyTime time.Duration
	// start is when the snapshot began, for the metrics.
	start time.Time
}

// snapshotLocked takes a snapshot of the state at m.applied: Snapshot(w)
// runs now, in line with Apply, and writes to a temporary file; the fsync,
// rename and pruning run on a background goroutine, in order. Without wait,
// a full queue skips the snapshot. It returns a channel that yields the
// outcome; the caller holds mu.
func (m *stateMachine) snapshotLocked(wait bool) <-chan error {
	out := make(chan error, 1)
	switch {
	case m.closed:
		out <- fmt.Errorf("%w: no snapshot after Close", ErrClosed)
		return out
	case m.applied == 0 || m.applied == m.last:
		if wait && m.queue != nil {
			// Wait for the snapshots in the queue: a barrier yields the
			// outcome of the last of them.
			m.queue <- pendingSnapshot{out: out}
			return out
		}
		out <- nil
		return out
	case !wait && m.queue != nil && len(m.queue) == cap(m.queue):
		m.s.logger.Debug("eventstore: snapshot skipped: earlier snapshots are still being written", "offset", uint64(m.applied))
		out <- nil
		return out
	}
	offset := m.applied
	start := time.Now()
	w, err := m.write(offset)
	if err != nil {
		// Nothing moves: the events since the last snapshot still count,
		// and the next trigger tries again.
		m.noteFailure()
		m.record(0, err)
		out <- err
		return out
	}
	p := pendingSnapshot{w: w, offset: offset, out: out, bytes: m.bytesSince, applyTime: m.applyTimeSince, start: start}
	m.last = offset
	m.eventsSince, m.bytesSince, m.applyTimeSince = 0, 0, 0
	if m.queue == nil {
		m.queue = make(chan pendingSnapshot, snapshotQueue)
		m.bg.Go(m.writer)
	}
	m.queue <- p
	return out
}

// writer makes queued snapshots durable, one at a time, and prunes.
func (m *stateMachine) writer() {
	for p := range m.queue {
		if p.w == nil {
			m.statusMu.Lock()
			p.out <- m.status.LastError
			m.statusMu.Unlock()
			continue
		}
		path, err := p.w.Commit(m.hooks)
		if err != nil {
			err = fmt.Errorf("eventstore: snapshot at offset %d: %w", p.offset, err)
			m.statusMu.Lock()
			m.failed = append(m.failed, pendingSnapshot{offset: p.offset, bytes: p.bytes, applyTime: p.applyTime})
			m.statusMu.Unlock()
		} else {
			m.statusMu.Lock()
			m.durable = max(m.durable, p.offset)
			m.statusMu.Unlock()
			m.s.logger.Debug("eventstore: snapshot written", "offset", uint64(p.offset), "file", path)
			if mt := m.s.metrics; mt != nil {
				h := p.w.Header()
				mt.snapshotDuration.observeDuration(time.Since(p.start))
				mt.snapshotBytes.observe(float64(uint64(h.Len()) + h.Size))
			}
			if perr := m.prune(); perr != nil {
				// The snapshot is durable; only the clean-up failed, and
				// the next snapshot prunes again.
				m.s.logger.Warn("eventstore: pruning old snapshots failed", "err", perr)
			}
		}
		m.record(p.offset, err)
		p.out <- err
	}
}

func (m *stateMachine) write(offset Offset) (*snapfile.Writer, error) {
	if err := fsutil.MkdirAllSync(m.dir, 0o755); err != nil {
		return nil, fmt.Errorf("eventstore: create %s: %w", m.dir, err)
	}
	w, err := snapfile.Create(m.dir, uint64(offset), m.fingerprint)
	if err != nil {
		return nil, fmt.Errorf("eventstore: snapshot at offset %d: %w", offset, err)
	}
	if err := m.sm.Snapshot(w); err != nil {
		w.Abort()
		return nil, fmt.Errorf("eventstore: snapshot at offset %d: the state machine's Snapshot returned: %w", offset, err)
	}
	if err := w.Flush(); err != nil {
		w.Abort()
		return nil, fmt.Errorf("eventstore: snapshot at offset %d: %w", offset, err)
	}
	return w, nil
}

func (m *stateMachine) record(offset Offset, err error) {
	m.statusMu.Lock()
	defer m.statusMu.Unlock()
	m.status.LastError = err
	if err != nil {
		m.status.Failed++
		m.s.logger.Error("eventstore: snapshot failed; appends go on, the next trigger tries again", "err", err)
		return
	}
	m.status.Taken++
	m.status.Last = max(m.status.Last, offset)
}

// prune removes all but the newest retention snapshots. It never keeps a
// snapshot past the head: such a snapshot saw events the log does not hold
// and is set aside as *.lost, as recovery does.
func (m *stateMachine) prune() error {
	list, err := snapfile.List(m.dir)
	if err != nil {
		return err
	}
	head := uint64(m.s.Head())
	kept := 0
	for _, info := range list {
		switch {
		case info.Offset > head:
			if _, err := setAsideLost(info.Path); err != nil {
				return err
			}
		case kept < m.retention:
			kept++
		default:
			if err := os.Remove(info.Path); err != nil {
				return fmt.Errorf("prune snapshot %s: %w", info.Path, err)
			}
		}
	}
	return nil
}

// close takes the closing snapshot if the policy asks for one and waits for
// the background writer. The log is closed: no Apply runs any more.
func (m *stateMachine) close() error {
	m.mu.Lock()
	var ch <-chan error
	m.takeFailures()
	if !m.stopped && m.policy.ShouldSnapshot(m.stats(true)) {
		ch = m.snapshotLocked(true)
	}
	m.closed = true
	if m.queue != nil {
		close(m.queue)
	}
	m.mu.Unlock()
	var err error
	if ch != nil {
		err = <-ch
	}
	m.bg.Wait()
	return err
}

// Snapshot takes a snapshot of the state machine now and returns once it is
// durable. It fails with ErrNoStateMachine without one. Appends wait only
// while the state machine's Snapshot method runs.
func (s *Store) Snapshot(ctx context.Context) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if s.sm == nil {
		return ErrNoStateMachine
	}
	if f := s.failure(); f != nil {
		return f.err
	}
	s.sm.mu.Lock()
	s.sm.takeFailures()
	ch := s.sm.snapshotLocked(true)
	s.sm.mu.Unlock()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// SnapshotStatus reports the snapshots taken and failed since Open. Without
// a state machine it is the zero value.
func (s *Store) SnapshotStatus() SnapshotStatus {
	if s.sm == nil {
		return SnapshotStatus{}
	}
	s.sm.statusMu.Lock()
	defer s.sm.statusMu.Unlock()
	return s.sm.status
}
