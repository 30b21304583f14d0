package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// run is the committer goroutine: it takes the queued appends in groups
// bounded by MaxBatchEvents and MaxBatchBytes and commits each group in one
// transaction.
func (l *Log) run() {
	defer l.wg.Done()
	var group []*pending
	for {
		group = group[:0]
		if l.carry != nil {
			group = append(group, l.carry)
			l.carry = nil
		} else {
			select {
			case p := <-l.reqs:
				group = append(group, p)
			case <-l.quit:
				l.drain()
				return
			}
		}
		if group[0].batch != nil {
			l.commit(group, true)
			continue
		}
		events, size := len(group[0].req.Events), group[0].size
	fill:
		for events < l.cfg.MaxBatchEvents && size < l.cfg.MaxBatchBytes {
			select {
			case p := <-l.reqs:
				if p.batch != nil || events+len(p.req.Events) > l.cfg.MaxBatchEvents || size+p.size > l.cfg.MaxBatchBytes {
					l.carry = p
					break fill
				}
				group = append(group, p)
				events += len(p.req.Events)
				size += p.size
			default:
				break fill
			}
		}
		l.commit(group, false)
	}
}

// drain fails every queued append with ErrClosed.
func (l *Log) drain() {
	if l.carry != nil {
		l.finish(l.carry, fmt.Errorf("%w", logstore.ErrClosed))
		l.carry = nil
	}
	for {
		select {
		case p := <-l.reqs:
			l.finish(p, fmt.Errorf("%w", logstore.ErrClosed))
		default:
			return
		}
	}
}

// groupState is what a group commit read under the head row's lock.
type groupState struct {
	head       logstore.Offset
	generation uint64
	versions   map[string]uint64
	ids        map[idKey]idAt
}

// readCommitted begins every transaction that may wait for another
// process (for the head row's lock, or the schema setup's advisory lock),
// whatever the database's default_transaction_isolation: under READ
// COMMITTED, a statement after the wait reads what the transaction it
// waited for committed; under REPEATABLE READ or SERIALIZABLE it fails
// with a serialization error instead.
var readCommitted = pgx.TxOptions{IsoLevel: pgx.ReadCommitted}

