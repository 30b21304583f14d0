package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/durablelog/eventstore/logstore"
)

// verifyChunk is how many rows one Verify query reads.
const verifyChunk = 4096

// Verify implements logstore.Log: every record's checksum and framing, its
// columns against the record, offsets dense from 1 to this process's head,
// each stream's versions dense from 1, and each event id once in its stream.
// It reads in chunks and stops between them when the log closes.
func (l *Log) Verify(ctx context.Context, progress func(logstore.Offset)) (logstore.VerifyReport, error) {
	start := time.Now()
	var rep logstore.VerifyReport
	head := l.Head()
	versions := map[string]uint64{}
	ids := map[idKey]bool{}
	for next := logstore.Offset(1); next <= head; {
		if err := l.rlock(); err != nil {
			return rep, err
		}
		n, err := l.verifyChunk(ctx, next, head, versions, ids, &rep)
		l.mu.RUnlock()
		if err != nil {
			return rep, err
		}
		next += logstore.Offset(n)
		if progress != nil {
			progress(next - 1)
		}
	}
	rep.Head, rep.Streams, rep.IndexEntries, rep.Duration = head, uint64(len(versions)), rep.Records, time.Since(start)
	return rep, nil
}

func (l *Log) verifyChunk(ctx context.Context, from, head logstore.Offset, versions map[string]uint64, ids map[idKey]bool, rep *logstore.VerifyReport) (int, error) {
	rows, err := l.pool.Query(ctx, `SELECT position, stream, version, event_id, record FROM `+l.q.events+`
		WHERE position >= $1 AND position <= $2 ORDER BY position LIMIT $3`, int64(from), int64(head), verifyChunk)
	if err != nil {
		return 0, fmt.Errorf("postgres: verify from offset %d: %w", from, err)
	}
	defer rows.Close()
	next := from
	for rows.Next() {
		var pos, version int64
		var stream string
		var id *string
		var raw []byte
		if err := rows.Scan(&pos, &stream, &version, &id, &raw); err != nil {
			return 0, fmt.Errorf("postgres: verify at offset %d: %w", next, err)
		}
		if logstore.Offset(pos) != next {
			return 0, missing(next)
		}
		r, err := decodeAt(next, raw)
		if err != nil {
			return 0, err
		}
		bad := func(format string, args ...any) error {
			return &logstore.CorruptionError{Offset: next, Key: fmt.Sprintf("log offset %d", next),
				Err: fmt.Errorf("%w: "+format, append([]any{logstore.ErrCorrupt}, args...)...)}
		}
		colID := ""
		if id != nil {
			colID = *id
		}
		switch {
		case r.Stream != stream || r.Version != uint64(version) || r.ID != colID:
			return 0, bad("the row's columns (stream %q version %d id %q) differ from its record (stream %q version %d id %q)", stream, version, colID, r.Stream, r.Version, r.ID)
		case r.Version != versions[r.Stream]+1:
			return 0, bad("stream %q jumps from version %d to %d", r.Stream, versions[r.Stream], r.Version)
		case r.ID != "" && ids[idKey{r.Stream, r.ID}]:
			return 0, bad("id %q of stream %q is used twice", r.ID, r.Stream)
		}
		versions[r.Stream] = r.Version
		if r.ID != "" {
			ids[idKey{r.Stream, r.ID}] = true
			rep.IDs++
		}
		rep.Records++
		rep.Bytes += uint64(len(raw))
		next++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("postgres: verify at offset %d: %w", next, err)
	}
	if next == from {
		return 0, missing(from)
	}
	return int(next - from), nil
}
