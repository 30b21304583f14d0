package backend

import "errors"

// ErrClosed is returned, possibly wrapped, by every method of a KV, Iterator
// or Batch used after the KV was closed. The eventstore package exports the
// same value as eventstore.ErrClosed.
var ErrClosed = errors.New("eventstore: store is closed")

// ErrCorrupt marks data that failed a checksum or a structural check, in an
// engine or in the layers above. Errors that wrap it name the file, key or
// offset where that is known. The eventstore package exports the same value
// as eventstore.ErrCorrupt. Test with errors.Is.
var ErrCorrupt = errors.New("eventstore: data corruption detected")

// ErrUnknownBackend is returned, wrapped with the registered names, when no
// engine is registered under the requested name. The eventstore package
// exports the same value as eventstore.ErrUnknownBackend.
var ErrUnknownBackend = errors.New("eventstore: unknown backend")
