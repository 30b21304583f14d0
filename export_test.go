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
