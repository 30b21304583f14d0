package eventstore

import (
	"context"
	"fmt"
	"iter"
)

// Subscribe iterates the log from offset from (inclusive): first the
// records already committed, then each new commit as it is published, with
// no gap and no duplicate. In Sync mode a record is published only once it is
// durable. The iteration ends without an error when ctx is done, and with
// ErrClosed when the store closes. Memory stays bounded however far behind
// the subscriber is: it reads in chunks.
func (s *Store) Subscribe(ctx context.Context, from Offset) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		next := max(from, 1)
		if s.metrics != nil {
			sub := s.metrics.subscribe()
			sub.last.Store(uint64(next - 1))
			defer s.metrics.unsubscribe(sub)
			inner := yield
			yield = func(r Record, err error) bool {
				if err == nil {
					sub.last.Store(uint64(r.Offset))
				}
				return inner(r, err)
			}
		}
		var chunk []Record
		for {
			// Take the wake-up channel before reading, so that a commit
			// published after the read is never missed.
			changed := s.changed()
			var err error
			chunk, err = s.readLogChunk(ctx, chunk, next, chunkRecords)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				yield(Record{}, err)
				return
			}
			for _, r := range chunk {
				if ctx.Err() != nil {
					return
				}
				if err := s.checkOpen(); err != nil {
					yield(Record{}, err)
					return
				}
				if !yield(r, nil) {
					return
				}
				next = Offset(r.Offset) + 1
			}
			if len(chunk) > 0 {
				continue
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			case <-s.done:
				yield(Record{}, fmt.Errorf("%w: subscription ended at offset %d", ErrClosed, next))
				return
			}
		}
	}
}
