package kvlog

import (
	"fmt"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
)

// cutChunk is how many records one batch of a cut removes.
const cutChunk = 1024

// checkDense finds the first offset from from up to head that has no record,
// or returns 0 when there is none. It reads keys only.
func (l *Log) checkDense(from, head logstore.Offset) (logstore.Offset, error) {
	if from == 0 || from > head {
		return 0, nil
	}
	lower, upper := record.LogBounds(from, head)
	it, err := l.kv.NewIterator(backend.IterOptions{Lower: lower, Upper: upper})
	if err != nil {
		return 0, fmt.Errorf("check the log from offset %d: %w", from, err)
	}
	defer it.Close()
	next := from
	for it.Next() {
		off, err := record.ParseLogKey(it.Key())
		if err != nil {
			return 0, &logstore.CorruptionError{Key: record.Describe(it.Key()), Err: err}
		}
		if off != next {
			return next, nil
		}
		next++
	}
	if err := it.Err(); err != nil {
		return 0, fmt.Errorf("check the log at offset %d: %w", next, err)
	}
	if next <= head {
		return next, nil
	}
	return 0, nil
}

// holeError reports a hole that is not repaired.
func holeError(hole, head logstore.Offset) error {
	return &logstore.CorruptionError{Key: fmt.Sprintf("log offset %d", hole), Offset: hole,
		Err: fmt.Errorf("%w: the log has a hole: offset %d is missing, and records up to offset %d exist beyond it", backend.ErrCorrupt, hole, head)}
}

// cut removes the records from offset hole up to head, with their stream and
// id index entries, from the top down and durably, in batches: a crash in
// the middle leaves a log that still has the hole, which the next open cuts
// again.
func (l *Log) cut(hole, head logstore.Offset) error {
	for top := head; top >= hole; {
		bottom := max(hole, top-min(top, cutChunk)+1)
		if err := l.cutRange(bottom, top); err != nil {
			return err
		}
		if bottom == hole {
			break
		}
		top = bottom - 1
	}
	return nil
}

func (l *Log) cutRange(bottom, top logstore.Offset) error {
	lower, upper := record.LogBounds(bottom, top)
	it, err := l.kv.NewIterator(backend.IterOptions{Lower: lower, Upper: upper})
	if err != nil {
		return fmt.Errorf("cut the log at offset %d: %w", bottom, err)
	}
	b := l.kv.NewBatch()
	defer b.Close()
	for it.Next() {
		off, err := record.ParseLogKey(it.Key())
		if err != nil {
			_ = it.Close()
			return &logstore.CorruptionError{Key: record.Describe(it.Key()), Err: err}
		}
		r, err := decodeAt(off, it.Value())
		if err != nil {
			_ = it.Close()
			return fmt.Errorf("cut the log at a hole: a record beyond it is damaged: %w", err)
		}
		b.Delete(record.LogKey(off))
		b.Delete(record.StreamKey(r.Stream, r.Version))
		if r.ID != "" {
			b.Delete(record.IDKey(r.Stream, r.ID))
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("cut the log at offset %d: %w", bottom, err)
	}
	if err := b.Commit(true); err != nil {
		return fmt.Errorf("cut the log at offset %d: %w", bottom, err)
	}
	return nil
}
