package eventstore

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/durablelog/eventstore/logstore"
)

// Metrics is a snapshot of the store's counters, gauges and histograms, for
// monitoring: cheap to take (no I/O), and dependency-free. Package
// prommetrics exports it to Prometheus. Counters count since Open; the
// durations of histograms are in seconds. docs/operations.md says what each
// one means, what a healthy value looks like and which alerts to set.
type Metrics struct {
	// Appends counts the Append calls that succeeded, retries included.
	Appends uint64
	// EventsAppended counts the events committed (a recognised retry
	// writes none; an Import's events count).
	EventsAppended uint64
	// BytesAppended counts the data and metadata bytes of EventsAppended.
	BytesAppended uint64
	// Conflicts counts the appends refused with a wrong expected version.
	Conflicts uint64
	// Retries counts the appends recognised as retries of earlier ones,
	// which wrote nothing.
	Retries uint64
	// AppendErrors counts the other appends that failed (invalid input,
	// closed or failed store, a done context, a failed commit).
	AppendErrors uint64

	// AppendDuration is the time from the call of Append to its return,
	// for every append.
	AppendDuration Histogram
	// CommitDuration is the time the storage took to write and sync one
	// group commit (the engine's write and sync, or a database
	// transaction).
	CommitDuration Histogram
	// CommitGroupEvents and CommitGroupAppends are the events and the
	// appends that one group commit carried.
	CommitGroupEvents, CommitGroupAppends Histogram
	// AppendQueueDepth is the number of appends waiting for the committer
	// now.
	AppendQueueDepth uint64

	// Head is the offset of the last published event.
	Head Offset
	// Generation is the store's generation (Store.Generation).
	Generation uint64
	// Failed is set once the store stopped (ErrFailed).
	Failed bool

	// SnapshotsTaken and SnapshotsFailed count the snapshots written and
	// failed since Open.
	SnapshotsTaken, SnapshotsFailed uint64
	// SnapshotDuration is the time a snapshot took, from the start of the
	// state machine's Snapshot to the durable rename.
	SnapshotDuration Histogram
	// SnapshotBytes is the size of the snapshot files written.
	SnapshotBytes Histogram
	// LastSnapshot is the offset of the newest durable snapshot, 0 when
	// none.
	LastSnapshot Offset

	// RecoveryDuration is how long the last Open took; RecoveryReplayed
	// counts the events it replayed, RecoverySkippedSnapshots the
	// snapshots it passed over.
	RecoveryDuration         time.Duration
	RecoveryReplayed         uint64
	RecoverySkippedSnapshots uint64

	// Subscribers is the number of Subscribe iterations running.
	Subscribers uint64
	// SubscriberLag holds, for each running subscription, how far it is
	// behind: the head minus the last offset it yielded. SubscriberLagMax
	// is the largest of them.
	SubscriberLag    Histogram
	SubscriberLagMax uint64
}

// storeMetrics holds the live counters and histograms. Its updates on the
// append path are a few atomic additions.
type storeMetrics struct {
	appends, events, bytes, conflicts, retries, appendErrors atomic.Uint64
	appendDuration                                           *histogram
	commitDuration, groupEvents, groupAppends                *histogram
	snapshotDuration, snapshotBytes                          *histogram

	subsMu sync.Mutex
	subs   map[*subscription]struct{}
}

// subscription is one running Subscribe iteration, for the lag gauge.
type subscription struct {
	last atomic.Uint64 // the last offset yielded
}

func newStoreMetrics() *storeMetrics {
	return &storeMetrics{
		appendDuration: newHistogram(durationBounds),
		commitDuration: newHistogram(durationBounds), groupEvents: newHistogram(countBounds), groupAppends: newHistogram(countBounds),
		snapshotDuration: newHistogram(durationBounds), snapshotBytes: newHistogram(sizeBounds),
		subs: map[*subscription]struct{}{},
	}
}

// Commit implements logstore.Observer.
func (m *storeMetrics) Commit(appends, events int, bytes int64, d time.Duration) {
	m.events.Add(uint64(events))
	m.bytes.Add(uint64(bytes))
	m.commitDuration.observeDuration(d)
	m.groupEvents.observe(float64(events))
	m.groupAppends.observe(float64(appends))
}

// Retry implements logstore.Observer.
func (m *storeMetrics) Retry() { m.retries.Add(1) }

var _ logstore.Observer = (*storeMetrics)(nil)

// appended records the outcome of one Append call.
func (m *storeMetrics) appended(err error, d time.Duration) {
	m.appendDuration.observeDuration(d)
	switch {
	case err == nil:
		m.appends.Add(1)
	case errors.Is(err, ErrWrongExpectedVersion):
		m.conflicts.Add(1)
	default:
		m.appendErrors.Add(1)
	}
}

// subscribe registers a running subscription.
func (m *storeMetrics) subscribe() *subscription {
	sub := &subscription{}
	m.subsMu.Lock()
	m.subs[sub] = struct{}{}
	m.subsMu.Unlock()
	return sub
}

func (m *storeMetrics) unsubscribe(sub *subscription) {
	m.subsMu.Lock()
	delete(m.subs, sub)
	m.subsMu.Unlock()
}

// Metrics returns a snapshot of the store's metrics. It does no I/O and may
// be called at any time, also after Close (the counters then stay as they
// were).
func (s *Store) Metrics() Metrics {
	m := s.metrics
	if m == nil {
		out := Metrics{Head: s.Head(), Generation: s.Generation(), Failed: s.failure() != nil}
		if f, ok := s.log.(logstore.Failer); ok && f.Failed() != nil {
			out.Failed = true
		}
		return out
	}
	out := Metrics{
		Appends: m.appends.Load(), EventsAppended: m.events.Load(), BytesAppended: m.bytes.Load(),
		Conflicts: m.conflicts.Load(), Retries: m.retries.Load(), AppendErrors: m.appendErrors.Load(),
		AppendDuration: m.appendDuration.snapshot(), CommitDuration: m.commitDuration.snapshot(),
		CommitGroupEvents: m.groupEvents.snapshot(), CommitGroupAppends: m.groupAppends.snapshot(),
		Head: s.Head(), Generation: s.Generation(), Failed: s.failure() != nil,
		SnapshotDuration: m.snapshotDuration.snapshot(), SnapshotBytes: m.snapshotBytes.snapshot(),
		RecoveryDuration: s.recovery.Duration, RecoveryReplayed: s.recovery.EventsReplayed,
		RecoverySkippedSnapshots: uint64(len(s.recovery.Skipped)),
	}
	if f, ok := s.log.(logstore.Failer); ok && f.Failed() != nil {
		out.Failed = true
	}
	if q, ok := s.log.(logstore.QueueDepther); ok {
		out.AppendQueueDepth = uint64(q.QueueDepth())
	}
	if s.sm != nil {
		st := s.SnapshotStatus()
		out.SnapshotsTaken, out.SnapshotsFailed, out.LastSnapshot = st.Taken, st.Failed, st.Last
	}
	lag := newHistogram(countBounds)
	head := uint64(out.Head)
	m.subsMu.Lock()
	for sub := range m.subs {
		l := head - min(head, sub.last.Load())
		lag.observe(float64(l))
		out.SubscriberLagMax = max(out.SubscriberLagMax, l)
	}
	out.Subscribers = uint64(len(m.subs))
	m.subsMu.Unlock()
	out.SubscriberLag = lag.snapshot()
	return out
}
