// Package backend defines the storage-engine contract that every eventstore
// engine implements: an ordered key-value store with atomic batches, bounded
// iterators and explicit durability.
//
// Applications do not use this package. They open a store with
// eventstore.Open and name the engine with eventstore.WithBackend. This
// package is for the authors of engines (see the packages under backends/)
// and for the event-log layer above it.
//
// Everything that gives the bytes a meaning (offsets, streams, the record
// format and its checksums, optimistic concurrency, group commit, snapshots,
// recovery) lives above this contract and is written once. An engine only
// stores opaque keys and values in byte order, atomically and durably.
//
// # Registration
//
// An engine registers itself under a name in its package's init function, the
// way a database/sql driver does:
//
//	func init() { backend.Register("mykv", engine{}) }
//
// Register panics on a nil engine or on a name registered twice. Names lists
// what is registered, and Lookup returns an error wrapping ErrUnknownBackend
// that lists the registered names when a name is missing.
//
// # Conformance
//
// The conformance package runs the contract's tests against any engine; see
// conformance.RunBackend.
package backend
