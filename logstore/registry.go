package logstore

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
)

// Opener opens a Log that does its own sequencing and storage, such as a
// database server that several processes share. It is what such a backend
// registers (Register); engines that only store bytes in key order register
// a backend.Engine instead, and the store runs them under logstore/kvlog.
// Implementations must be safe for concurrent use.
type Opener interface {
	// OpenLog opens, or creates when missing, the log that o.BackendConfig
	// names, and returns it once it can serve: the head known, every
	// committed record readable. It honours ctx for the connection and the
	// setup, and fails with an error that says what to fix (a wrong
	// address, a refused login, a layout version it cannot read).
	OpenLog(ctx context.Context, o OpenOptions) (Log, error)
}

// OpenOptions are what the store passes to an Opener.
type OpenOptions struct {
	// Dir is the store's local directory, which the store owns (its
	// snapshots and STORE file live there). The log may keep local files
	// in Dir/engine.
	Dir string
	// Config is the log's configuration, as for any Log.
	Config Config
	// BackendConfig is the backend-specific configuration that the user
	// passed (eventstore.WithBackendConfig), nil for the defaults. A
	// backend returns an error for a type it does not accept.
	BackendConfig any
	// Logger receives diagnostics. Never nil.
	Logger *slog.Logger
}

// Shared is a Log that other processes append to as well, through storage
// they share. The store keeps no head mark of its own for such a log (the
// log is not local), and takes the store's generation from it.
type Shared interface {
	// Identity names where the log lives, for example `schema "orders"`.
	// The store records it in its directory and refuses, at a later Open,
	// a log of another identity.
	Identity() string
	// Generation returns the log's generation (see
	// eventstore.Store.Generation).
	Generation() uint64
	// NewGeneration moves the log to a new generation, durably and for
	// every process, because this process found that the log lost events
	// it once held; it returns the new generation.
	NewGeneration(ctx context.Context) (uint64, error)
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Opener{}
)

// Register makes a log backend available under name. It is meant to be
// called from the backend package's init function. It panics when name is
// empty, when o is nil, or when name is already registered. A name must not
// also be registered as a backend.Engine.
func Register(name string, o Opener) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if name == "" {
		panic("logstore: Register called with an empty name")
	}
	if o == nil {
		panic(fmt.Sprintf("logstore: Register of %q called with a nil opener", name))
	}
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("logstore: Register called twice for backend %q", name))
	}
	registry[name] = o
}

// Lookup returns the log backend registered under name.
func Lookup(name string) (Opener, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	o, ok := registry[name]
	return o, ok
}

// Names returns the registered log backends' names, sorted.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
