package benchreport

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/durablelog/eventstore/internal/pgtest"
)

// runEnv is what the workloads of one run share beyond their Target: the
// PostgreSQL server of the postgres backend and the pgx baselines.
type runEnv struct {
	pgDSN string

	mu     sync.Mutex
	pgConn *pgx.Conn // drops the schemas of removed stores
}

// startPostgres starts a throwaway server under base for the run, or under
// the system's temporary directory when its user cannot reach base; it
// returns the server and a description of it for the report.
func startPostgres(ctx context.Context, base string) (*pgtest.Server, error) {
	cfg := pgtest.Config{BaseDir: base, SharedBuffers: "256MB"}
	srv, err := pgtest.StartServer(ctx, cfg)
	if err != nil && strings.Contains(err.Error(), "cannot reach") {
		cfg.BaseDir = ""
		srv, err = pgtest.StartServer(ctx, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("benchreport: start a PostgreSQL server for the postgres backend: %w", err)
	}
	return srv, nil
}

// postgresVersion asks the server its version.
func postgresVersion(ctx context.Context, dsn string) (string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", fmt.Errorf("benchreport: connect to the PostgreSQL server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var v string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "", fmt.Errorf("benchreport: %w", err)
	}
	return "PostgreSQL " + v, nil
}

// dropSchema drops the schema of the postgres store that lived in dir.
func (e *runEnv) dropSchema(dir string) error {
	if e == nil || e.pgDSN == "" {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ctx := context.Background()
	if e.pgConn == nil {
		conn, err := pgx.Connect(ctx, e.pgDSN)
		if err != nil {
			return err
		}
		e.pgConn = conn
	}
	_, err := e.pgConn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schemaFor(dir)}.Sanitize()+" CASCADE")
	return err
}

// close closes the connection that drops schemas.
func (e *runEnv) close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pgConn == nil {
		return nil
	}
	err := e.pgConn.Close(context.Background())
	e.pgConn = nil
	return err
}

// logDropError reports a schema that could not be dropped: the run goes on.
func logDropError(dir string, err error) {
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(os.Stderr, "benchreport: drop the schema of %s: %v\n", dir, err)
	}
}
