// Package postgres is the PostgreSQL backend of the event store: the log
// lives in a PostgreSQL schema that several processes, on one host or many,
// open and append to at once, behind the same eventstore.Store API as the
// embedded engines. It registers itself as "postgres":
//
//	import _ "github.com/durablelog/eventstore/backends/postgres"
//
//	store, err := eventstore.Open("data/orders", eventstore.WithBackend("postgres"),
//		eventstore.WithBackendConfig(postgres.Options{DSN: "postgres://app@db/orders", Schema: "orders"}))
//
// With no DSN, the standard environment variables (PGHOST, PGPORT, PGUSER,
// PGPASSWORD, PGDATABASE, PGSSLMODE, ...) select the server, as libpq and
// pgx do, and the schema is "eventstore". The schema's tables are created on
// first use; their layout version is checked at every Open. TLS is set in
// the DSN (sslmode, sslrootcert). The schema name is checked and quoted as an
// identifier; stream names, types, ids and data reach the server only as
// query parameters.
//
// Each process keeps a local directory (the first argument of Open) for what
// is local: its snapshots and its STORE file, which records the backend and
// the schema. Two processes must not share a local directory (the directory
// lock refuses it); they share the schema.
//
// # The tables
//
//	head    (id = 1, position, generation): the last offset given, and the
//	        store's generation
//	events  (position PRIMARY KEY, stream, version, event_id, record):
//	        UNIQUE (stream, version), UNIQUE (stream, event_id) where
//	        event_id is set; record is the record in the store's own format
//	        (internal/record), with its CRC-32C, so that every read checks
//	        it
//	meta    (key, value): the layout version
//
// # How offsets are assigned, and why they are dense and visible in order
//
// Every appending transaction first locks the head row (SELECT ... FOR
// UPDATE), then reads the versions of its streams and the ids its events
// carry, decides each append (expected version, idempotent retry, duplicate
// ids), inserts the accepted events at the offsets after the head, moves the
// head, and commits. Holding the row lock until its commit serialises every
// writer of the schema: a transaction that rolls back gives its offsets to
// the next one, so no offset is ever skipped; and PostgreSQL makes a
// transaction visible before it releases its locks, so the next writer, and
// with it offset N+1, commits only after offset N is visible to everyone. A
// reader that follows "the next offset" therefore never skips an event that
// commits later, as readers of a sequence-based table can (see
// adr/0010-networked-log.md). Expected versions are checked under the same
// lock, and the table's unique constraints hold them too. These
// transactions run at READ COMMITTED whatever the database's
// default_transaction_isolation, since a writer that waited for the lock
// must read what the one before it committed.
//
// To keep that serialisation cheap, each process commits the appends of its
// goroutines in groups: one transaction, one lock hand-over and one WAL flush
// for all the appends that queued while the previous group committed.
//
// # Several writers
//
// What changes when several processes write:
//
//   - Head, reads and subscriptions are per process: Head is the last offset
//     this process has published, its own appends and those of the others
//     that it has caught up with. A follower publishes the others' appends
//     in order, woken by a notification (LISTEN/NOTIFY) that every commit
//     sends, and every Options.PollInterval without one; so Subscribe in one
//     process sees every append of every process, in offset order, without
//     gap or duplicate, and survives a lost notification and a reconnect.
//     A read that cannot reach the server (a refused or broken connection,
//     a terminated backend, a shutdown) fails with
//     eventstore.ErrUnavailable; Subscribe waits (up to a second between
//     tries) and reads again until the server answers, its context ends
//     or the store closes, while ReadLog, ReadStream and the Log and Stream
//     iterators return the error to the caller.
//   - The state machine of each process applies every event of the log, its
//     own and the others', in offset order; Append returns after the local
//     state machine has applied everything up to the append's last offset.
//     Snapshots stay local files.
//   - Expected versions and idempotent retries (by event ids) hold across
//     processes: the database checks them inside the serialised transaction.
//   - The generation is the schema's (the head row), shared by all.
//   - Backups write a dump (the backend has no checkpoint); `eventstore
//     migrate` moves a store between an embedded engine and PostgreSQL.
//
// # Unknown outcomes
//
// When the connection breaks while a group commits, or an append's context
// ends while its group commits, the append may or may not have been
// committed: Append returns an error wrapping eventstore.ErrUnknownOutcome.
// Retrying it with the same event ids and the same exact expected version
// (NoStream or n > 0) is safe: a committed append is recognised and its
// result returned, an absent one is written once. An error that the server
// reported (a constraint, a refused login) means nothing was written. The
// store does not stop: the pool reconnects when the server is back, and the
// follower publishes whatever was committed.
//
// # Durability
//
// Sync, the default, commits with synchronous_commit = on: Append returns
// after the commit is flushed to the server's WAL and, where the server has
// synchronous standbys (synchronous_standby_names), after they confirmed it.
// NoSync commits with synchronous_commit = off: a crash of the client loses
// nothing committed, a crash of the server may lose the last commits (up to
// about three times wal_writer_delay, 600 ms by default), always a tail of
// whole transactions in offset order, never a torn or reordered log.
package postgres
