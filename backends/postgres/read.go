package postgres

import (
	"context"
	"fmt"

	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
)

// catchUpChunk is how many records one catch-up query reads, at most;
// it reads about MaxBatchBytes at most too.
const catchUpChunk = 4096

// catchUpLocked publishes the records from this process's head up to target
// (0: up to the last committed), in order. The caller holds pubMu.
func (l *Log) catchUpLocked(ctx context.Context, target logstore.Offset) error {
	for {
		head := l.Head()
		if target != 0 && head >= target {
			return nil
		}
		upper := target
		if upper == 0 {
			upper = ^logstore.Offset(0) >> 1
		}
		recs, err := l.fetch(ctx, head+1, upper, catchUpChunk, l.cfg.MaxBatchBytes)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			if target != 0 {
				return fmt.Errorf("%w: offsets %d to %d are committed but not found", logstore.ErrCorrupt, head+1, target)
			}
			return nil
		}
		l.publishLocked(recs)
	}
}

// publishLocked makes recs, which continue the head, visible in this process
// and hands them to OnCommit. The caller holds pubMu.
func (l *Log) publishLocked(recs []logstore.Record) {
	l.head.Store(uint64(recs[len(recs)-1].Offset))
	if l.cfg.OnCommit != nil {
		l.cfg.OnCommit(recs)
	}
}

// fetch reads the records from offset from to to (inclusive), at most limit
// and about maxBytes (0: no bound), checking each record's checksum and that
// the offsets are dense from from: a gap is corruption, since offsets become
// visible in order.
func (l *Log) fetch(ctx context.Context, from, to logstore.Offset, limit, maxBytes int) ([]logstore.Record, error) {
	rows, err := l.pool.Query(ctx, `SELECT position, record FROM `+l.q.events+` WHERE position >= $1 AND position <= $2 ORDER BY position LIMIT $3`,
		int64(from), int64(to), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read the log from offset %d: %w", from, unavailable(ctx, err))
	}
	defer rows.Close()
	var out []logstore.Record
	next, size := from, 0
	for rows.Next() {
		var pos int64
		var raw []byte
		if err := rows.Scan(&pos, &raw); err != nil {
			return nil, fmt.Errorf("postgres: read the log at offset %d: %w", next, unavailable(ctx, err))
		}
		if logstore.Offset(pos) != next {
			return nil, missing(next)
		}
		r, err := decodeAt(next, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
		next++
		if size += len(raw); maxBytes > 0 && size >= maxBytes {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read the log at offset %d: %w", next, unavailable(ctx, err))
	}
	return out, nil
}

func decodeAt(off logstore.Offset, raw []byte) (logstore.Record, error) {
	r, err := record.Decode(raw)
	if err == nil && r.Offset != off {
		err = fmt.Errorf("%w: the record at offset %d holds offset %d", logstore.ErrCorrupt, off, r.Offset)
	}
	if err != nil {
		return logstore.Record{}, &logstore.CorruptionError{Offset: off, Key: fmt.Sprintf("log offset %d", off), Err: err}
	}
	return r, nil
}

func missing(off logstore.Offset) error {
	return &logstore.CorruptionError{Offset: off, Key: fmt.Sprintf("log offset %d", off),
		Err: fmt.Errorf("%w: record missing below a visible one", logstore.ErrCorrupt)}
}

// ReadLog implements logstore.Log. It never reads past this process's head.
func (l *Log) ReadLog(ctx context.Context, from logstore.Offset, limit, maxBytes int) ([]logstore.Record, error) {
	if err := l.rlock(); err != nil {
		return nil, err
	}
	defer l.mu.RUnlock()
	head := l.Head()
	from = max(from, 1)
	if from > head {
		return nil, checkCtx(ctx)
	}
	n := int(min(head-from+1, 1<<20))
	if limit > 0 {
		n = min(n, limit)
	}
	recs, err := l.fetch(ctx, from, head, n, maxBytes)
	if err == nil && len(recs) == 0 {
		err = missing(from)
	}
	return recs, err
}

// ReadStream implements logstore.Log.
func (l *Log) ReadStream(ctx context.Context, stream string, from uint64, limit, maxBytes int) ([]logstore.Record, error) {
	if err := l.rlock(); err != nil {
		return nil, err
	}
	defer l.mu.RUnlock()
	from = max(from, 1)
	if limit <= 0 {
		limit = 1 << 20
	}
	rows, err := l.pool.Query(ctx, `SELECT position, version, record FROM `+l.q.events+`
		WHERE stream = $1 AND version >= $2 AND position <= $3 ORDER BY version LIMIT $4`,
		stream, int64(from), int64(l.Head()), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read stream %q from version %d: %w", stream, from, unavailable(ctx, err))
	}
	defer rows.Close()
	var out []logstore.Record
	next, size := from, 0
	for rows.Next() {
		var pos, v int64
		var raw []byte
		if err := rows.Scan(&pos, &v, &raw); err != nil {
			return nil, fmt.Errorf("postgres: read stream %q at version %d: %w", stream, next, unavailable(ctx, err))
		}
		if uint64(v) != next {
			// Versions become visible in order, as offsets do.
			return nil, &logstore.CorruptionError{Offset: logstore.Offset(pos), Key: fmt.Sprintf("stream %q version %d", stream, next),
				Err: fmt.Errorf("%w: version %d is missing below version %d", logstore.ErrCorrupt, next, v)}
		}
		r, err := decodeAt(logstore.Offset(pos), raw)
		if err == nil && (r.Stream != stream || r.Version != next) {
			err = &logstore.CorruptionError{Offset: r.Offset, Key: fmt.Sprintf("stream %q version %d", stream, next),
				Err: fmt.Errorf("%w: the row holds stream %q version %d", logstore.ErrCorrupt, r.Stream, r.Version)}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
		next++
		if size += len(r.Data); maxBytes > 0 && size >= maxBytes {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read stream %q: %w", stream, unavailable(ctx, err))
	}
	return out, nil
}

// StreamVersion implements logstore.Log: the stream's version as far as this
// process has published.
func (l *Log) StreamVersion(ctx context.Context, stream string) (uint64, error) {
	if err := l.rlock(); err != nil {
		return 0, err
	}
	defer l.mu.RUnlock()
	var v int64
	err := l.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+l.q.events+` WHERE stream = $1 AND position <= $2`,
		stream, int64(l.Head())).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("postgres: read the version of stream %q: %w", stream, err)
	}
	return uint64(v), nil
}
