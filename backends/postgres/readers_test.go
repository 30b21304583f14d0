package postgres_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"sync"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/jackc/pgx/v5"
)

// logReaders follow the log while it grows, three ways, and fail at the
// first offset that does not continue the one before (a gap, a duplicate,
// N+1 before N): ReadLog polled from the next offset, a Subscribe, and SQL
// on the events table (which also checks, in every snapshot, that the head
// row and the rows agree). Each keeps a digest of what it saw.
type logReaders struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	next   [3]eventstore.Offset
	digest [3]hash.Hash
	polls  [3]int
	err    error
}

const (
	byReadLog = iota
	bySubscribe
	bySQL
)

var readerNames = [3]string{"ReadLog", "Subscribe", "SQL"}

// digestLine is what a digest takes of each record.
func digestLine(h hash.Hash, off eventstore.Offset, stream string, version uint64, id string) {
	fmt.Fprintf(h, "%d|%q|%d|%q\n", off, stream, version, id)
}

// logDigest is the digest of a whole log.
func logDigest(recs []eventstore.Record) string {
	h := sha256.New()
	for _, r := range recs {
		digestLine(h, r.Offset, r.Stream, r.Version, r.ID)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// startReaders starts the three readers; conn is for the SQL one alone.
func startReaders(s *eventstore.Store, conn *pgx.Conn) *logReaders {
	ctx, cancel := context.WithCancel(context.Background())
	r := &logReaders{cancel: cancel}
	for i := range r.next {
		r.next[i] = 1
		r.digest[i] = sha256.New()
	}
	r.wg.Go(func() { r.fail(r.pollReadLog(ctx, s)) })
	r.wg.Go(func() { r.fail(r.subscribe(ctx, s)) })
	r.wg.Go(func() { r.fail(r.pollSQL(ctx, conn)) })
	return r
}

func (r *logReaders) fail(err error) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

// saw takes the record at off for reader i, which must be the next one.
func (r *logReaders) saw(i int, off eventstore.Offset, stream string, version uint64, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if off != r.next[i] {
		return fmt.Errorf("%s reader: offset %d came when %d was next", readerNames[i], off, r.next[i])
	}
	digestLine(r.digest[i], off, stream, version, id)
	r.next[i]++
	return nil
}

func (r *logReaders) nextOf(i int) eventstore.Offset {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.polls[i]++
	return r.next[i]
}

// pause is the pace of the polling readers when they found nothing new.
const pause = 2 * time.Millisecond

func (r *logReaders) pollReadLog(ctx context.Context, s *eventstore.Store) error {
	for ctx.Err() == nil {
		recs, err := s.ReadLog(ctx, r.nextOf(byReadLog), 0)
		if err != nil {
			return fmt.Errorf("ReadLog reader: %w", err)
		}
		for _, rec := range recs {
			if err := r.saw(byReadLog, rec.Offset, rec.Stream, rec.Version, rec.ID); err != nil {
				return err
			}
		}
		if len(recs) == 0 {
			time.Sleep(pause)
		}
	}
	return nil
}

func (r *logReaders) subscribe(ctx context.Context, s *eventstore.Store) error {
	for rec, err := range s.Subscribe(ctx, 1) {
		if err != nil {
			return fmt.Errorf("Subscribe reader: %w", err)
		}
		if err := r.saw(bySubscribe, rec.Offset, rec.Stream, rec.Version, rec.ID); err != nil {
			return err
		}
	}
	return nil
}

func (r *logReaders) pollSQL(ctx context.Context, conn *pgx.Conn) error {
	for ctx.Err() == nil {
		sh, err := shape(ctx, conn)
		if err != nil {
			return err
		}
		if err := sh.dense(); err != nil {
			return fmt.Errorf("SQL reader: %w", err)
		}
		rows, err := conn.Query(ctx, `SELECT position, stream, version, coalesce(event_id, '') FROM `+qt("events")+
			` WHERE position >= $1 ORDER BY position`, int64(r.nextOf(bySQL)))
		if err != nil {
			return err
		}
		var pos, version int64
		var stream, id string
		n := 0
		_, err = pgx.ForEachRow(rows, []any{&pos, &stream, &version, &id}, func() error {
			n++
			return r.saw(bySQL, eventstore.Offset(pos), stream, uint64(version), id)
		})
		if err != nil {
			return fmt.Errorf("SQL reader: %w", err)
		}
		if n == 0 {
			time.Sleep(pause)
		}
	}
	return nil
}

// reached reports whether every reader has seen offset head, and the first
// error of any.
func (r *logReaders) reached(head int64) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.next {
		if int64(n) <= head {
			return false, r.err
		}
	}
	return true, r.err
}

// stop stops the readers and returns their digests and how often each
// polled (the Subscribe reader does not poll: its count stays 0).
func (r *logReaders) stop() ([3]string, [3]int, error) {
	r.cancel()
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out [3]string
	for i, h := range r.digest {
		out[i] = fmt.Sprintf("%x", h.Sum(nil))
	}
	return out, r.polls, r.err
}

// waitReached waits, up to timeout, until the readers have seen head.
func (r *logReaders) waitReached(head int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := r.reached(head)
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			r.mu.Lock()
			defer r.mu.Unlock()
			return fmt.Errorf("the readers are at %v after %v, not past %d", r.next, timeout, head)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readerMsg is every message between a reader child and the test.
type readerMsg struct {
	Ready   bool      `json:"ready,omitempty"`
	Go      bool      `json:"go,omitempty"`
	Head    int64     `json:"head,omitempty"`
	Digests [3]string `json:"digests"`
	Polls   [3]int    `json:"polls"`
}

// readerChild runs the three readers in a process of its own: it says
// ready once they run, and when told the log's final head, waits until
// they have seen it and answers with their digests. A reader's error ends
// the child with it.
func readerChild(cio *childIO, spec childSpec) error {
	s, err := spec.open()
	if err != nil {
		return err
	}
	defer s.Close()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, spec.DSN)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	r := startReaders(s, conn)
	defer r.stop()
	if err := cio.send(readerMsg{Ready: true}); err != nil {
		return err
	}
	var msg readerMsg
	if err := cio.recv(&msg); err != nil {
		return err
	}
	if err := r.waitReached(msg.Head, time.Minute); err != nil {
		return err
	}
	digests, polls, err := r.stop()
	if err != nil {
		return err
	}
	if err := cio.send(readerMsg{Digests: digests, Polls: polls}); err != nil {
		return err
	}
	return s.Close()
}
