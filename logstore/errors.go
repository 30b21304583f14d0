package logstore

import (
	"errors"
	"fmt"

	"github.com/durablelog/eventstore/backend"
)

// The errors that cross the seam. Package eventstore re-exports each
// sentinel as the same value; every error returned wraps the sentinels that
// apply, possibly among others: test with errors.Is.
var (
	// ErrWrongExpectedVersion: the stream's version did not match the
	// append's ExpectedVersion. Nothing was written. The error is a
	// *WrongExpectedVersionError with the details.
	ErrWrongExpectedVersion = errors.New("eventstore: wrong expected version")

	// ErrInvalidEvent: the call's input is invalid (stream name, event
	// type, no events, expected version, or an event id already used in
	// the stream). Nothing was written and the store stays usable.
	ErrInvalidEvent = errors.New("eventstore: invalid event")

	// ErrEventTooLarge: an event's data exceeds the maximum event size, or
	// an append exceeds what the engine can commit atomically. Nothing was
	// written.
	ErrEventTooLarge = errors.New("eventstore: event too large")

	// ErrFailed: the store stopped because a commit or fsync failed, or
	// the state machine failed. It refuses appends until it is closed and
	// reopened, which finds out what is durable. The error also wraps the
	// cause.
	ErrFailed = errors.New("eventstore: store failed; close and reopen it")

	// ErrUnsupported: the log or its engine cannot do what was asked, such
	// as a checkpoint; the message says what to use instead.
	ErrUnsupported = errors.New("eventstore: not supported by this store's engine")

	// ErrUnknownOutcome: the connection to a networked log broke while an
	// append was being committed, so it may or may not have been
	// committed. Retrying the append with the same event IDs and the same
	// exact expected version (NoStream or n > 0) is safe: if it was
	// committed, the retry is recognised and returns the original result.
	ErrUnknownOutcome = errors.New("eventstore: outcome unknown: the append may or may not have been committed; retry it with the same event IDs and the same exact expected version")

	// ErrUnavailable: a networked log could not be reached, or its
	// connection broke, during a read: nothing was changed, and the same
	// read may succeed once the server answers again. Subscribe waits and
	// retries such a read while the store is open; a direct read returns
	// it to the caller.
	ErrUnavailable = errors.New("eventstore: the log's server is unavailable; the read may succeed later")

	// ErrCorrupt: stored data failed its checksum or a structural check
	// (the value of backend.ErrCorrupt).
	ErrCorrupt = backend.ErrCorrupt

	// ErrClosed: the store is closed (the value of backend.ErrClosed).
	ErrClosed = backend.ErrClosed
)

// ErrDuplicateID is wrapped, with ErrInvalidEvent, when an event id is
// already used in its stream and the append is not a retry of the append
// that used it.
var ErrDuplicateID = fmt.Errorf("%w: event id already used in the stream", ErrInvalidEvent)

// ErrBatchTooLarge is wrapped, with ErrEventTooLarge, when one append is
// larger than the engine can commit atomically.
var ErrBatchTooLarge = fmt.Errorf("%w: append too large to commit atomically", ErrEventTooLarge)

// ErrWrongOffset is wrapped, with ErrInvalidEvent, when a request's first
// event would not land at the offset its At field names. Nothing was
// written.
var ErrWrongOffset = fmt.Errorf("%w: the request would not land at the offset it names", ErrInvalidEvent)

// WrongExpectedVersionError reports an expected-version mismatch. It wraps
// ErrWrongExpectedVersion.
type WrongExpectedVersionError struct {
	Stream   string
	Expected ExpectedVersion
	Actual   uint64 // the stream's version when the append was checked
}

func (e *WrongExpectedVersionError) Error() string {
	return fmt.Sprintf("eventstore: wrong expected version for stream %q: expected %s, stream is at %d",
		e.Stream, e.Expected, e.Actual)
}

// Unwrap returns ErrWrongExpectedVersion.
func (e *WrongExpectedVersionError) Unwrap() error { return ErrWrongExpectedVersion }

// CorruptionError names where damaged data was found. Its Err wraps
// ErrCorrupt, so errors.Is(err, ErrCorrupt) holds for it; errors.As finds it
// for the details.
type CorruptionError struct {
	// Offset is the log offset of the damaged record, 0 when the damage is
	// not in a record of the log or its offset is unknown.
	Offset Offset
	// File is the damaged file, when it is known: a snapshot, the STORE or
	// HEADMARK file, or an engine file.
	File string
	// Key describes the damaged entry of the engine, when it is known:
	// "log offset 42", "index of stream \"acct-7\" version 3", "meta key
	// \"format\"".
	Key string
	// Err is the underlying error; it wraps ErrCorrupt.
	Err error
}

func (e *CorruptionError) Error() string { return fmt.Sprintf("%s: %v", e.Where(), e.Err) }

// Where describes the location as precisely as it is known: the Key, else the
// File, else the Offset.
func (e *CorruptionError) Where() string {
	switch {
	case e.Key != "":
		return e.Key
	case e.File != "":
		return e.File
	case e.Offset > 0:
		return fmt.Sprintf("log offset %d", e.Offset)
	}
	return "unknown location"
}

// Unwrap returns the underlying error, which wraps ErrCorrupt.
func (e *CorruptionError) Unwrap() error { return e.Err }
