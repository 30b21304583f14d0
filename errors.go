package eventstore

import (
	"errors"
	"fmt"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/logstore"
)

// Errors. Every error the store returns that has one of these causes wraps
// it, possibly among other errors: test with errors.Is.
var (
	// ErrWrongExpectedVersion: the stream's version did not match the
	// append's ExpectedVersion. Nothing was written. The error is a
	// *WrongExpectedVersionError with the details.
	ErrWrongExpectedVersion = errors.New("eventstore: wrong expected version")

	// ErrCorrupt: stored data failed its checksum or a structural check.
	// No data of a damaged record is returned. Errors.As finds a
	// *CorruptionError naming the location where it is known. Run Verify,
	// and see docs/recovery.md.
	ErrCorrupt = backend.ErrCorrupt

	// ErrClosed: the store is closed.
	ErrClosed = backend.ErrClosed

	// ErrInvalidEvent: the call's input is invalid (stream name, event
	// type, no events, expected version, or an event id already used in
	// the stream). Nothing was written and the store stays usable.
	ErrInvalidEvent = errors.New("eventstore: invalid event")

	// ErrEventTooLarge: an event's data exceeds the maximum event size, or
	// an append exceeds what the engine can commit atomically. Nothing was
	// written.
	ErrEventTooLarge = errors.New("eventstore: event too large")

	// ErrUnknownBackend: no engine is registered under the name given to
	// WithBackend. The message lists the registered names; a missing
	// blank import of the engine's package is the usual cause.
	ErrUnknownBackend = backend.ErrUnknownBackend

	// ErrLocked: another Store, in this process or another, owns the
	// directory.
	ErrLocked = errors.New("eventstore: directory is in use by another store")

	// ErrBackendMismatch: the directory holds a store of another engine
	// than the one asked for.
	ErrBackendMismatch = errors.New("eventstore: directory holds a store of another backend")

	// ErrFailed: the store stopped because a commit or fsync failed, or
	// the state machine failed. It refuses appends until it is closed and
	// reopened, which finds out what is durable. The error also wraps the
	// cause.
	ErrFailed = errors.New("eventstore: store failed; close and reopen it")

	// ErrStateMachine is wrapped, with ErrFailed, when the state machine's
	// Apply returned an error. The message names the offset.
	ErrStateMachine = errors.New("eventstore: state machine failed")
)

// WrongExpectedVersionError reports an expected-version mismatch. It wraps
// ErrWrongExpectedVersion.
type WrongExpectedVersionError struct {
	Stream   string
	Expected ExpectedVersion
	Actual   uint64 // the stream's version when the append was checked
}

func (e *WrongExpectedVersionError) Error() string {
	return fmt.Sprintf("eventstore: wrong expected version for stream %q: expected %s, stream is at %d",
		e.Stream, logstore.DescribeExpected(int64(e.Expected)), e.Actual)
}

// Unwrap returns ErrWrongExpectedVersion.
func (e *WrongExpectedVersionError) Unwrap() error { return ErrWrongExpectedVersion }

// CorruptionError names where corruption was found. It wraps ErrCorrupt.
type CorruptionError = logstore.CorruptError

// translate maps the log's errors onto the public sentinels.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var ce *logstore.ConflictError
	switch {
	case errors.As(err, &ce):
		return &WrongExpectedVersionError{Stream: ce.Stream, Expected: ExpectedVersion(ce.Expected), Actual: ce.Actual}
	case errors.Is(err, logstore.ErrDuplicateID):
		return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	case errors.Is(err, logstore.ErrBatchTooLarge):
		return fmt.Errorf("%w: %w", ErrEventTooLarge, err)
	case errors.Is(err, logstore.ErrFailed):
		return fmt.Errorf("%w: %w", ErrFailed, err)
	}
	return err
}
