package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/internal/layout"
)

// lockRetry is how often a command retries a store that is in use.
const lockRetry = 50 * time.Millisecond

// requireDir checks that --dir was given.
func (a *app) requireDir() error {
	if a.dir == "" {
		return usageErrorf("--dir is required (or set EVENTSTORE_DIR): name the store's directory")
	}
	return nil
}

// isStore reports whether dir holds a store.
func isStore(dir string) (bool, error) { return layout.IsStore(dir) }

// openExisting opens the store in --dir, which must exist: reading commands
// never create a store by mistake.
func (a *app) openExisting(ctx context.Context, opts ...eventstore.Option) (*eventstore.Store, error) {
	if err := a.requireDir(); err != nil {
		return nil, err
	}
	s, err := a.openDir(ctx, a.dir, a.backend, append(opts, eventstore.WithExistingStore())...)
	if errors.Is(err, eventstore.ErrNoStore) {
		return nil, fmt.Errorf("%w: %s holds no store (no %s file): check --dir; 'eventstore append' or 'eventstore import' creates one", errNoStore, a.dir, layout.StoreFile)
	}
	return s, err
}

// openDir opens the store in dir with the engine name (empty: the
// directory's), waiting up to --lock-wait while another process has it.
func (a *app) openDir(ctx context.Context, dir, name string, opts ...eventstore.Option) (*eventstore.Store, error) {
	if name != "" {
		if err := checkBackend(name); err != nil {
			return nil, err
		}
		opts = append([]eventstore.Option{eventstore.WithBackend(name)}, opts...)
	}
	deadline := time.Now().Add(a.lockWait)
	for {
		s, err := eventstore.Open(dir, opts...)
		if err == nil {
			return s, nil
		}
		if errors.Is(err, eventstore.ErrBackendMismatch) {
			return nil, fmt.Errorf("%w (with this command: drop --backend, or give the directory's engine)", err)
		}
		if !errors.Is(err, eventstore.ErrLocked) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w; waited %v: stop the process that has it open (the application, or another eventstore command), or raise --lock-wait; for an online copy call Store.Backup in the application", err, a.lockWait)
		}
		if err := sleep(ctx, lockRetry); err != nil {
			return nil, err
		}
	}
}

// checkBackend checks that an engine of that name is registered.
func checkBackend(name string) error {
	if _, err := backend.Lookup(name); err != nil {
		return fmt.Errorf("--backend %q: %w", name, err)
	}
	return nil
}

// durableBackend checks that name is an engine whose stores outlive the
// process, for the commands that create a store to keep.
func durableBackend(name string) error {
	if err := checkBackend(name); err != nil {
		return err
	}
	if name == memory.Name {
		return usageErrorf("--backend memory: the memory engine keeps nothing after this command exits; choose rocksdb, pebble or badger")
	}
	return nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// closeStore closes s and keeps the first error in *err.
func closeStore(s *eventstore.Store, err *error) {
	if cerr := s.Close(); cerr != nil && *err == nil {
		*err = fmt.Errorf("close the store: %w", cerr)
	}
}

// checkEmptyDest checks that dest does not exist or is an empty directory.
func checkEmptyDest(dest, what string) error {
	entries, err := os.ReadDir(dest)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s %s: %w", what, dest, err)
	case len(entries) > 0:
		holds := fmt.Sprintf("it holds %q", entries[0].Name())
		if ok, _ := isStore(dest); ok {
			holds = "it holds a store"
		}
		return fmt.Errorf("%s %s is %w (%s): give a new or empty directory; existing data is never overwritten", what, dest, errNotEmpty, holds)
	}
	return nil
}
