package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/durablelog/eventstore/logstore"
)

// unavailable marks err, from a read, with logstore.ErrUnavailable when it
// says that the server could not be reached or the connection broke, so
// that Subscribe waits and retries instead of ending. An error that the
// server reported about the statement itself is returned as it is, except
// for the classes that mean the connection is going away: 08 (connection
// exception), 57 (operator intervention: a shutdown, a terminated backend)
// and 53 (insufficient resources, such as too many connections). Below
// the statement, a failed connect, a network error, a closed or reset
// connection and an unexpected end of the stream are the connection's;
// any other error (a value that does not scan, say) is returned as it is.
// The end of ctx is not a failure of the server.
func unavailable(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:min(2, len(pgErr.Code))] {
		case "08", "57", "53":
			return fmt.Errorf("%w: %w", logstore.ErrUnavailable, err)
		}
		return err
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr),
		errors.Is(err, pgconn.ErrConnClosed), pgconn.SafeToRetry(err), pgconn.Timeout(err),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return fmt.Errorf("%w: %w", logstore.ErrUnavailable, err)
	}
	return err
}
