package eventstore

import "github.com/durablelog/eventstore/internal/snapfile"

// WithSnapshotHooks stops snapshot writes between their steps, for crash and
// failure tests.
func WithSnapshotHooks(h snapfile.Hooks) Option {
	return func(o *options) error {
		o.snapshotHooks = h
		return nil
	}
}

// DrainSnapshots waits until every snapshot queued so far is durable or has
// failed, with its bookkeeping done, and returns the last snapshot error
// (nil if none). Unlike Store.Snapshot it never takes a snapshot itself.
func DrainSnapshots(s *Store) error {
	m := s.sm
	m.mu.Lock()
	if m.queue == nil {
		m.mu.Unlock()
		return nil
	}
	out := make(chan error, 1)
	m.queue <- pendingSnapshot{out: out}
	m.mu.Unlock()
	return <-out
}
