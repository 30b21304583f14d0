// Package eventstore is an embedded, durable event log for programs built on
// event sourcing.
//
// # The model
//
// A Store is one totally ordered log of events. Each event belongs to a
// stream, such as "channel-42" or "order-7". Every event has two positions:
// its Offset in the global log (1, 2, 3, ... with no gap ever, also after a
// crash) and its Version within its stream (1, 2, 3, ... per stream).
//
//	store, err := eventstore.Open("data/events", eventstore.WithBackend("rocksdb"))
//	res, err := store.Append(ctx, "channel-42", eventstore.NoStream,
//		eventstore.Event{Type: "ChannelOpened", Data: payload})
//	for rec, err := range store.Log(ctx, 1) { ... }
//
// Append is atomic (all events of a call or none) and checks an
// ExpectedVersion for optimistic concurrency; a mismatch returns a
// *WrongExpectedVersionError. Events may carry caller-chosen IDs, which make
// retries safe: see Append.
//
// # Durability
//
// With Sync, the default, Append returns only once the engine has made the
// append durable (fsync), and a reader never sees an event before that.
// Concurrent appends share one engine write and one sync (group commit).
// After a crash the log is a prefix of what was submitted: every acknowledged
// append is there, and an unacknowledged one is wholly there or wholly
// absent. NoSync survives a crash of the process, not a power cut.
//
// If a write or an fsync fails, the store stops (ErrFailed) rather than guess
// what reached the disk; reopening it recovers a consistent prefix.
//
// A head mark outside the engine (the HEADMARK file) remembers how far the
// log reached, so that Open notices a log that ends below it, which the
// engine's own recovery would accept in silence: in Sync mode Open fails with
// ErrCorrupt. When events that were acknowledged are lost for good (NoSync
// after a power cut, or a loss accepted by opening with NoSync), Open reports
// it and increases the store's Generation: offsets are unique within a
// generation.
//
// # Reading
//
// ReadLog and ReadStream return slices; Log and Stream iterate with bounded
// memory; Subscribe catches up and then follows new commits live. Every
// stored record carries a CRC-32C checksum; a damaged record is never
// returned: the read fails with an error wrapping ErrCorrupt that names the
// offset. Verify checks the whole store.
//
// # State, snapshots and recovery
//
// A StateMachine attached with WithStateMachine receives every committed
// event exactly once, in offset order. The store snapshots it as its
// SnapshotPolicy says (EveryN(1000) by default) and keeps the newest three
// valid snapshots. Open restores the newest valid snapshot, replays only the
// events after it, and only then returns, so a restart costs as much as the
// tail since the last snapshot. LastRecovery reports what it did. If Apply
// returns an error, the store fails stop: the events stay durable, appends
// fail with ErrStateMachine and ErrFailed naming the offset, and reopening
// rebuilds the state; an Apply error during recovery fails Open.
//
// # Engines
//
// The storage engine is chosen by name with WithBackend and registered by
// importing its package: backends/rocksdb (the primary), backends/pebble,
// backends/badger and backends/memory. The directory records its engine, so
// a later Open needs no WithBackend. The engine contract is package backend;
// the sequencing over it is package logstore/kvlog, behind the logstore.Log
// seam; the on-disk format is documented in package internal/record.
//
// # Errors
//
// Errors wrap the sentinels declared here (ErrWrongExpectedVersion,
// ErrCorrupt, ErrClosed, ErrInvalidEvent, ErrEventTooLarge,
// ErrUnknownBackend, ErrLocked, ErrBackendMismatch, ErrNoStore, ErrFailed,
// ErrStateMachine, ErrNoStateMachine, ErrUnsupported, and, with a networked
// backend, ErrUnknownOutcome and ErrUnavailable): test them with
// errors.Is. Two carry details, found with errors.As:
// *WrongExpectedVersionError and *CorruptionError.
//
// The data types (Event, Record, Offset, ExpectedVersion, AppendResult,
// VerifyReport) and the detailed errors are declared once, in package
// logstore below the store, and are the same types here: package eventstore
// names them with type aliases.
//
// # Changes to the API contract
//
// The contract of the design issue is kept as written, with additions only.
// CorruptionError's location fields are Offset (an Offset), File and Key.
package eventstore
