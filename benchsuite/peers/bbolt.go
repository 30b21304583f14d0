package peers

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bolt keeps events in bbolt: the bucket "log" maps each position to the
// event, and the bucket "streams" holds a bucket per stream that maps each
// version to its position. One Update transaction per append; bbolt
// fsyncs every commit and admits one writer at a time.
var Bolt = Peer{Name: "bbolt", Streams: true, Open: openBolt}

var (
	boltLog     = []byte("log")
	boltStreams = []byte("streams")
)

type boltLogStore struct{ db *bolt.DB }

func openBolt(dir string, o Options) (Log, error) {
	db, err := bolt.Open(filepath.Join(dir, "events.bolt"), 0o600, &bolt.Options{Timeout: 10 * time.Second, NoSync: o.NoSync})
	if err != nil {
		return nil, fmt.Errorf("peers: bbolt: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(boltLog); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(boltStreams)
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("peers: bbolt: %w", err)
	}
	return &boltLogStore{db: db}, nil
}

func (l *boltLogStore) Append(ctx context.Context, stream string, expected int64, events []Event) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := checkEvents(stream, events); err != nil {
		return 0, err
	}
	var last uint64
	err := l.db.Update(func(tx *bolt.Tx) error {
		sb, err := tx.Bucket(boltStreams).CreateBucketIfNotExists([]byte(stream))
		if err != nil {
			return err
		}
		var version uint64
		if k, _ := sb.Cursor().Last(); k != nil {
			version = binary.BigEndian.Uint64(k)
		}
		if expected != Any && uint64(expected) != version {
			return fmt.Errorf("%w: stream %q is at version %d, not %d", ErrWrongVersion, stream, version, expected)
		}
		lb := tx.Bucket(boltLog)
		for _, e := range events {
			p, err := lb.NextSequence()
			if err != nil {
				return err
			}
			version++
			e.Position, e.Stream, e.Version = p, stream, version
			// bbolt keeps the keys and values it is given until the
			// commit: each Put gets its own.
			pos := binary.BigEndian.AppendUint64(nil, p)
			if err := lb.Put(pos, appendEvent(nil, e)); err != nil {
				return err
			}
			if err := sb.Put(binary.BigEndian.AppendUint64(nil, version), pos); err != nil {
				return err
			}
			last = p
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("peers: bbolt: %w", err)
	}
	return last, nil
}

func (l *boltLogStore) Scan(ctx context.Context, fn func(Event) error) error {
	return l.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(boltLog).Cursor()
		var e Event
		for k, v := c.First(); k != nil; k, v = c.Next() {
			e.Position = binary.BigEndian.Uint64(k)
			if err := decodeEvent(v, &e); err != nil {
				return fmt.Errorf("peers: bbolt: position %d: %w", e.Position, err)
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
}

func (l *boltLogStore) Close() error { return l.db.Close() }

// checkEvents fails for names that the value encoding cannot hold.
func checkEvents(stream string, events []Event) error {
	if len(stream) > 1<<16-1 {
		return fmt.Errorf("peers: stream name of %d bytes: at most 65535", len(stream))
	}
	for _, e := range events {
		if len(e.Type) > 255 {
			return fmt.Errorf("peers: event type of %d bytes: at most 255", len(e.Type))
		}
	}
	return nil
}