// commit sequences a group inside one transaction that holds the head row's
// lock, writes it and commits. With all, the group is one AppendBatch: every
// request passes or nothing is written.
func (l *Log) commit(group []*pending, all bool) {
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.CommitTimeout)
	defer cancel()
	start := time.Now()
	live := group[:0:0]
	for _, p := range group {
		if err := checkCtx(p.ctx); err != nil {
			l.finish(p, err)
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	tx, err := l.pool.BeginTx(ctx, readCommitted)
	if err != nil {
		l.finishAll(live, fmt.Errorf("postgres: begin a commit: %w; nothing was written", err))
		return
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	gs, err := l.readGroupState(ctx, tx, live)
	if err != nil {
		l.finishAll(live, fmt.Errorf("postgres: %w; nothing was written", err))
		return
	}
	seq := newSequencer(gs.head, l.cfg.Now().UTC(), gs.versions, gs.ids)
	var accepted, committed []*pending
	for _, p := range live {
		reqs := []logstore.AppendRequest{p.req}
		if all {
			reqs = p.batch
			p.ress = make([]logstore.AppendResult, len(reqs))
		}
		for i, req := range reqs {
			res, out, err := seq.add(req)
			if !all && err == nil && out != added && l.cfg.Observer != nil {
				l.cfg.Observer.Retry()
			}
			if all && err == nil && out != added {
				err = &logstore.WrongExpectedVersionError{Stream: req.Stream, Expected: req.Expected, Actual: seq.stream(req.Stream).version}
			}
			if all && err != nil {
				l.finish(p, fmt.Errorf("request %d of the batch: %w", i, err))
				return
			}
			switch {
			case err != nil:
				l.finish(p, err)
			case all:
				p.ress[i] = res
			case out == retryCommitted:
				p.res = res
				committed = append(committed, p)
			default:
				p.res = res
				accepted = append(accepted, p)
			}
		}
		if all {
			accepted = append(accepted, p)
		}
	}
	if len(seq.records) > 0 {
		if err := l.write(ctx, tx, seq); err != nil {
			l.failCommit(accepted, err)
			l.catchUpAndFinish(ctx, gs.head, committed)
			return
		}
	}
	if err := tx.Commit(ctx); err != nil {
		l.failCommit(accepted, err)
		l.catchUpAndFinish(ctx, gs.head, committed)
		return
	}
	l.generation.Store(gs.generation)
	if len(seq.records) > 0 && l.cfg.Observer != nil {
		l.cfg.Observer.Commit(seq.appends, len(seq.records), seq.bytes, time.Since(start))
	}
	l.finishAll(append(accepted, committed...), l.publishCommitted(gs.head, seq.records))
}

func (l *Log) finishAll(ps []*pending, err error) {
	for _, p := range ps {
		if err != nil {
			p.res, p.ress = logstore.AppendResult{}, nil
		}
		l.finish(p, err)
	}
}

// readGroupState locks the head row, which serialises every writer of the
// schema until this transaction ends, and reads what the group's checks
// need: the head, the versions of its streams and the ids its events carry.
func (l *Log) readGroupState(ctx context.Context, tx pgx.Tx, group []*pending) (groupState, error) {
	gs := groupState{versions: map[string]uint64{}, ids: map[idKey]idAt{}}
	var streams, idStreams, ids []string
	seen := map[string]bool{}
	for _, p := range group {
		reqs := p.batch
		if reqs == nil {
			reqs = []logstore.AppendRequest{p.req}
		}
		for _, r := range reqs {
			if !seen[r.Stream] {
				seen[r.Stream] = true
				streams = append(streams, r.Stream)
			}
			for _, e := range r.Events {
				if e.ID != "" {
					idStreams, ids = append(idStreams, r.Stream), append(ids, e.ID)
				}
			}
		}
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT position, generation FROM ` + l.q.head + ` WHERE id = 1 FOR UPDATE`)
	b.Queue(`SELECT stream, max(version) FROM `+l.q.events+` WHERE stream = ANY($1) GROUP BY stream`, streams)
	if len(ids) > 0 {
		b.Queue(`SELECT e.stream, e.event_id, e.version, e.position FROM `+l.q.events+` e
			JOIN unnest($1::text[], $2::text[]) AS k(stream, id) ON e.stream = k.stream AND e.event_id = k.id`, idStreams, ids)
	}
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	var head, gen int64
	if err := br.QueryRow().Scan(&head, &gen); err != nil {
		return gs, fmt.Errorf("lock the head of schema %q: %w", l.q.schema, err)
	}
	gs.head, gs.generation = logstore.Offset(head), uint64(gen)
	rows, err := br.Query()
	if err != nil {
		return gs, fmt.Errorf("read stream versions: %w", err)
	}
	for rows.Next() {
		var s string
		var v int64
		if err := rows.Scan(&s, &v); err != nil {
			rows.Close()
			return gs, fmt.Errorf("read stream versions: %w", err)
		}
		gs.versions[s] = uint64(v)
	}
	if err := rows.Err(); err != nil {
		return gs, fmt.Errorf("read stream versions: %w", err)
	}
	if len(ids) > 0 {
		rows, err := br.Query()
		if err != nil {
			return gs, fmt.Errorf("read event ids: %w", err)
		}
		for rows.Next() {
			var s, id string
			var v, pos int64
			if err := rows.Scan(&s, &id, &v, &pos); err != nil {
				rows.Close()
				return gs, fmt.Errorf("read event ids: %w", err)
			}
			gs.ids[idKey{s, id}] = idAt{version: uint64(v), position: logstore.Offset(pos)}
		}
		if err := rows.Err(); err != nil {
			return gs, fmt.Errorf("read event ids: %w", err)
		}
	}
	return gs, br.Close()
}

// write inserts the group's records, moves the head and queues the
// notification that wakes the other processes at commit.
func (l *Log) write(ctx context.Context, tx pgx.Tx, seq *sequencer) error {
	n := len(seq.records)
	positions, versions := make([]int64, n), make([]int64, n)
	streams, recs := make([]string, n), make([][]byte, n)
	ids := make([]*string, n)
	for i := range seq.records {
		r := &seq.records[i]
		positions[i], versions[i], streams[i] = int64(r.Offset), int64(r.Version), r.Stream
		if r.ID != "" {
			ids[i] = &r.ID
		}
		recs[i] = record.Append(nil, r)
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO `+l.q.events+` (position, stream, version, event_id, record)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::bytea[])`, positions, streams, versions, ids, recs)
	b.Queue(`UPDATE `+l.q.head+` SET position = $1 WHERE id = 1`, int64(seq.head))
	b.Queue(`SELECT pg_notify($1, $2)`, l.q.channel, fmt.Sprint(uint64(seq.head)))
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write %d events: %w", n, err)
	}
	return nil
}

// failCommit fails the appends of a group whose write or commit failed. An
// error that the server reported means the transaction was rolled back and
// nothing was written; any other (a broken connection, a timeout) leaves
// the outcome unknown.
func (l *Log) failCommit(ps []*pending, err error) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		l.finishAll(ps, fmt.Errorf("postgres: %w; nothing was written", err))
		return
	}
	l.finishAll(ps, fmt.Errorf("%w: postgres: %w", logstore.ErrUnknownOutcome, err))
	l.poke() // whatever was committed is found and published by the follower
}

