package peers

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tidwall/wal"
)

// WAL keeps events in github.com/tidwall/wal, an append-only log library,
// synced on every write: the log a Go user writes for himself, off the
// shelf. It keeps no streams and checks no expected version (it ignores
// them): the upper bound of the simple approach. Writers take turns under
// one mutex, for the next index.
var WAL = Peer{Name: "tidwall-wal", Open: openWAL}

type walLog struct {
	mu    sync.Mutex
	log   *wal.Log
	last  uint64
	batch wal.Batch
	buf   []byte
}

func openWAL(dir string, o Options) (Log, error) {
	opts := *wal.DefaultOptions // NoSync false: fsync after every write
	opts.NoSync = o.NoSync
	l, err := wal.Open(dir, &opts)
	if err != nil {
		return nil, fmt.Errorf("peers: wal: %w", err)
	}
	last, err := l.LastIndex()
	if err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("peers: wal: %w", err)
	}
	return &walLog{log: l, last: last}, nil
}

func (l *walLog) Append(ctx context.Context, stream string, _ int64, events []Event) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := checkEvents(stream, events); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var err error
	if len(events) == 1 {
		l.buf = appendEvent(l.buf[:0], Event{Stream: stream, Type: events[0].Type, Data: events[0].Data})
		err = l.log.Write(l.last+1, l.buf)
	} else {
		l.batch.Clear()
		for i, e := range events {
			l.buf = appendEvent(l.buf[:0], Event{Stream: stream, Type: e.Type, Data: e.Data})
			l.batch.Write(l.last+1+uint64(i), l.buf) // copied
		}
		err = l.log.WriteBatch(&l.batch)
	}
	if err != nil {
		return 0, fmt.Errorf("peers: wal: %w", err)
	}
	l.last += uint64(len(events))
	return l.last, nil
}

func (l *walLog) Scan(ctx context.Context, fn func(Event) error) error {
	l.mu.Lock()
	last := l.last
	l.mu.Unlock()
	first, err := l.log.FirstIndex()
	if err != nil {
		return fmt.Errorf("peers: wal: %w", err)
	}
	if first == 0 {
		return nil // empty
	}
	var e Event
	for i := first; i <= last; i++ {
		b, err := l.log.Read(i)
		if err != nil {
			return fmt.Errorf("peers: wal: index %d: %w", i, err)
		}
		e.Position = i
		if err := decodeEvent(b, &e); err != nil {
			return fmt.Errorf("peers: wal: index %d: %w", i, err)
		}
		if err := fn(e); err != nil {
			return err
		}
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *walLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.log.Close(); err != nil && !errors.Is(err, wal.ErrClosed) {
		return fmt.Errorf("peers: wal: %w", err)
	}
	return nil
}
