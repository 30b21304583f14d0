// Command eventstore inspects, follows, checks, copies and moves the stores
// of github.com/durablelog/eventstore.
//
//	go install github.com/durablelog/eventstore/cmd/eventstore@latest
//
// Commands:
//
//	append    append events to a stream, from flags or JSON lines on stdin
//	read      print the log or a stream; --follow prints new events as they come
//	stat      head, streams, size on disk, snapshots, recovery report
//	verify    check every record, index entry and snapshot; exit code 3 and the location on damage
//	snapshot  list, prune (and explain create) the state machine's snapshots
//	export    write every record into a portable, checksummed dump
//	import    load a dump into a new store, checking every record first
//	migrate   copy a store into another engine, or into PostgreSQL and back, verifying every record and the content hash
//	backup    a consistent copy: the engine's checkpoint, else a dump (Store.Backup)
//	restore   check a backup and turn it into a store
//	bench     a quick append benchmark on an engine
//
// Every command takes --dir (the store's directory) and --backend (the
// engine: rocksdb, pebble, badger, sqlite, memory or postgres); a store
// records its engine, so --backend matters only for a new store. --json
// prints results for scripts. Long operations draw a progress bar on stderr
// when stdout and stderr are terminals.
//
// A store on PostgreSQL (--backend postgres) lives in the schema --schema
// (default eventstore) of the server --dsn names (default: the PG*
// environment variables, as libpq reads them). Several processes share it,
// so the commands run while applications write; each process keeps a local
// directory of its own, and without --dir a command uses a private
// temporary directory that it removes when it ends. migrate --to postgres
// moves an embedded store into a schema that does not exist or is empty.
//
// Exit codes: 0 ok; 1 error; 2 usage; 3 corruption detected; 4 wrong
// expected version (append); 5 the store is in use by another process; 6
// wrong directory (no store, another engine's store, a destination or a
// PostgreSQL schema that is not empty); 130 interrupted.
//
// The dump format of export and import is documented in package
// internal/dump; docs/cli.md describes every command, the backup layout and
// the restore procedure.
package main
