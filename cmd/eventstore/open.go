package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/backends/postgres"
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
// On PostgreSQL without --dir, it opens the schema's store in a temporary
// directory (see pg.go).
func (a *app) openExisting(ctx context.Context, opts ...eventstore.Option) (*eventstore.Store, error) {
	if a.dir == "" && a.backend == postgres.Name {
		return a.openPostgres(ctx, opts...)
	}
	if err := a.requireDir(); err != nil {
		return nil, err
	}
	s, err := a.openDir(ctx, a.dir, a.backend, append(opts, eventstore.WithExistingStore())...)
	if errors.Is(err, eventstore.ErrNoStore) {
		hint := ""
		if a.backend == postgres.Name {
			hint = "; for a store on PostgreSQL, drop --dir: the command then uses a temporary directory of its own"
		}
		return nil, fmt.Errorf("%w: %s holds no store (no %s file): check --dir; 'eventstore append' or 'eventstore import' creates one%s", errNoStore, a.dir, layout.StoreFile, hint)
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
	bopts, err := a.backendOptions(dir, name)
	if err != nil {
		return nil, err
	}
	opts = append(bopts, opts...)
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
			if recordedBackend(dir) == postgres.Name {
				return nil, fmt.Errorf("%w; waited %v: this is another process's local directory of a store on PostgreSQL: drop --dir, and give --backend postgres with --dsn and --schema; the command then uses a temporary directory of its own", err, a.lockWait)
			}
			return nil, fmt.Errorf("%w; waited %v: stop the process that has it open (the application, or another eventstore command), or raise --lock-wait; for an online copy call Store.Backup in the application", err, a.lockWait)
		}
		if err := sleep(ctx, lockRetry); err != nil {
			return nil, err
		}
	}
}

// checkBackend checks that an engine or a log backend of that name is
// registered.
func checkBackend(name string) error {
	if isLogBackend(name) {
		return nil
	}
	if _, err := backend.Lookup(name); err != nil {
		return fmt.Errorf("--backend %q: %w %q (registered: %s; forgotten import of github.com/durablelog/eventstore/backends/%s?)",
			name, eventstore.ErrUnknownBackend, name, strings.Join(backendNames(), ", "), name)
	}
	return nil
}

// checkEngine checks that name is an engine, for the commands that work
// only on a local store (bench, restore).
func checkEngine(name, command, instead string) error {
	if isLogBackend(name) {
		return usageErrorf("--backend %s: %s works on the embedded engines only; %s", name, command, instead)
	}
	return checkBackend(name)
}

// durableBackend checks that name is an engine whose stores outlive the
// process, for the commands that create a store to keep.
func durableBackend(name string) error {
	if err := checkBackend(name); err != nil {
		return err
	}
	if name == memory.Name {
		return usageErrorf("--backend memory: the memory engine keeps nothing after this command exits; choose rocksdb, pebble, badger, sqlite or postgres")
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
