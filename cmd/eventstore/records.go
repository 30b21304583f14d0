package main

import (
	"context"
	"iter"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/dump"
)

// toDump converts a record of the store to a record of the export format.
func toDump(r eventstore.Record) dump.Record {
	return dump.Record{Offset: uint64(r.Offset), Stream: r.Stream, Version: r.Version, Time: r.Time,
		ID: r.ID, Type: r.Type, Metadata: r.Metadata, Data: r.Data}
}

// fromDump converts a record of the export format to a record of the store.
func fromDump(r dump.Record) eventstore.Record {
	return eventstore.Record{
		Event:  eventstore.Event{ID: r.ID, Type: r.Type, Data: r.Data, Metadata: r.Metadata},
		Stream: r.Stream, Offset: eventstore.Offset(r.Offset), Version: r.Version, Time: r.Time,
	}
}

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
