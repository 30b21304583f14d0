package eventstore

import (
	"context"
	"iter"

	"github.com/durablelog/eventstore/logstore"
)

// Reads go through the log in chunks, so that memory stays bounded and Close
// never waits for a caller's loop body.
const (
	chunkRecords = 4096
	chunkBytes   = 4 << 20
)

// readLogChunk reads the next chunk of the log from offset from. It reuses
// buf, the previous chunk's slice, when the log can append to it
// (logstore.LogAppender) and buf is worth keeping; pass nil for the first
// chunk. The caller must be done with buf.
func (s *Store) readLogChunk(ctx context.Context, buf []Record, from Offset, limit int) ([]Record, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	a, ok := s.log.(logstore.LogAppender)
	if !ok {
		return s.log.ReadLog(ctx, from, limit, chunkBytes)
	}
	if len(buf) < chunkRecords/2 {
		// A short chunk: the reader caught up. A subscriber that now
		// follows the head one commit at a time need not keep a large
		// slice alive.
		buf = nil
	}
	clear(buf) // the old records must not keep their data alive
	return a.AppendLog(ctx, buf[:0], from, limit, chunkBytes)
}

func (s *Store) readStreamChunk(ctx context.Context, stream string, from uint64, limit int) ([]Record, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	return s.log.ReadStream(ctx, stream, from, limit, chunkBytes)
}

// ReadLog returns the records from offset from (inclusive; 0 reads from the
// start) in offset order, at most limit of them; limit <= 0 reads up to the
// head. A damaged record fails the read with ErrCorrupt; no record after it is
// returned.
func (s *Store) ReadLog(ctx context.Context, from Offset, limit int) ([]Record, error) {
	var out []Record
	for r, err := range s.logRecords(ctx, from, limit) {
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// ReadStream returns the records of stream from version fromVersion
// (inclusive; 0 reads from the start) in version order, at most limit of
// them; limit <= 0 reads them all. An empty or unknown stream gives no
// records and no error.
func (s *Store) ReadStream(ctx context.Context, stream string, fromVersion uint64, limit int) ([]Record, error) {
	var out []Record
	for r, err := range s.streamRecords(ctx, stream, fromVersion, limit) {
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Log iterates the log from offset from (inclusive) up to the head, in
// offset order, with bounded memory: it reads in chunks. An error ends the
// iteration after it is yielded; it is ErrClosed when the store closes, the
// context's error when ctx is done, and ErrCorrupt for damaged data.
func (s *Store) Log(ctx context.Context, from Offset) iter.Seq2[Record, error] {
	return s.logRecords(ctx, from, 0)
}

func (s *Store) logRecords(ctx context.Context, from Offset, limit int) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		next, left := max(from, 1), limit
		var chunk []Record
		var err error
		for {
			n := chunkRecords
			if limit > 0 {
				if left == 0 {
					return
				}
				n = min(n, left)
			}
			chunk, err = s.readLogChunk(ctx, chunk, next, n)
			if err != nil {
				yield(Record{}, err)
				return
			}
			if len(chunk) == 0 {
				return
			}
			for _, r := range chunk {
				if err := s.interrupted(ctx); err != nil {
					yield(Record{}, err)
					return
				}
				if !yield(r, nil) {
					return
				}
			}
			next = Offset(chunk[len(chunk)-1].Offset) + 1
			left -= len(chunk)
		}
	}
}

// Stream iterates the records of stream from version fromVersion
// (inclusive), in version order, with bounded memory. Errors end it as for
// Log.
func (s *Store) Stream(ctx context.Context, stream string, fromVersion uint64) iter.Seq2[Record, error] {
	return s.streamRecords(ctx, stream, fromVersion, 0)
}

func (s *Store) streamRecords(ctx context.Context, stream string, from uint64, limit int) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		if err := validStream(stream); err != nil {
			yield(Record{}, err)
			return
		}
		next, left := max(from, 1), limit
		for {
			n := chunkRecords
			if limit > 0 {
				if left == 0 {
					return
				}
				n = min(n, left)
			}
			chunk, err := s.readStreamChunk(ctx, stream, next, n)
			if err != nil {
				yield(Record{}, err)
				return
			}
			if len(chunk) == 0 {
				return
			}
			for _, r := range chunk {
				if err := s.interrupted(ctx); err != nil {
					yield(Record{}, err)
					return
				}
				if !yield(r, nil) {
					return
				}
			}
			next = chunk[len(chunk)-1].Version + 1
			left -= len(chunk)
		}
	}
}

// StreamVersion returns the stream's current version: the number of events
// in it, 0 for an empty or unknown stream.
func (s *Store) StreamVersion(ctx context.Context, stream string) (uint64, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	if err := validStream(stream); err != nil {
		return 0, err
	}
	return s.log.StreamVersion(ctx, stream)
}

// interrupted reports why an iteration must stop between two records: the
// store closed or ctx is done.
func (s *Store) interrupted(ctx context.Context) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}
