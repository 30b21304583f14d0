package main

import (
	"context"

	"github.com/durablelog/eventstore"
)

// followShared is read --follow on a store that several processes share
// (PostgreSQL): the command keeps the store open beside the applications
// and prints every process's appends as they commit, through
// Store.Subscribe, until --limit records were printed or the command is
// interrupted. --poll is how often it looks for appends when no
// notification woke it.
func followShared(ctx context.Context, a *app, o readOptions, rw *recordWriter) (err error) {
	a.pgPoll = o.poll
	s, err := a.openExisting(ctx)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	from, err := o.start(ctx, s)
	if err != nil {
		return err
	}
	printed := 0
	full := func() bool { return o.limit > 0 && printed >= o.limit }
	next := eventstore.Offset(from)
	if o.stream != "" {
		// The stream's records up to now, then the log after them: every
		// record of the stream committed before head is in the stream's
		// read, every later one in the subscription.
		head := s.Head()
		var last eventstore.Offset
		for rec, err := range s.Stream(ctx, o.stream, from) {
			if err != nil {
				return endOfFollow(ctx, err)
			}
			if err := rw.write(rec); err != nil {
				return err
			}
			printed, last = printed+1, rec.Offset
			if full() {
				return nil
			}
		}
		next = max(head, last) + 1
	}
	for rec, err := range s.Subscribe(ctx, next) {
		if err != nil {
			return endOfFollow(ctx, err)
		}
		if o.stream != "" && rec.Stream != o.stream {
			continue
		}
		if err := rw.write(rec); err != nil {
			return err
		}
		if printed++; full() {
			return nil
		}
	}
	return nil // interrupted: the normal end of --follow
}

// endOfFollow is nil when the command was interrupted, else err.
func endOfFollow(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
