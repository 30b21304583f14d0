package kvlog

import (
	"context"
	"fmt"
	"slices"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
)

// ctxCheckEvery is how many records a read handles between context checks.
const ctxCheckEvery = 64

func decodeAt(off logstore.Offset, val []byte) (logstore.Record, error) {
	return decodeWith(nil, off, val)
}

// decodeWith decodes the record stored under offset off, with dc's reuse
// when dc is not nil, and checks that it holds that offset.
func decodeWith(dc *record.Decoder, off logstore.Offset, val []byte) (logstore.Record, error) {
	var r logstore.Record
	var err error
	if dc != nil {
		r, err = dc.Decode(val)
	} else {
		r, err = record.Decode(val)
	}
	if err == nil && r.Offset != off {
		err = fmt.Errorf("%w: record under offset %d holds offset %d", backend.ErrCorrupt, off, r.Offset)
	}
	if err != nil {
		return logstore.Record{}, &logstore.CorruptionError{Key: fmt.Sprintf("log offset %d", off), Offset: off, Err: err}
	}
	return r, nil
}

// decodeInto is decodeWith into *r, with no copy of the result.
func decodeInto(dc *record.Decoder, off logstore.Offset, val []byte, r *logstore.Record) error {
	err := dc.DecodeInto(val, r)
	if got := r.Offset; err == nil && got != off {
		*r = logstore.Record{}
		err = fmt.Errorf("%w: record under offset %d holds offset %d", backend.ErrCorrupt, off, got)
	}
	if err != nil {
		return &logstore.CorruptionError{Key: fmt.Sprintf("log offset %d", off), Offset: off, Err: err}
	}
	return nil
}

func missing(off logstore.Offset) error {
	return &logstore.CorruptionError{Key: fmt.Sprintf("log offset %d", off), Offset: off,
		Err: fmt.Errorf("%w: record missing below the head", backend.ErrCorrupt)}
}

// ReadLog implements logstore.Log.
func (l *Log) ReadLog(ctx context.Context, from logstore.Offset, limit, maxBytes int) ([]logstore.Record, error) {
	return l.AppendLog(ctx, nil, from, limit, maxBytes)
}

var _ logstore.LogAppender = (*Log)(nil)

// AppendLog implements logstore.LogAppender.
func (l *Log) AppendLog(ctx context.Context, dst []logstore.Record, from logstore.Offset, limit, maxBytes int) ([]logstore.Record, error) {
	if err := l.rlock(); err != nil {
		return nil, err
	}
	defer l.mu.RUnlock()
	head := l.Head()
	from = max(from, 1)
	if from > head {
		if err := checkCtx(ctx); err != nil {
			return nil, err
		}
		return dst, nil
	}
	last := head
	if limit > 0 && logstore.Offset(limit) <= head-from {
		last = from + logstore.Offset(limit) - 1
	}
	lower, upper := record.LogBounds(from, last)
	it, err := l.kv.NewIterator(backend.IterOptions{Lower: lower, Upper: upper})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := slices.Grow(dst, int(min(last-from+1, 4096)))
	var dc record.Decoder
	next, size := from, 0
	// visit decodes one log entry into out and reports whether maxBytes
	// is reached.
	visit := func(key, val []byte) (bool, error) {
		if len(out)%ctxCheckEvery == 0 {
			if err := l.interrupted(ctx); err != nil {
				return false, err
			}
		}
		off, err := record.ParseLogKey(key)
		if err != nil {
			return false, &logstore.CorruptionError{Key: record.Describe(key), Err: err}
		}
		if off != next {
			return false, missing(next)
		}
		out = append(out, logstore.Record{})
		if err := decodeInto(&dc, off, val, &out[len(out)-1]); err != nil {
			return false, err
		}
		next++
		size += len(val)
		return maxBytes > 0 && size >= maxBytes, nil
	}
	if full, err := scan(it, maxBytes, visit); err != nil {
		return nil, err
	} else if full {
		return out, nil
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read the log at offset %d: %w", next, err)
	}
	if next <= last {
		return nil, missing(next)
	}
	return out, nil
}

