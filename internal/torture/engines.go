package torture

import (
	"fmt"
	"sync"

	"github.com/durablelog/eventstore"
)

// Engines are the engines that keep data across a process restart, which
// the durability tests run on. This package does not link them in, so that
// the public conformance suite, which builds on it, does not make every
// engine's tests depend on these four: a test binary that runs the
// durability tests on Engines imports internal/torture/engines, which
// registers the engines and their profiles (RegisterProfile).
var Engines = []string{"rocksdb", "pebble", "badger", "sqlite"}

// Profiles of engine configuration, which a child process can name (it
// cannot receive a Go value).
const (
	// ProfileDefault is the engine's defaults.
	ProfileDefault = ""
	// ProfileSmall uses the smallest memtables the engine accepts (RocksDB
	// 64 KiB, Pebble 256 KiB, Badger 1 MiB; SQLite checkpoints its WAL
	// every 16 pages), so that a small workload flushes tables and
	// compacts (SQLite copies its WAL into the database file) while it
	// runs: more kinds of files, and more crash points, than the WAL alone. An engine outside Engines
	// runs it with its defaults.
	ProfileSmall = "small"
)

var (
	profilesMu sync.RWMutex
	profiles   = map[[2]string]any{}
)

// RegisterProfile makes cfg the engine configuration of profile for the
// engine registered as backend: what EngineConfig returns. It panics when
// the pair is registered twice or profile is ProfileDefault (the defaults
// need no configuration). internal/torture/engines registers ProfileSmall for
// each of Engines.
func RegisterProfile(backend, profile string, cfg any) {
	if profile == ProfileDefault {
		panic(fmt.Sprintf("torture: RegisterProfile of the default profile of %q", backend))
	}
	profilesMu.Lock()
	defer profilesMu.Unlock()
	k := [2]string{backend, profile}
	if _, dup := profiles[k]; dup {
		panic(fmt.Sprintf("torture: RegisterProfile called twice for profile %q of %q", profile, backend))
	}
	profiles[k] = cfg
}

// EngineConfig returns the engine configuration of profile for backend, to
// pass with eventstore.WithBackendConfig (nil for the defaults). It fails on
// an unknown profile, and on ProfileSmall for one of Engines whose profile
// is not registered (the test binary does not import
// internal/torture/engines).
func EngineConfig(backend, profile string) (any, error) {
	switch profile {
	case ProfileDefault:
		return nil, nil
	case ProfileSmall:
		profilesMu.RLock()
		cfg, ok := profiles[[2]string{backend, profile}]
		profilesMu.RUnlock()
		if ok {
			return cfg, nil
		}
		for _, e := range Engines {
			if e == backend {
				return nil, fmt.Errorf("torture: no %q profile registered for %q (forgotten import of github.com/durablelog/eventstore/internal/torture/engines?)", profile, backend)
			}
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
