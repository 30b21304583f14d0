package main

import (
	"context"
	"iter"

	"github.com/durablelog/eventstore"
)

// logUpTo iterates the log from offset 1 to head inclusive.
func logUpTo(ctx context.Context, s *eventstore.Store, head eventstore.Offset) iter.Seq2[eventstore.Record, error] {
	return func(yield func(eventstore.Record, error) bool) {
		if head == 0 {
			return
		}
		for rec, err := range s.Log(ctx, 1) {
			if !yield(rec, err) || err != nil || rec.Offset >= head {
				return
			}
		}
	}
}
