package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/internal/layout"
	"github.com/durablelog/eventstore/logstore"
)

// A store on PostgreSQL lives in a schema that several processes share, and
// each process that opens it keeps a local directory of its own (its STORE
// file and its snapshots), which no two processes may share. The
// application's directory is locked while it runs, so a command that reads a
// PostgreSQL store needs no --dir: without one it opens the store in a
// private temporary directory, which holds nothing but the STORE file and
// the lock, and which run removes when the command ends. A killed command
// leaves it behind in $TMPDIR (eventstore-*), where it may be removed.

// The help of --dsn and --schema.
const (
	dsnHelp    = "with --backend postgres: the server, as libpq reads it (postgres://user@host/db?sslmode=verify-full, or host=... dbname=...); default: the PG* environment variables"
	schemaHelp = "with --backend postgres: the schema that holds the store"
)

// pgOptions are the postgres.Options of --dsn and --schema.
func (a *app) pgOptions() postgres.Options {
	return postgres.Options{DSN: a.dsn, Schema: a.schema, PollInterval: a.pgPoll}
}

// isLogBackend reports whether name is a log backend, such as postgres,
// rather than an engine under a local log.
func isLogBackend(name string) bool {
	_, ok := logstore.Lookup(name)
	return ok
}

// recordedBackend returns the backend that dir's STORE file records, if any.
func recordedBackend(dir string) string {
	if dir == "" {
		return ""
	}
	sf, found, err := layout.ReadStore(dir)
	if err != nil || !found {
		return ""
	}
	return sf.Backend
}

// backendOptions returns the options that configure the backend name (or,
// when empty, the one dir records): --dsn and --schema for postgres.
func (a *app) backendOptions(dir, name string) ([]eventstore.Option, error) {
	if name == "" {
		name = recordedBackend(dir)
	}
	if name != postgres.Name {
		if a.pgFlags && !a.pgTarget {
			return nil, usageErrorf("--dsn and --schema name a PostgreSQL store, and this store is on %s: drop them, or add --backend postgres", orDefault(name))
		}
		return nil, nil
	}
	return []eventstore.Option{eventstore.WithBackendConfig(a.pgOptions())}, nil
}

// orDefault names the engine of a store that records none yet.
func orDefault(name string) string {
	if name == "" {
		return eventstore.DefaultBackend
	}
	return name
}

// onPostgres reports whether the command works on a PostgreSQL store:
// --backend postgres, or a --dir that records it.
func (a *app) onPostgres() bool {
	if a.backend != "" {
		return a.backend == postgres.Name
	}
	return recordedBackend(a.dir) == postgres.Name
}

// useTempDir points --dir at a new private temporary directory when the
// store is on PostgreSQL and --dir was not given, and reports whether it
// did. The directory is removed when the command ends (removeTemps).
func (a *app) useTempDir() (bool, error) {
	if a.dir != "" || a.backend != postgres.Name {
		return false, nil
	}
	dir, err := a.tempDir()
	if err != nil {
		return false, err
	}
	a.dir, a.temporary = dir, true
	return true, nil
}

// tempDir makes a private temporary directory that removeTemps removes.
func (a *app) tempDir() (string, error) {
	dir, err := os.MkdirTemp("", "eventstore-")
	if err != nil {
		return "", fmt.Errorf("create a temporary local directory: %w", err)
	}
	a.temps = append(a.temps, dir)
	return dir, nil
}

// removeTemps removes the temporary directories of the command. It runs
// after the command, which has closed its stores by then.
func (a *app) removeTemps() {
	for _, dir := range a.temps {
		if err := os.RemoveAll(dir); err != nil {
			a.warnf("remove the temporary directory %s: %v", dir, err)
		}
	}
	a.temps = nil
}

// openPostgres opens the PostgreSQL store of --dsn and --schema in a new
// temporary directory, after checking that the schema holds a store:
// reading commands never create one.
func (a *app) openPostgres(ctx context.Context, opts ...eventstore.Option) (*eventstore.Store, error) {
	info, err := inspect(ctx, a.pgOptions())
	if err != nil {
		return nil, err
	}
	if !info.Store {
		return nil, fmt.Errorf("%w: %s: check --dsn (or the PG* environment variables) and --schema; "+
			"'eventstore migrate --to postgres', 'eventstore import --backend postgres' or 'eventstore append --backend postgres' creates one",
			errNoStore, describeNoStore(info))
	}
	if _, err := a.useTempDir(); err != nil {
		return nil, err
	}
	return a.openDir(ctx, a.dir, postgres.Name, opts...)
}

// inspect is postgres.Inspect, bounded as Open is: a server that does not
// answer fails the command instead of hanging it.
func inspect(ctx context.Context, opts postgres.Options) (postgres.SchemaInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, eventstore.DefaultOpenTimeout)
	defer cancel()
	return postgres.Inspect(ctx, opts)
}

// describeNoStore says what a schema without a store holds.
func describeNoStore(info postgres.SchemaInfo) string {
	switch {
	case !info.Exists:
		return fmt.Sprintf("database %q has no schema %q", info.Database, info.Schema)
	case len(info.Others) > 0:
		return fmt.Sprintf("schema %q of database %q holds no store (it holds %s)", info.Schema, info.Database, strings.Join(info.Others, ", "))
	}
	return fmt.Sprintf("schema %q of database %q holds no store", info.Schema, info.Database)
}

// where names the store for messages: --dir, or the store's location when
// the directory is the command's temporary one.
func (a *app) where() string {
	if a.temporary {
		if sf, found, err := layout.ReadStore(a.dir); err == nil && found && sf.Location != "" {
			return sf.Location
		}
		return fmt.Sprintf("postgres schema %q", a.schema)
	}
	return a.dir
}

// backendNames lists the registered engines and log backends.
func backendNames() []string {
	names := append(backend.Names(), logstore.Names()...)
	sort.Strings(names)
	return names
}
