package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/internal/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// testSchema is the schema of the stores of these tests: every test has a
// database of its own, so they may all use the same name.
const testSchema = "es"

// qt names a table of testSchema in SQL.
func qt(table string) string { return testSchema + "." + table }

// pgEnv is a database of its own on a server, for one test.
type pgEnv struct {
	srv *pgtest.Server
	db  string
}

// newEnv gives the test a database of its own on the shared server.
func newEnv(t *testing.T) pgEnv {
	t.Helper()
	srv := pgtest.Shared(t)
	return pgEnv{srv: srv, db: srv.NewDatabase(t)}
}

// ownEnv starts a server for the test alone (to stop, kill or restart it)
// and makes a database on it.
func ownEnv(t *testing.T, opts ...pgtest.Option) pgEnv {
	t.Helper()
	srv := pgtest.Start(t, opts...)
	return pgEnv{srv: srv, db: srv.NewDatabase(t)}
}

func (e pgEnv) dsn() string { return e.srv.DSN(e.db) }

// options are the backend options of a store in this database.
func (e pgEnv) options() postgres.Options {
	return postgres.Options{DSN: e.dsn(), Schema: testSchema}
}

// conn opens a connection of the test's own to the database, closed when the
// test ends.
func (e pgEnv) conn(t *testing.T) *pgx.Conn {
	t.Helper()
	c, err := e.srv.Connect(context.Background(), e.db)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// openStore opens a store of the postgres backend in a new directory, closed
// when the test ends.
func openStore(t *testing.T, o postgres.Options, extra ...eventstore.Option) *eventstore.Store {
	t.Helper()
	s, err := openIn(filepath.Join(t.TempDir(), "store"), o, extra...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func openIn(dir string, o postgres.Options, extra ...eventstore.Option) (*eventstore.Store, error) {
	opts := append([]eventstore.Option{eventstore.WithBackend(postgres.Name), eventstore.WithBackendConfig(o),
		eventstore.WithOpenTimeout(30 * time.Second)}, extra...)
	return eventstore.Open(dir, opts...)
}

// ev makes an event.
func ev(id, typ, data string) eventstore.Event {
	return eventstore.Event{ID: id, Type: typ, Data: []byte(data)}
}

// waitFor polls cond until it holds, and fails the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after %v for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logShape is the log as SQL sees it, in one snapshot.
type logShape struct {
	Head, Count, Min, Max int64
}

// shape reads the head row and the extent of the events table in one
// statement, so in one snapshot.
func shape(ctx context.Context, c *pgx.Conn) (logShape, error) {
	var s logShape
	err := c.QueryRow(ctx, `SELECT (SELECT position FROM `+qt("head")+`), count(*), coalesce(min(position), 0), coalesce(max(position), 0) FROM `+qt("events")).
		Scan(&s.Head, &s.Count, &s.Min, &s.Max)
	return s, err
}

// dense checks a snapshot of the log: offsets 1 to the head, each once.
func (s logShape) dense() error {
	if s.Count != s.Head || s.Max != s.Head || (s.Count > 0 && s.Min != 1) {
		return fmt.Errorf("the head row says %d, the events table holds %d rows from %d to %d", s.Head, s.Count, s.Min, s.Max)
	}
	return nil
}

// requireDenseSQL checks with SQL that the log's offsets are 1 to the head,
// each once, and that every stream's versions are 1 to its count, and
// returns the head.
func requireDenseSQL(t *testing.T, c *pgx.Conn) int64 {
	t.Helper()
	ctx := context.Background()
	s, err := shape(ctx, c)
	require.NoError(t, err)
	require.NoError(t, s.dense())
	var bad []string
	rows, err := c.Query(ctx, `SELECT stream, count(*), min(version), max(version) FROM `+qt("events")+` GROUP BY stream`)
	require.NoError(t, err)
	var stream string
	var n, lo, hi int64
	_, err = pgx.ForEachRow(rows, []any{&stream, &n, &lo, &hi}, func() error {
		if lo != 1 || hi != n {
			bad = append(bad, fmt.Sprintf("%q: %d rows, versions %d to %d", stream, n, lo, hi))
		}
		return nil
	})
	require.NoError(t, err)
	require.Empty(t, bad, "streams whose versions are not dense")
	return s.Head
}

// readAll reads the whole log through s and checks that it is dense.
func readAll(t *testing.T, s *eventstore.Store) []eventstore.Record {
	t.Helper()
	recs, err := s.ReadLog(context.Background(), 0, 0)
	require.NoError(t, err)
	for i, r := range recs {
		require.Equal(t, eventstore.Offset(i+1), r.Offset, "ReadLog returned offset %d at index %d", r.Offset, i)
	}
	return recs
}

// collector subscribes to a store from offset 1 and keeps what it sees,
// checking that every record continues the one before.
type collector struct {
	mu   sync.Mutex
	recs []eventstore.Record
	err  error
	// resumed counts the subscriptions that ended with an error and were
	// resumed, with resume.
	resumed int
	done    chan struct{}
}

func subscribe(t *testing.T, s *eventstore.Store) *collector { return startCollector(t, s, false) }

// subscribeResuming is subscribe for a subscriber that, like an
// application, subscribes again from the next offset when its subscription
// ends with an error that is not ErrCorrupt: a read that failed while the
// server was away.
func subscribeResuming(t *testing.T, s *eventstore.Store) *collector {
	return startCollector(t, s, true)
}

func startCollector(t *testing.T, s *eventstore.Store, resume bool) *collector {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for ctx.Err() == nil {
			c.mu.Lock()
			from := eventstore.Offset(len(c.recs) + 1)
			c.mu.Unlock()
			for r, err := range s.Subscribe(ctx, from) {
				c.mu.Lock()
				switch {
				case err != nil && resume && !errors.Is(err, eventstore.ErrCorrupt) && !errors.Is(err, eventstore.ErrClosed):
					c.resumed++
				case err != nil:
					c.err = err
				case r.Offset != eventstore.Offset(len(c.recs)+1):
					c.err = fmt.Errorf("the subscription yielded offset %d after %d", r.Offset, len(c.recs))
				default:
					c.recs = append(c.recs, r)
				}
				stop := c.err != nil
				c.mu.Unlock()
				if stop {
					return
				}
			}
			if !resume {
				return
			}
			time.Sleep(20 * time.Millisecond) // pace the attempts while the server is away
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-c.done
	})
	return c
}

// resumes returns how often the subscription was resumed.
func (c *collector) resumes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resumed
}

// seen returns how far the subscription got, and its error.
func (c *collector) seen() (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.recs), c.err
}

// waitSeen waits until the subscription has seen offset head.
func (c *collector) waitSeen(t *testing.T, head int64, timeout time.Duration) []eventstore.Record {
	t.Helper()
	waitFor(t, timeout, fmt.Sprintf("the subscriber to reach offset %d", head), func() bool {
		n, err := c.seen()
		require.NoError(t, err)
		return int64(n) >= head
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]eventstore.Record(nil), c.recs...)
}
