// Package conformance holds the test state machine of the public conformance
// package (github.com/durablelog/eventstore/conformance): HashState, Fold and
// ErrInjected. It lives here, below both, so that the public suite can run the
// durability checker of internal/torture, which folds the log with the same
// HashState, without an import cycle.
//
// Use the public package's names: conformance.HashState is an alias of this
// HashState, and conformance.Fold and conformance.ErrInjected are this
// package's.
package conformance
