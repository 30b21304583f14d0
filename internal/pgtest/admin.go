package pgtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// adminDB is the database that administrative connections use.
const adminDB = "postgres"

// terminateWait is how long TerminateBackends waits for each backend to
// exit.
const terminateWait = 10 * time.Second

// Connect opens a connection to the database db over TCP, as the
// superuser. The caller closes it.
func (s *Server) Connect(ctx context.Context, db string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, s.DSN(db))
	if err != nil {
		return nil, fmt.Errorf("pgtest: connect to database %q: %w", db, err)
	}
	return conn, nil
}

// admin runs f on a connection to adminDB.
func (s *Server) admin(ctx context.Context, f func(*pgx.Conn) error) error {
	conn, err := s.Connect(ctx, adminDB)
	if err != nil {
		return err
	}
	err = f(conn)
	if closeErr := conn.Close(ctx); closeErr != nil {
		err = errors.Join(err, fmt.Errorf("pgtest: close the admin connection: %w", closeErr))
	}
	return err
}

// CreateDatabase creates the database name, owned by the superuser.
func (s *Server) CreateDatabase(ctx context.Context, name string) error {
	return s.admin(ctx, func(conn *pgx.Conn) error {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return fmt.Errorf("pgtest: create database %q: %w", name, err)
		}
		return nil
	})
}

// DropDatabase drops the database name, ending its connections first
// (DROP DATABASE ... WITH (FORCE)).
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	return s.admin(ctx, func(conn *pgx.Conn) error {
		if _, err := conn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("pgtest: drop database %q: %w", name, err)
		}
		return nil
	})
}

// databaseSeq makes the names of NewDatabase unique within the process.
var databaseSeq atomic.Int64

// NewDatabase creates a database of its own for the test tb, named after
// the test, and drops it when the test ends. It is how tests share the
// server of Shared without seeing each other's tables.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	name := databaseName(tb.Name(), databaseSeq.Add(1))
	ctx := context.Background()
	if err := s.CreateDatabase(ctx, name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.DropDatabase(ctx, name); err != nil {
			tb.Error(err)
		}
	})
	return name
}

// databaseName makes a database name from a test name and a sequence
// number: lower case letters, digits and underscores, at most 63 bytes
// (PostgreSQL's limit).
func databaseName(testName string, seq int64) string {
	suffix := fmt.Sprintf("_%d", seq)
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 63-len(suffix) {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String() + suffix
}

// TerminateBackends ends the connections of clients to the database db,
// or to every database when db is "", from the server side
// (pg_terminate_backend), and waits until their backends have exited. A
// client then finds its connection broken at its next query or commit. The
// connection that does the terminating is spared. It returns how many
// connections it ended.
func (s *Server) TerminateBackends(ctx context.Context, db string) (int, error) {
	var n int
	err := s.admin(ctx, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, `
			SELECT pid, pg_terminate_backend(pid, $2)
			FROM pg_stat_activity
			WHERE backend_type = 'client backend'
			  AND pid <> pg_backend_pid()
			  AND ($1::text = '' OR datname = $1::text)`,
			db, terminateWait.Milliseconds())
		if err != nil {
			return fmt.Errorf("pgtest: terminate backends: %w", err)
		}
		var stuck []int32
		var pid int32
		var ended bool
		_, err = pgx.ForEachRow(rows, []any{&pid, &ended}, func() error {
			if ended {
				n++
			} else {
				stuck = append(stuck, pid)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("pgtest: terminate backends: %w", err)
		}
		if len(stuck) > 0 {
			// false also means that the backend had exited already.
			if err := conn.QueryRow(ctx, "SELECT array_agg(pid) FROM pg_stat_activity WHERE pid = ANY($1)", stuck).Scan(&stuck); err != nil {
				return fmt.Errorf("pgtest: terminate backends: %w", err)
			}
		}
		if len(stuck) > 0 {
			return fmt.Errorf("pgtest: backends %v did not exit within %v of pg_terminate_backend", stuck, terminateWait)
		}
		return nil
	})
	return n, err
}
