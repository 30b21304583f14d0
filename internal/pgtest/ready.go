package pgtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// attemptTimeout bounds one connection attempt of waitReady.
const attemptTimeout = 2 * time.Second

// errExited means that the server exited while it was starting.
var errExited = errors.New("pgtest: postgres exited while starting")

// waitReady polls until the server accepts a connection over TCP (which
// it does after any crash recovery), the process exits (errExited), or
// ctx ends.
func (s *Server) waitReady(ctx context.Context, p *postmaster) error {
	var last error
	return poll(ctx, func() (bool, error) {
		select {
		case <-p.exited:
			return false, fmt.Errorf("%w (pid %d, %w)", errExited, p.pid, p.exitErr())
		default:
		}
		attemptCtx, cancel := context.WithTimeout(ctx, attemptTimeout)
		defer cancel()
		conn, err := pgx.Connect(attemptCtx, s.DSN(adminDB))
		if err != nil {
			last = err
			return false, nil // not ready yet: starting up, recovering, or not listening
		}
		if err := conn.Close(ctx); err != nil {
			return false, fmt.Errorf("pgtest: close the first connection: %w", err)
		}
		return true, nil
	}, func() error {
		if last == nil {
			return fmt.Errorf("pgtest: postgres (pid %d) was not tried on port %d", p.pid, s.port)
		}
		return fmt.Errorf("pgtest: postgres (pid %d) accepts no connection on port %d (last attempt: %w)", p.pid, s.port, last)
	})
}