// catchUpAndFinish completes the retries of committed appends of a group
// that wrote nothing: they return once this process has published up to
// the head the group saw.
func (l *Log) catchUpAndFinish(ctx context.Context, head logstore.Offset, retries []*pending) {
	if len(retries) == 0 {
		return
	}
	l.pubMu.Lock()
	err := l.catchUpLocked(ctx, head)
	l.pubMu.Unlock()
	if err != nil {
		l.finishAll(retries, fmt.Errorf("%w: postgres: read the committed append: %w", logstore.ErrUnknownOutcome, err))
		return
	}
	l.finishAll(retries, nil)
}

// publishCommitted publishes, after a commit, the other processes' records
// committed before it (up to head) and then the group's own. The group is
// committed, so its appends must not return before it is published: it keeps
// trying while the server does not answer, until the log closes, and fails
// them when a record before them is damaged.
func (l *Log) publishCommitted(head logstore.Offset, own []logstore.Record) error {
	l.pubMu.Lock()
	defer l.pubMu.Unlock()
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), l.opts.CommitTimeout)
		err := l.catchUpLocked(ctx, head)
		cancel()
		if err == nil {
			break
		}
		if errors.Is(err, logstore.ErrCorrupt) {
			// No retry reads a damaged record.
			return fmt.Errorf("postgres: committed, but the log before it cannot be published: %w", err)
		}
		l.logger.Warn("postgres: reading the appends committed before this one failed; retrying", "err", err)
		if !l.pause(attempt) {
			return fmt.Errorf("%w: postgres: committed, but the store closed before it could apply it: %w", logstore.ErrUnknownOutcome, err)
		}
	}
	// The follower may have published them already.
	if len(own) > 0 && own[0].Offset == l.Head()+1 {
		l.publishLocked(own)
	}
	return nil
}

// pause waits before the next attempt of something that failed (10 ms,
// doubling, at most a second), and reports false when the log is closing.
func (l *Log) pause(attempt int) bool {
	t := time.NewTimer(min(10*time.Millisecond<<min(attempt, 7), time.Second))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.quit:
		return false
	}
}
