package torture

import (
	"fmt"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/badger"
	"github.com/durablelog/eventstore/backends/pebble"
	"github.com/durablelog/eventstore/backends/rocksdb"
)

// Engines are the engines that keep data across a process restart, which
// the durability tests run on. Importing this package registers them.
var Engines = []string{rocksdb.Name, pebble.Name, badger.Name}

// Profiles of engine configuration, which a child process can name (it
// cannot receive a Go value).
const (
	// ProfileDefault is the engine's defaults.
	ProfileDefault = ""
	// ProfileSmall uses the smallest memtables the engine accepts (RocksDB
	// 64 KiB, Pebble 256 KiB, Badger 1 MiB), so that a small workload
	// flushes tables and compacts while it runs: more kinds of files, and
	// more crash points, than the WAL alone.
	ProfileSmall = "small"
)

// EngineConfig returns the engine configuration of profile for backend, to
// pass with eventstore.WithBackendConfig (nil for the defaults).
func EngineConfig(backend, profile string) (any, error) {
	switch profile {
	case ProfileDefault:
		return nil, nil
	case ProfileSmall:
		switch backend {
		case rocksdb.Name:
			return rocksdb.Options{WriteBufferSize: 64 << 10}, nil
		case pebble.Name:
			return pebble.Options{MemTableSize: 256 << 10}, nil
		case badger.Name:
			return badger.Options{MemTableSize: 1 << 20}, nil
		}
		return nil, nil
	}
	return nil, fmt.Errorf("torture: unknown engine profile %q", profile)
}

// StoreOptions returns the options that open a store of backend with the
// engine configuration of profile.
func StoreOptions(backend, profile string) ([]eventstore.Option, error) {
	cfg, err := EngineConfig(backend, profile)
	if err != nil {
		return nil, err
	}
	opts := []eventstore.Option{eventstore.WithBackend(backend)}
	if cfg != nil {
		opts = append(opts, eventstore.WithBackendConfig(cfg))
	}
	return opts, nil
}
