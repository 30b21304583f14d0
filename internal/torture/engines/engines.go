// Package engines links the durable engines (torture.Engines) into a test
// binary of the durability tests and registers their engine profiles
// (torture.ProfileSmall). Import it for its side effects:
//
//	import _ "github.com/durablelog/eventstore/internal/torture/engines"
//
// It is apart from package torture so that the public conformance suite,
// which builds on package torture, does not depend on these engines.
package engines

import (
	"github.com/durablelog/eventstore/backends/badger"
	"github.com/durablelog/eventstore/backends/pebble"
	"github.com/durablelog/eventstore/backends/rocksdb"
	"github.com/durablelog/eventstore/backends/sqlite"
	"github.com/durablelog/eventstore/internal/torture"
)

func init() {
	torture.RegisterProfile(rocksdb.Name, torture.ProfileSmall, rocksdb.Options{WriteBufferSize: 64 << 10})
	torture.RegisterProfile(pebble.Name, torture.ProfileSmall, pebble.Options{MemTableSize: 256 << 10})
	torture.RegisterProfile(badger.Name, torture.ProfileSmall, badger.Options{MemTableSize: 1 << 20})
	torture.RegisterProfile(sqlite.Name, torture.ProfileSmall, sqlite.Options{AutoCheckpoint: 16})
}
