package kvlog

import (
	"context"
	"fmt"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
)

// Verify implements logstore.Log: it checks every record's checksum and
// framing, that offsets are dense from 1 to the head, that each stream's
// versions are dense from 1, that the stream index holds exactly one entry for
// each record, pointing at it, and that every id-index entry names the version
// that carries that id. It holds the log's read lock; Close makes it stop
// with ErrClosed within a few hundred records.
func (l *Log) Verify(ctx context.Context, progress func(logstore.Offset)) (logstore.VerifyReport, error) {
	start := time.Now()
	var rep logstore.VerifyReport
	if err := l.rlock(); err != nil {
		return rep, err
	}
	defer l.mu.RUnlock()
	head := l.Head()
	streams := map[string]uint64{} // stream -> last version seen
	ids := map[string]map[uint64]string{}
	err := l.scan(ctx, []byte{record.PrefixLog}, []byte{record.PrefixLog + 1}, func(k, v []byte) error {
		off, err := record.ParseLogKey(k)
		if err != nil {
			return &logstore.CorruptionError{Key: record.Describe(k), Err: err}
		}
		if off > head {
			return nil // committed while Verify ran
		}
		if off != logstore.Offset(rep.Records+1) {
			return missing(logstore.Offset(rep.Records + 1))
		}
		r, err := decodeAt(off, v)
		if err != nil {
			return err
		}
		if r.Version != streams[r.Stream]+1 {
			return &logstore.CorruptionError{Key: fmt.Sprintf("log offset %d", off), Offset: off,
				Err: fmt.Errorf("%w: stream %q jumps from version %d to %d", backend.ErrCorrupt, r.Stream, streams[r.Stream], r.Version)}
		}
		streams[r.Stream] = r.Version
		if r.ID != "" {
			if ids[r.Stream] == nil {
				ids[r.Stream] = map[uint64]string{}
			}
			ids[r.Stream][r.Version] = r.ID
		}
		rep.Records++
		rep.Bytes += uint64(len(v))
		if progress != nil && rep.Records%4096 == 0 {
			progress(off)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if logstore.Offset(rep.Records) != head {
		return rep, missing(logstore.Offset(rep.Records + 1))
	}
	rep.Head, rep.Streams = head, uint64(len(streams))
	if err := l.verifyIndex(ctx, head, streams, &rep); err != nil {
		return rep, err
	}
	if err := l.verifyIDs(ctx, head, ids, &rep); err != nil {
		return rep, err
	}
	if progress != nil {
		progress(head)
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

func (l *Log) verifyIndex(ctx context.Context, head logstore.Offset, streams map[string]uint64, rep *logstore.VerifyReport) error {
	seen := map[string]uint64{}
	err := l.scan(ctx, []byte{record.PrefixStream}, []byte{record.PrefixStream + 1}, func(k, v []byte) error {
		stream, ver, err := record.ParseStreamKey(k)
		if err != nil {
			return &logstore.CorruptionError{Key: record.Describe(k), Err: err}
		}
		where := fmt.Sprintf("index of stream %q version %d", stream, ver)
		off, err := record.ParseOffset(v, where)
		if err != nil {
			return &logstore.CorruptionError{Key: where, Err: err}
		}
		if off > head {
			return nil
		}
		if ver != seen[stream]+1 {
			return &logstore.CorruptionError{Key: where, Err: fmt.Errorf("%w: index entries of the stream not dense (previous version %d)", backend.ErrCorrupt, seen[stream])}
		}
		seen[stream] = ver
		r, err := l.getRecord(off)
		if err != nil {
			return err
		}
		if r.Stream != stream || r.Version != ver {
			return &logstore.CorruptionError{Key: where, Offset: off, Err: fmt.Errorf("%w: index points at offset %d, which holds stream %q version %d", backend.ErrCorrupt, off, r.Stream, r.Version)}
		}
		rep.IndexEntries++
		return nil
	})
	if err != nil {
		return err
	}
	for stream, v := range streams {
		if seen[stream] != v {
			return &logstore.CorruptionError{Key: fmt.Sprintf("index of stream %q", stream),
				Err: fmt.Errorf("%w: the log holds %d versions, the index %d", backend.ErrCorrupt, v, seen[stream])}
		}
	}
	if uint64(len(seen)) != uint64(len(streams)) {
		return &logstore.CorruptionError{Key: "stream index", Err: fmt.Errorf("%w: the index names %d streams, the log %d", backend.ErrCorrupt, len(seen), len(streams))}
	}
	return nil
}

func (l *Log) verifyIDs(ctx context.Context, head logstore.Offset, ids map[string]map[uint64]string, rep *logstore.VerifyReport) error {
	want := 0
	for _, m := range ids {
		want += len(m)
	}
	err := l.scan(ctx, []byte{record.PrefixID}, []byte{record.PrefixID + 1}, func(k, v []byte) error {
		stream, id, err := record.ParseIDKey(k)
		if err != nil {
			return &logstore.CorruptionError{Key: record.Describe(k), Err: err}
		}
		where := fmt.Sprintf("id index of stream %q id %q", stream, id)
		ver, err := record.ParseUint64(v, where)
		if err != nil {
			return &logstore.CorruptionError{Key: where, Err: err}
		}
		got, ok := ids[stream][ver]
		if !ok && l.isLater(stream, ver, head) {
			return nil
		}
		if got != id {
			return &logstore.CorruptionError{Key: where, Err: fmt.Errorf("%w: names version %d, which carries id %q", backend.ErrCorrupt, ver, got)}
		}
		rep.IDs++
		return nil
	})
	if err != nil {
		return err
	}
	if rep.IDs != uint64(want) {
		return &logstore.CorruptionError{Key: "id index", Err: fmt.Errorf("%w: the log holds %d ids, the index %d", backend.ErrCorrupt, want, rep.IDs)}
	}
	return nil
}

// isLater reports whether version ver of stream was committed after head.
func (l *Log) isLater(stream string, ver uint64, head logstore.Offset) bool {
	val, found, err := l.kv.Get(record.StreamKey(stream, ver))
	if err != nil || !found {
		return false
	}
	off, err := record.ParseOffset(val, "")
	return err == nil && off > head
}

// scan calls fn for every key and value of [lower, upper), through the
// batch path where the engine has one (see scan).
func (l *Log) scan(ctx context.Context, lower, upper []byte, fn func(k, v []byte) error) error {
	it, err := l.kv.NewIterator(backend.IterOptions{Lower: lower, Upper: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	n := 0
	if _, err := scan(it, 0, func(k, v []byte) (bool, error) {
		if n++; n%256 == 0 {
			if err := l.interrupted(ctx); err != nil {
				return false, err
			}
		}
		return false, fn(k, v)
	}); err != nil {
		return err
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("scan %s: %w", record.Describe(lower), err)
	}
	return nil
}
