package benchsuite

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/record"
)

// rawEvent writes into b the keys and bytes the event store writes for one
// event: the record under its log key and the stream-index entry.
func rawEvent(b backend.Batch, off eventstore.Offset, stream string, version uint64, data []byte, buf []byte) []byte {
	r := eventstore.Record{Event: eventstore.Event{Type: "Bench", Data: data}, Offset: off, Stream: stream, Version: version, Time: time.Now()}
	buf = record.Append(buf[:0], &r)
	b.Set(record.LogKey(off), buf)
	b.Set(record.StreamKey(stream, version), record.OffsetValue(off))
	return buf
}

// rawWriteWorkload commits n batches of perBatch events straight through the
// engine with sync, from writers goroutines: the engine's own rate, with its
// own coalescing of concurrent synced writes.
func rawWriteWorkload(writers, perBatch int) func(context.Context, Target, int) (Measurement, error) {
	return func(ctx context.Context, t Target, n int) (Measurement, error) {
		dir, cleanup, err := t.NewDir()
		if err != nil {
			return Measurement{}, err
		}
		defer cleanup()
		kv, err := t.OpenKV(dir)
		if err != nil {
			return Measurement{}, err
		}
		defer kv.Close()
		data := Payload(EventSize, 1)
		var (
			mu   sync.Mutex
			next uint64
		)
		lat := make([][]time.Duration, writers)
		errs := make([]error, writers)
		var wg sync.WaitGroup
		start := time.Now()
		for w := range writers {
			ops := n / writers
			if w < n%writers {
				ops++
			}
			wg.Go(func() {
				var buf []byte
				stream := StreamName(w)
				var version uint64
				for range ops {
					t0 := time.Now()
					b := kv.NewBatch()
					mu.Lock()
					first := next + 1
					next += uint64(perBatch)
					mu.Unlock()
					for i := range perBatch {
						version++
						buf = rawEvent(b, eventstore.Offset(first+uint64(i)), stream, version, data, buf)
					}
					if err := b.Commit(true); err != nil {
						errs[w] = err
						return
					}
					lat[w] = append(lat[w], time.Since(t0))
				}
			})
		}
		wg.Wait()
		m := Measurement{Ops: n, Events: n * perBatch, Bytes: int64(n * perBatch * EventSize), Elapsed: time.Since(start)}
		for w := range writers {
			if errs[w] != nil {
				return m, errs[w]
			}
			m.Latencies = append(m.Latencies, lat[w]...)
		}
		return m, kv.Close()
	}
}

// rawScan fills n events through the engine and times one ordered scan of
// the log keys, touching every value but decoding nothing.
func rawScan(ctx context.Context, t Target, n int) (Measurement, error) {
	dir, cleanup, err := t.NewDir()
	if err != nil {
		return Measurement{}, err
	}
	defer cleanup()
	if err := FillRaw(t, dir, n); err != nil {
		return Measurement{}, err
	}
	// Scan after a reopen, as the event store's reads and restarts do.
	kv, err := t.OpenKV(dir)
	if err != nil {
		return Measurement{}, err
	}
	start := time.Now()
	lower, upper := record.LogTable()
	it, err := kv.NewIterator(backend.IterOptions{Lower: lower, Upper: upper})
	if err != nil {
		_ = kv.Close()
		return Measurement{}, err
	}
	var events int
	var bytes int64
	var sink byte
	for it.Next() {
		v := it.Value()
		sink ^= v[len(v)-1]
		events++
		bytes += int64(len(v))
	}
	if err := it.Close(); err != nil {
		_ = kv.Close()
		return Measurement{}, err
	}
	_ = sink
	return Measurement{Ops: 1, Events: events, Bytes: bytes, Elapsed: time.Since(start)}, kv.Close()
}

// FillRaw writes n events through t's engine on dir, as the event store
// lays them out (log keys and stream-index entries over 10 streams), in
// unsynced batches of 1000, and closes the engine: the log that raw/scan
// reads, for the baselines that read it with an engine's own library.
func FillRaw(t Target, dir string, n int) error {
	kv, err := t.OpenKV(dir)
	if err != nil {
		return err
	}
	if err := fillRaw(kv, n); err != nil {
		_ = kv.Close()
		return err
	}
	return kv.Close()
}

func fillRaw(kv backend.KV, n int) error {
	data := Payload(EventSize, 1)
	var buf []byte
	for off := 1; off <= n; {
		b := kv.NewBatch()
		for i := 0; i < 1000 && off <= n; i++ {
			buf = rawEvent(b, eventstore.Offset(off), StreamName(off%10), uint64(off/10+1), data, buf)
			off++
		}
		if err := b.Commit(false); err != nil {
			return err
		}
	}
	return nil
}

// diskSync writes EventSize bytes and fsyncs, n times, on a growing file or
// on a preallocated one: the physical limit of one synced writer.
func diskSync(prealloc bool) func(context.Context, Target, int) (Measurement, error) {
	return func(ctx context.Context, t Target, n int) (Measurement, error) {
		dir, cleanup, err := t.NewDir()
		if err != nil {
			return Measurement{}, err
		}
		defer cleanup()
		f, err := os.Create(filepath.Join(dir, "disk"))
		if err != nil {
			return Measurement{}, err
		}
		defer f.Close()
		data := Payload(EventSize, 3)
		if prealloc {
			if err := f.Truncate(int64(n+1) * EventSize); err != nil {
				return Measurement{}, err
			}
			if err := f.Sync(); err != nil {
				return Measurement{}, err
			}
		}
		lat := make([]time.Duration, 0, n)
		start := time.Now()
		for i := range n {
			t0 := time.Now()
			if _, err := f.WriteAt(data, int64(i)*EventSize); err != nil {
				return Measurement{}, err
			}
			if err := f.Sync(); err != nil {
				return Measurement{}, err
			}
			lat = append(lat, time.Since(t0))
		}
		return Measurement{Ops: n, Events: n, Bytes: int64(n * EventSize), Elapsed: time.Since(start), Latencies: lat}, nil
	}
}

// Baselines. The raw engine workloads open the engine itself (EngineOnly);
// the disk workloads use none (Standalone "disk").
var (
	RawSync1         = Workload{Name: "raw/sync-write/1-writer", Run: rawWriteWorkload(1, 1), DefaultN: 2000, EngineOnly: true}
	RawSync16        = Workload{Name: "raw/sync-write/16-writers", Run: rawWriteWorkload(16, 1), DefaultN: 20000, EngineOnly: true}
	RawSync64        = Workload{Name: "raw/sync-write/64-writers", Run: rawWriteWorkload(64, 1), DefaultN: 40000, EngineOnly: true}
	RawSyncBatch100  = Workload{Name: "raw/sync-write/batch-100", Run: rawWriteWorkload(1, 100), DefaultN: 200, EngineOnly: true}
	RawScan          = Workload{Name: "raw/scan", Run: rawScan, DefaultN: 1_000_000, EngineOnly: true}
	DiskSync         = Workload{Name: "disk/write+fsync", Run: diskSync(false), DefaultN: 2000, Standalone: DiskName}
	DiskSyncPrealloc = Workload{Name: "disk/write+fsync/preallocated", Run: diskSync(true), DefaultN: 2000, Standalone: DiskName}
)

// DiskName is the name under which the workloads that measure the disk
// itself, with no engine, are reported.
const DiskName = "disk"
