package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// follow is the follower goroutine: it publishes the other processes'
// appends in this process, in order. A notification (LISTEN/NOTIFY, sent by
// every committing transaction) wakes it at once; without one it looks every
// PollInterval, so a lost notification or a dropped connection only delays
// it. It reconnects as long as the log is open.
func (l *Log) follow() {
	defer l.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-l.quit
		cancel()
	}()
	for attempt := 0; ; attempt++ {
		listening, err := l.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		if listening {
			attempt = 0 // it worked for a while: the next failure starts the backoff again
		}
		l.logger.Warn("postgres: following other processes' appends failed; reconnecting", "err", err)
		if !l.pause(attempt) {
			return
		}
	}
}

// listen holds one connection with LISTEN and catches up whenever it is
// woken, until ctx ends or the connection fails.
// It reports whether it was listening before it failed.
func (l *Log) listen(ctx context.Context) (listening bool, err error) {
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer l.release(conn)
	if _, err := conn.Exec(ctx, `LISTEN `+quoteIdent(l.q.channel)); err != nil {
		return false, err
	}
	for {
		if err := l.catchUp(ctx); err != nil {
			return listening, err
		}
		listening = true
		if err := l.waitWoken(ctx, conn); err != nil {
			return true, err
		}
	}
}

// waitWoken waits for a notification, a poke or PollInterval, whichever
// comes first. A wait cut short leaves the connection usable: pgx ends it
// with a read deadline, which it does not count as a broken connection.
func (l *Log) waitWoken(ctx context.Context, conn *pgxpool.Conn) error {
	wait, cancel := context.WithTimeoutCause(ctx, l.opts.PollInterval, errPollDue)
	defer cancel()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-l.wake:
			cancel()
		case <-stop:
		}
	}()
	_, err := conn.Conn().WaitForNotification(wait)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil && wait.Err() == nil:
		return err
	}
	return nil
}

var errPollDue = errors.New("postgres: poll due")

// release returns the listening connection to the pool, closed: it still
// listens, and may be in the middle of a wait.
func (l *Log) release(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Conn().Close(ctx)
	conn.Release()
}

// catchUp publishes everything committed beyond this process's head, and
// refreshes the generation.
func (l *Log) catchUp(ctx context.Context) error {
	l.pubMu.Lock()
	err := l.catchUpLocked(ctx, 0)
	l.pubMu.Unlock()
	if err != nil {
		return err
	}
	var gen int64
	if err := l.pool.QueryRow(ctx, `SELECT generation FROM `+l.q.head+` WHERE id = 1`).Scan(&gen); err != nil {
		return err
	}
	l.generation.Store(uint64(gen))
	return nil
}

// poke wakes the follower, so that it catches up now.
func (l *Log) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// quoteIdent quotes a channel name for LISTEN.
func quoteIdent(s string) string { return strconv.Quote(s) }
