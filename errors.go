package eventstore

import (
	"errors"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/logstore"
)

// Errors. Every error the store returns that has one of these causes wraps
// it, possibly among other errors: test with errors.Is. The values are shared
// with the packages below the store (logstore, backend), so an error from any
// layer matches.
var (
	// ErrWrongExpectedVersion: the stream's version did not match the
	// append's ExpectedVersion. Nothing was written. The error is a
	// *WrongExpectedVersionError with the details.
	ErrWrongExpectedVersion = logstore.ErrWrongExpectedVersion

	// ErrCorrupt: stored data failed its checksum or a structural check.
	// No data of a damaged record is returned. Errors.As finds a
	// *CorruptionError naming the location where it is known. Run Verify,
	// and see docs/recovery.md.
	ErrCorrupt = logstore.ErrCorrupt

	// ErrClosed: the store is closed.
	ErrClosed = logstore.ErrClosed

	// ErrInvalidEvent: the call's input is invalid (stream name, event
	// type, no events, expected version, or an event id already used in
	// the stream). Nothing was written and the store stays usable.
	ErrInvalidEvent = logstore.ErrInvalidEvent

	// ErrEventTooLarge: an event's data exceeds the maximum event size, or
	// an append exceeds what the engine can commit atomically. Nothing was
	// written.
	ErrEventTooLarge = logstore.ErrEventTooLarge

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

	// ErrNoStore: Open was given WithExistingStore and the directory holds
	// no store.
	ErrNoStore = errors.New("eventstore: no store in the directory")

	// ErrFailed: the store stopped because a commit or fsync failed, or
	// the state machine failed. It refuses appends until it is closed and
	// reopened, which finds out what is durable. The error also wraps the
	// cause.
	ErrFailed = logstore.ErrFailed

	// ErrStateMachine is wrapped, with ErrFailed, when the state machine's
	// Apply returned an error. The message names the offset.
	ErrStateMachine = errors.New("eventstore: state machine failed")

	// ErrUnsupported: the store's engine cannot do what was asked; the
	// message says what to use instead.
	ErrUnsupported = logstore.ErrUnsupported

	// ErrUnknownOutcome: with a backend reached over the network
	// (PostgreSQL), the connection broke while an append was being
	// committed, or the append's context ended while it was, so the append
	// may or may not have been committed. Retrying it with the same event
	// IDs and the same exact expected version (NoStream or n > 0) is safe:
	// if it was committed, the retry is recognised and returns the original
	// result; if not, it is written once.
	ErrUnknownOutcome = logstore.ErrUnknownOutcome

	// ErrUnavailable: with a backend reached over the network
	// (PostgreSQL), a read could not reach the server or its connection
	// broke. Nothing was changed; the read may succeed later. Subscribe
	// waits and retries such reads by itself while the store is open.
	ErrUnavailable = logstore.ErrUnavailable
)

// WrongExpectedVersionError reports an expected-version mismatch: the
// Stream, the Expected version of the append, and the Actual version of the
// stream when the append was checked. It wraps ErrWrongExpectedVersion.
type WrongExpectedVersionError = logstore.WrongExpectedVersionError

// CorruptionError names where damaged data was found: the Offset of the
// damaged record (0 when the damage is not in a record), the File when it is
// known (a snapshot, STORE, HEADMARK or an engine file), and the Key, a
// description of the engine entry ("log offset 42", "index of stream
// "acct-7" version 3"). It wraps ErrCorrupt.
type CorruptionError = logstore.CorruptionError
