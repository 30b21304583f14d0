package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/durablelog/eventstore/logstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Name is the name the backend registers under.
const Name = "postgres"

func init() { logstore.Register(Name, opener{}) }

type opener struct{}

// OpenLog implements logstore.Opener.
func (opener) OpenLog(ctx context.Context, o logstore.OpenOptions) (logstore.Log, error) {
	opts, err := optionsFrom(o.BackendConfig)
	if err != nil {
		return nil, err
	}
	return Open(ctx, opts, o.Config, o.Logger)
}

// queueDepth is how many appends may wait for the committer.
const queueDepth = 4096

// Log is a logstore.Log in a PostgreSQL schema that several processes share.
// See the package documentation for how offsets are assigned.
type Log struct {
	pool   *pgxpool.Pool
	q      sql
	opts   Options
	cfg    logstore.Config
	logger *slog.Logger
	dbName string

	head       atomic.Uint64 // the last offset published in this process
	generation atomic.Uint64

	// pubMu serialises publishing, so that OnCommit sees every offset once,
	// in order, whether it was appended here or by another process.
	pubMu sync.Mutex

	// mu orders Close after running reads and enqueues: they hold it for
	// reading, Close for writing. closing is set first, so that they fail
	// at once instead of waiting.
	mu      sync.RWMutex
	closed  bool
	closing atomic.Bool

	reqs  chan *pending
	quit  chan struct{}
	wg    sync.WaitGroup
	wake  chan struct{} // pokes the follower
	carry *pending      // owned by the committer
}

var (
	_ logstore.Log    = (*Log)(nil)
	_ logstore.Shared = (*Log)(nil)
)

// Open connects to the server that opts names, creates the schema's tables
// when they are missing, checks their layout version, and starts the
// committer and the follower. It honours ctx for all of that.
func Open(ctx context.Context, opts Options, cfg logstore.Config, logger *slog.Logger) (*Log, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBatchEvents <= 0 {
		cfg.MaxBatchEvents = 8192
	}
	if cfg.MaxBatchBytes <= 0 {
		cfg.MaxBatchBytes = 16 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	pcfg, err := pgxpool.ParseConfig(opts.DSN)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse the DSN: %w", err)
	}
	pcfg.MaxConns = opts.MaxConns
	rt := pcfg.ConnConfig.RuntimeParams
	rt["application_name"] = "eventstore"
	rt["synchronous_commit"] = "on"
	if !cfg.Sync {
		rt["synchronous_commit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	l := &Log{pool: pool, q: newSQL(opts.Schema), opts: opts, cfg: cfg, logger: logger,
		reqs: make(chan *pending, queueDepth), quit: make(chan struct{}), wake: make(chan struct{}, 1)}
	if err := l.start(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return l, nil
}

func (l *Log) start(ctx context.Context) error {
	if err := l.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: connect to %s: %w; check the DSN or the PG* environment variables", describeTarget(l.pool.Config()), err)
	}
	if err := setup(ctx, l.pool, l.q); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	var head, gen int64
	err := l.pool.QueryRow(ctx, `SELECT h.position, h.generation, current_database() FROM `+l.q.head+` h WHERE id = 1`).Scan(&head, &gen, &l.dbName)
	if err != nil {
		return fmt.Errorf("postgres: read the head of schema %q: %w", l.q.schema, err)
	}
	l.head.Store(uint64(head))
	l.generation.Store(uint64(gen))
	l.wg.Add(2)
	go l.run()
	go l.follow()
	return nil
}

// describeTarget names the server a configuration points at, for messages.
func describeTarget(c *pgxpool.Config) string {
	cc := c.ConnConfig
	return fmt.Sprintf("host %q port %d database %q user %q", cc.Host, cc.Port, cc.Database, cc.User)
}

// Head returns the last offset published in this process: its own commits
// and those of other processes that it has caught up with.
func (l *Log) Head() logstore.Offset { return logstore.Offset(l.head.Load()) }

// Identity implements logstore.Shared.
func (l *Log) Identity() string {
	return identity(l.dbName, l.q.schema)
}

// Generation implements logstore.Shared: the generation as this process
// last read it (at Open, at each commit and each catch-up).
func (l *Log) Generation() uint64 { return l.generation.Load() }

// NewGeneration implements logstore.Shared.
func (l *Log) NewGeneration(ctx context.Context) (uint64, error) {
	var g int64
	err := pgx.BeginTxFunc(ctx, l.pool, readCommitted, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `UPDATE `+l.q.head+` SET generation = generation + 1 WHERE id = 1 RETURNING generation`).Scan(&g)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: move schema %q to a new generation: %w", l.q.schema, err)
	}
	l.generation.Store(uint64(g))
	return uint64(g), nil
}

// rlock takes the read side of mu, failing when the log is closed or
// closing.
func (l *Log) rlock() error {
	if l.closing.Load() {
		return fmt.Errorf("%w", logstore.ErrClosed)
	}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return fmt.Errorf("%w", logstore.ErrClosed)
	}
	return nil
}

// Close stops the committer (queued appends fail with ErrClosed, the commit
// in flight finishes) and the follower, waits for running reads, and closes
// the connections.
func (l *Log) Close() error {
	l.closing.Store(true)
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return fmt.Errorf("%w", logstore.ErrClosed)
	}
	l.closed = true
	l.mu.Unlock()
	close(l.quit)
	l.wg.Wait()
	l.pool.Close()
	return nil
}

func checkCtx(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	return nil
}

// QueueDepth implements logstore.QueueDepther.
func (l *Log) QueueDepth() int { return len(l.reqs) }
