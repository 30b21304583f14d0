package conformance

import (
	"github.com/durablelog/eventstore"
	iconf "github.com/durablelog/eventstore/internal/conformance"
)

// HashState is an eventstore.StateMachine (and Fingerprinter) for tests. It
// folds every record it applies into a SHA-256 hash chain, and its Apply
// fails unless records arrive exactly once and in offset order (1, 2, 3, ...,
// or on from a restored snapshot). Two HashStates that applied the same log
// have the same Sum, so a recovered state (snapshot plus replay) can be
// compared with a fresh fold over the log (Fold).
//
// Its Snapshot writes the state as JSON and Restore reads it back. The
// zero value is ready to use; it is safe for concurrent use. Its fields
// inject faults: FailAt makes Apply fail at one offset and FailSnapshot
// makes Snapshot fail while set, both with an error wrapping ErrInjected;
// FingerprintValue is what Fingerprint returns.
//
// It is an alias: the type is defined in an internal package that the
// durability checker shares with this suite.
type HashState = iconf.HashState

// ErrInjected is the error, possibly wrapped, that a HashState returns when
// told to fail (HashState.FailAt, HashState.FailSnapshot).
var ErrInjected = iconf.ErrInjected

// Fold returns the Sum of a fresh HashState that applied recs in order: the
// number of records, the last offset and the hash. It fails when recs are
// not dense in offset order from 1, as HashState.Apply does.
func Fold(recs []eventstore.Record) (uint64, eventstore.Offset, string, error) {
	return iconf.Fold(recs)
}