// ReadStream implements logstore.Log.
func (l *Log) ReadStream(ctx context.Context, stream string, from uint64, limit, maxBytes int) ([]logstore.Record, error) {
	if err := l.rlock(); err != nil {
		return nil, err
	}
	defer l.mu.RUnlock()
	head := l.Head()
	from = max(from, 1)
	lower, upper := record.StreamBounds(stream, from)
	it, err := l.kv.NewIterator(backend.IterOptions{Lower: lower, Upper: upper})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []logstore.Record
	next, size := from, 0
	for it.Next() {
		if len(out)%ctxCheckEvery == 0 {
			if err := l.interrupted(ctx); err != nil {
				return nil, err
			}
		}
		where := fmt.Sprintf("index of stream %q version %d", stream, next)
		_, v, err := record.ParseStreamKey(it.Key())
		if err != nil {
			return nil, &logstore.CorruptionError{Key: where, Err: err}
		}
		if v != next {
			return nil, &logstore.CorruptionError{Key: where, Err: fmt.Errorf("%w: index entry missing (next entry is version %d)", backend.ErrCorrupt, v)}
		}
		off, err := record.ParseOffset(it.Value(), where)
		if err != nil {
			return nil, &logstore.CorruptionError{Key: where, Err: err}
		}
		if off > head {
			break // committed after this read began; not yet published
		}
		r, err := l.getRecord(off)
		if err != nil {
			return nil, err
		}
		if r.Stream != stream || r.Version != v {
			return nil, &logstore.CorruptionError{Key: where, Offset: off, Err: fmt.Errorf("%w: index points at offset %d, which holds stream %q version %d", backend.ErrCorrupt, off, r.Stream, r.Version)}
		}
		out = append(out, r)
		next++
		if limit > 0 && len(out) >= limit {
			break
		}
		if size += len(r.Data); maxBytes > 0 && size >= maxBytes {
			break
		}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read stream %q at version %d: %w", stream, next, err)
	}
	return out, nil
}

// getRecord reads and checks the record at off.
func (l *Log) getRecord(off logstore.Offset) (logstore.Record, error) {
	val, found, err := l.kv.Get(record.LogKey(off))
	if err != nil {
		return logstore.Record{}, fmt.Errorf("read log offset %d: %w", off, err)
	}
	if !found {
		return logstore.Record{}, missing(off)
	}
	return decodeAt(off, val)
}

// getVersion reads version v of stream through the index.
func (l *Log) getVersion(stream string, v uint64) (logstore.Record, error) {
	where := fmt.Sprintf("index of stream %q version %d", stream, v)
	val, found, err := l.kv.Get(record.StreamKey(stream, v))
	if err != nil {
		return logstore.Record{}, fmt.Errorf("read %s: %w", where, err)
	}
	if !found {
		return logstore.Record{}, &logstore.CorruptionError{Key: where, Err: fmt.Errorf("%w: index entry missing below the stream's version", backend.ErrCorrupt)}
	}
	off, err := record.ParseOffset(val, where)
	if err != nil {
		return logstore.Record{}, &logstore.CorruptionError{Key: where, Err: err}
	}
	r, err := l.getRecord(off)
	if err != nil {
		return logstore.Record{}, err
	}
	if r.Stream != stream || r.Version != v {
		return logstore.Record{}, &logstore.CorruptionError{Key: where, Offset: off, Err: fmt.Errorf("%w: index points at offset %d, which holds stream %q version %d", backend.ErrCorrupt, off, r.Stream, r.Version)}
	}
	return r, nil
}

// lastVersion returns the stream's last version whose offset is at most head.
func (l *Log) lastVersion(stream string, head logstore.Offset) (uint64, error) {
	lower, upper := record.StreamBounds(stream, 0)
	it, err := l.kv.NewIterator(backend.IterOptions{Lower: lower, Upper: upper, Reverse: true})
	if err != nil {
		return 0, fmt.Errorf("read the version of stream %q: %w", stream, err)
	}
	defer it.Close()
	for it.Next() {
		_, v, err := record.ParseStreamKey(it.Key())
		if err != nil {
			return 0, &logstore.CorruptionError{Key: fmt.Sprintf("index of stream %q", stream), Err: err}
		}
		off, err := record.ParseOffset(it.Value(), record.Describe(it.Key()))
		if err != nil {
			return 0, &logstore.CorruptionError{Key: fmt.Sprintf("index of stream %q version %d", stream, v), Err: err}
		}
		if off <= head {
			return v, nil
		}
	}
	if err := it.Err(); err != nil {
		return 0, fmt.Errorf("read the version of stream %q: %w", stream, err)
	}
	return 0, nil
}

// StreamVersion implements logstore.Log.
func (l *Log) StreamVersion(ctx context.Context, stream string) (uint64, error) {
	if err := checkCtx(ctx); err != nil {
		return 0, err
	}
	if err := l.rlock(); err != nil {
		return 0, err
	}
	defer l.mu.RUnlock()
	return l.lastVersion(stream, l.Head())
}
