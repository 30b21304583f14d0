package peers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver
)

// SQLite is an events table in SQLite, as its users write one: WAL mode,
// synchronous=FULL (every commit fsyncs the WAL), one transaction per
// append with the expected-version check in the INSERT, and one
// connection, for which writers queue: SQLite admits one writer at a time,
// and several connections would only retry in its busy handler.
var SQLite = Peer{Name: "sqlite-events", Streams: true, Open: openSQLite}

const sqliteSchema = `CREATE TABLE IF NOT EXISTS events (
	position INTEGER PRIMARY KEY,
	stream   TEXT    NOT NULL,
	version  INTEGER NOT NULL,
	type     TEXT    NOT NULL,
	data     BLOB    NOT NULL,
	UNIQUE (stream, version))`

// sqliteInsert inserts one event at the version after the stream's, when
// ?4 is negative (Any) or the stream is at version ?4, and returns its
// position and version; no row when the check fails. The stream's version
// is read with ORDER BY version DESC LIMIT 1, one step down the UNIQUE
// index: SQLite does not apply its min/max optimisation to MAX(version)
// in this INSERT ... SELECT, and read every row of the stream instead,
// which made each insert cost time in proportion to the stream's length.
const sqliteInsert = `INSERT INTO events (stream, version, type, data)
	SELECT ?1, v + 1, ?2, ?3
	FROM (SELECT COALESCE((SELECT version FROM events WHERE stream = ?1 ORDER BY version DESC LIMIT 1), 0) AS v)
	WHERE ?4 < 0 OR v = ?4
	RETURNING position, version`

type sqliteLog struct {
	db     *sql.DB
	insert *sql.Stmt
}

func openSQLite(dir string, o Options) (Log, error) {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	if o.NoSync {
		q.Set("_synchronous", "OFF")
	}
	q.Set("_txlock", "immediate")
	q.Set("_busy_timeout", "10000")
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "events.db")+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("peers: sqlite: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(sqliteSchema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("peers: sqlite: %w", err)
	}
	insert, err := db.Prepare(sqliteInsert)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("peers: sqlite: %w", err)
	}
	return &sqliteLog{db: db, insert: insert}, nil
}

func (l *sqliteLog) Append(ctx context.Context, stream string, expected int64, events []Event) (last uint64, err error) {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("peers: sqlite: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	ins := tx.StmtContext(ctx, l.insert)
	for _, e := range events {
		var version int64
		err := ins.QueryRowContext(ctx, stream, e.Type, e.Data, expected).Scan(&last, &version)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("%w: stream %q is not at version %d", ErrWrongVersion, stream, expected)
		}
		if err != nil {
			return 0, fmt.Errorf("peers: sqlite: %w", err)
		}
		expected = version
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("peers: sqlite: %w", err)
	}
	return last, nil
}

func (l *sqliteLog) Scan(ctx context.Context, fn func(Event) error) error {
	rows, err := l.db.QueryContext(ctx, `SELECT position, stream, version, type, data FROM events ORDER BY position`)
	if err != nil {
		return fmt.Errorf("peers: sqlite: %w", err)
	}
	defer rows.Close()
	var e Event
	var data sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&e.Position, &e.Stream, &e.Version, &e.Type, &data); err != nil {
			return fmt.Errorf("peers: sqlite: %w", err)
		}
		e.Data = data
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("peers: sqlite: %w", err)
	}
	return nil
}

func (l *sqliteLog) Close() error {
	return errors.Join(l.insert.Close(), l.db.Close())
}
