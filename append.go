package eventstore

import (
	"context"
	"fmt"
	"time"

	"github.com/durablelog/eventstore/logstore"
)

// Append appends events to stream, atomically: all of them or none. It
// returns once the append is durable (see Durability) and, with a state
// machine, applied to it.
//
// The expected version is checked when the append commits; on a mismatch
// Append returns a *WrongExpectedVersionError wrapping
// ErrWrongExpectedVersion and writes nothing. There is one exception, which
// makes retries safe: when expected is an exact version (NoStream or n > 0),
// every event has an ID, and the stream's events right after that version
// carry the same IDs in the same order, the call is a retry of a committed
// append; Append returns that append's result and writes nothing. Any other
// reuse of an ID already in the stream fails with ErrInvalidEvent.
//
// Every successful return, a retry's included, happens after the events it
// names are durable, readable (Head() >= res.Last) and applied to the state
// machine. A retry of an append that is still being committed, as when the
// same command is delivered twice at once, waits for that commit and fails
// if it fails.
//
// Concurrent appends are committed together, with one engine write and one
// sync, in the order offsets are assigned; each keeps its own result.
//
// Invalid input fails with ErrInvalidEvent or ErrEventTooLarge, a done ctx
// with its error, and a closed store with ErrClosed; nothing is written. The
// context is honoured until the append joins a commit. After a failed commit
// or a failed Apply, appends fail with ErrFailed until the store is
// reopened; when the state machine failed on this append's own events, the
// events are durable, res says where, and the error wraps ErrStateMachine.
func (s *Store) Append(ctx context.Context, stream string, expected ExpectedVersion, events ...Event) (res AppendResult, err error) {
	if s.metrics != nil {
		start := time.Now()
		defer func() { s.metrics.appended(err, time.Since(start)) }()
	}
	if err := s.checkOpen(); err != nil {
		return res, err
	}
	if f := s.failure(); f != nil {
		return res, f.err
	}
	if err := s.validateAppend(ctx, stream, expected, events); err != nil {
		return res, err
	}
	res, err = s.log.Append(ctx, logstore.AppendRequest{Stream: stream, Expected: expected, Events: events})
	if err != nil {
		return AppendResult{}, appendError(stream, err)
	}
	if f := s.failure(); f != nil && f.offset > 0 && f.offset <= res.Last {
		return res, f.err
	}
	return res, nil
}

func appendError(stream string, err error) error {
	if _, ok := err.(*WrongExpectedVersionError); ok {
		return err
	}
	return fmt.Errorf("eventstore: append to stream %q: %w", stream, err)
}
