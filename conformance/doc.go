// Package conformance holds the test suites that every eventstore engine must
// pass: RunBackend checks the engine contract of package backend, and
// RunEventStore checks every guarantee of package eventstore on top of the
// engine, including durability across a reopen of the same directory.
//
// The engines in this module run both suites in their own tests. A
// third-party engine does the same in a few lines:
//
//	package mykv_test
//
//	import (
//		"testing"
//
//		"github.com/durablelog/eventstore/conformance"
//		_ "example.com/mykv" // registers "mykv"
//	)
//
//	var h = conformance.Harness{Name: "mykv"}
//
//	func TestBackend(t *testing.T)    { conformance.RunBackend(t, h) }
//	func TestEventStore(t *testing.T) { conformance.RunEventStore(t, h) }
//
// Run them with -race: the suites include concurrent cases.
package conformance
