package eventstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"
)

// Subscribe's waits between reads that failed with ErrUnavailable: the
// first, and the longest, doubling in between.
const (
	subscribeRetryFirst = 20 * time.Millisecond
	subscribeRetryMax   = time.Second
)

// Subscribe iterates the log from offset from (inclusive): first the
// records already committed, then each new commit as it is published, with
// no gap and no duplicate. In Sync mode a record is published only once it is
// durable. The iteration ends without an error when ctx is done, and with
// ErrClosed when the store closes. A read that fails with ErrUnavailable (a
// networked log's server is unreachable for a while) is retried, after a
// wait that grows to a second, until it succeeds, ctx is done or the store
// closes; any other read error ends the iteration with that error. Memory
// stays bounded however far behind the subscriber is: it reads in chunks.
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
		wait := time.Duration(0)
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
				if errors.Is(err, ErrUnavailable) {
					wait = min(max(2*wait, subscribeRetryFirst), subscribeRetryMax)
					s.logger.Warn("eventstore: subscription: the log is unavailable; retrying", "offset", uint64(next), "wait", wait, "err", err)
					if err := s.pause(ctx, wait); err != nil {
						if ctx.Err() == nil {
							yield(Record{}, fmt.Errorf("%w: subscription ended at offset %d", err, next))
						}
						return
					}
					continue
				}
				yield(Record{}, err)
				return
			}
			wait = 0
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

// pause waits for d, and returns ctx's error when ctx ends first, or
// ErrClosed when the store closes first.
func (s *Store) pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-s.done:
		return ErrClosed
	}
}
