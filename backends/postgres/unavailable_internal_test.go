package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/durablelog/eventstore/logstore"
)

// TestUnavailableClassifies: the errors of a server or a connection going
// away are marked ErrUnavailable; the server's statement errors, the end of
// the caller's context and anything else are not.
func TestUnavailableClassifies(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"terminated backend (57P01)", context.Background(), &pgconn.PgError{Code: "57P01"}, true},
		{"connection failure (08006)", context.Background(), &pgconn.PgError{Code: "08006"}, true},
		{"too many connections (53300)", context.Background(), &pgconn.PgError{Code: "53300"}, true},
		{"unique violation (23505)", context.Background(), &pgconn.PgError{Code: "23505"}, false},
		{"undefined table (42P01)", context.Background(), &pgconn.PgError{Code: "42P01"}, false},
		{"closed connection", context.Background(), fmt.Errorf("read: %w", pgconn.ErrConnClosed), true},
		{"unexpected EOF", context.Background(), fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), true},
		{"reset", context.Background(), fmt.Errorf("write: %w", syscall.ECONNRESET), true},
		{"refused", context.Background(), fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
		{"the caller's context ended", canceled, fmt.Errorf("read: %w", io.ErrUnexpectedEOF), false},
		{"deadline", context.Background(), fmt.Errorf("read: %w", context.DeadlineExceeded), false},
		{"a scan error", context.Background(), errors.New("can't scan into dest[0]"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := unavailable(c.ctx, c.err)
			if got := errors.Is(err, logstore.ErrUnavailable); got != c.want {
				t.Fatalf("unavailable(%v) = %v: ErrUnavailable %v, want %v", c.err, err, got, c.want)
			}
			if !errors.Is(err, c.err) {
				t.Fatalf("the cause is lost: %v", err)
			}
		})
	}
	if unavailable(context.Background(), nil) != nil {
		t.Fatal("no error became one")
	}
}
