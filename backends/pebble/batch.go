package pebble

import (
	"errors"
	"fmt"

	cpebble "github.com/cockroachdb/pebble/v2"
)

// batch is a backend.Batch over a pebble.Batch.
type batch struct {
	s *kv
	b *cpebble.Batch // nil once committed or closed
	n int            // Set and Delete calls
}

// errBatchDone is returned by Commit on a batch already committed or closed.
var errBatchDone = errors.New("pebble: Commit of a batch that was already committed or closed; create a new batch with NewBatch")

// Set stores value under key. The batch copies both slices. Set panics when
// the batch was already committed or closed.
func (b *batch) Set(key, value []byte) {
	if b.b == nil {
		panic("pebble: Set on a batch that was already committed or closed; create a new batch with NewBatch")
	}
	_ = b.b.Set(key, value, nil) // fails only for indexed batches
	b.n++
}

// Delete removes key. The batch copies the slice. Delete panics when the
// batch was already committed or closed.
func (b *batch) Delete(key []byte) {
	if b.b == nil {
		panic("pebble: Delete on a batch that was already committed or closed; create a new batch with NewBatch")
	}
	_ = b.b.Delete(key, nil) // fails only for indexed batches
	b.n++
}

// Len returns the number of Set and Delete calls so far.
func (b *batch) Len() int { return b.n }

// Commit applies the batch atomically and releases it. With sync it returns
// once the WAL is fsynced up to the batch (pebble.Sync). Without sync it does
// the same, unless Options.NoSyncBuffered selects pebble.NoSync; see the
// package documentation. After Close of the store it returns an error
// wrapping backend.ErrClosed.
func (b *batch) Commit(sync bool) error {
	pb := b.b
	if pb == nil {
		return errBatchDone
	}
	b.b = nil
	s := b.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		_ = pb.Close()
		return errClosed("commit")
	}
	if fe := s.failed.Load(); fe != nil {
		_ = pb.Close()
		return fmt.Errorf("pebble: commit in %s: %w", s.dir, fe)
	}
	wo := cpebble.Sync
	if !sync && s.noSyncBuffered {
		wo = cpebble.NoSync
	}
	err := func() (err error) {
		defer catchFatal(&err)
		return s.db.Apply(pb, wo)
	}()
	if isFatal(err) {
		// Pebble's commit pipeline is broken; the batch may be referenced
		// still, so leave it to the garbage collector.
		return s.fail("commit", err)
	}
	_ = pb.Close() // returns an error only for a double Close
	if err != nil {
		return s.wrap("commit", err)
	}
	return nil
}

// Close releases a batch that will not be committed. After Commit it does
// nothing.
func (b *batch) Close() {
	if b.b != nil {
		_ = b.b.Close()
		b.b = nil
	}
}
