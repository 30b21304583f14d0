package backend

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

var (
	registryMu sync.RWMutex
	registry   = map[string]Engine{}
)

// Register makes an engine available under name. It is meant to be called
// from an engine package's init function. It panics when name is empty, when
// e is nil, or when name is already registered: two engines under one name
// would make the choice of engine depend on import order.
func Register(name string, e Engine) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if name == "" {
		panic("backend: Register called with an empty name")
	}
	if e == nil {
		panic(fmt.Sprintf("backend: Register of %q called with a nil engine", name))
	}
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("backend: Register called twice for engine %q", name))
	}
	registry[name] = e
}

// Lookup returns the engine registered under name, or an error wrapping
// ErrUnknownBackend that lists the registered names.
func Lookup(name string) (Engine, error) {
	registryMu.RLock()
	e, ok := registry[name]
	registryMu.RUnlock()
	if !ok {
		registered := Names()
		list := "none"
		if len(registered) > 0 {
			list = strings.Join(registered, ", ")
		}
		return nil, fmt.Errorf("%w %q (registered: %s; forgotten import of github.com/durablelog/eventstore/backends/%s?)",
			ErrUnknownBackend, name, list, name)
	}
	return e, nil
}

// Names returns the registered engine names, sorted.
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
