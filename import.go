package eventstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/durablelog/eventstore/logstore"
)

// ImportStats reports what Import committed.
type ImportStats struct {
	Records  uint64        // records committed
	Bytes    uint64        // bytes of event data committed
	Batches  uint64        // commits (each one sync in Sync mode)
	Duration time.Duration // time spent
}

// Import bounds: one commit holds at most this many records or bytes.
const (
	importBatchRecords = 4096
	importBatchBytes   = 4 << 20
)

// Import appends records that continue this log exactly, keeping each
// record's offset, stream version, ID, metadata and time: it is the restore
// path of an export and of a migration between engines. The first record's
// Offset must be Head()+1, offsets must follow each other, and each record's
// Version must be the next of its stream. Records are committed in batches,
// each atomically with one sync, and applied to the state machine like
// appends. No other append may run during an import: one that does takes an
// offset that the import expected, and the import fails with ErrInvalidEvent
// before the batch concerned is written.
//
// On an error, the batches committed so far stay; the stats say how many
// records they hold. A record that breaks the sequence fails with
// ErrInvalidEvent and names its offset.
func (s *Store) Import(ctx context.Context, records iter.Seq2[Record, error]) (ImportStats, error) {
	start := time.Now()
	var st ImportStats
	if err := s.checkOpen(); err != nil {
		return st, err
	}
	next := s.Head() + 1
	var (
		reqs  []logstore.AppendRequest
		first []Offset // the first offset of each request
		n     int
		size  int
	)
	flush := func() error {
		if len(reqs) == 0 {
			return nil
		}
		if f := s.failure(); f != nil {
			return f.err
		}
		_, err := s.log.AppendBatch(ctx, reqs)
		if errors.Is(err, logstore.ErrWrongOffset) {
			return fmt.Errorf("%w: import the records from offset %d: another append ran during the import; nothing of this batch was written: %w", ErrInvalidEvent, first[0], err)
		}
		if err != nil {
			return fmt.Errorf("eventstore: import the records from offset %d: %w", first[0], err)
		}
		st.Batches++
		st.Records += uint64(n)
		st.Bytes += uint64(size)
		reqs, first, n, size = reqs[:0], first[:0], 0, 0
		return nil
	}
	for r, err := range records {
		if err != nil {
			return st, fmt.Errorf("eventstore: import: read the records: %w", err)
		}
		if r.Offset != next {
			return st, fmt.Errorf("%w: import: record at offset %d, expected offset %d: the records must continue the log without a gap", ErrInvalidEvent, r.Offset, next)
		}
		if r.Version == 0 {
			return st, fmt.Errorf("%w: import: record at offset %d has version 0", ErrInvalidEvent, r.Offset)
		}
		if err := s.validateAppend(ctx, r.Stream, ExpectedVersion(r.Version-1), []Event{r.Event}); err != nil {
			return st, fmt.Errorf("eventstore: import: record at offset %d: %w", r.Offset, err)
		}
		e := r.Event
		last := len(reqs) - 1
		if last >= 0 && reqs[last].Stream == r.Stream && reqs[last].Time.Equal(r.Time) &&
			uint64(reqs[last].Expected)+uint64(len(reqs[last].Events))+1 == r.Version {
			reqs[last].Events = append(reqs[last].Events, e)
		} else {
			reqs = append(reqs, logstore.AppendRequest{Stream: r.Stream, Expected: ExpectedVersion(r.Version - 1), Events: []Event{e}, Time: r.Time, At: r.Offset})
			first = append(first, r.Offset)
		}
		n++
		size += len(r.Data)
		next++
		if n >= importBatchRecords || size >= importBatchBytes {
			if err := flush(); err != nil {
				return st, err
			}
		}
	}
	err := flush()
	st.Duration = time.Since(start)
	return st, err
}
