package benchsuite

import (
	"context"
	"fmt"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/layout"
	"github.com/durablelog/eventstore/internal/record"
)

// ReadPathEvents is the length of the log that ReadPath fills.
const ReadPathEvents = 200_000

// ReadPath benchmarks the read path against the engine it runs on, over one
// store filled once (ReadPathEvents events of EventSize bytes, with a
// counting state machine and no snapshots), so that the ratios between its
// sub-benchmarks come from one run on one machine state:
//
//   - raw-scan: the engine's own iterator over the log keys, through the
//     engine contract, touching every value (what raw/scan times);
//   - log-scan: Store.Log from the first offset (what read/log-scan times);
//   - replay: Open with the state machine and no snapshot, which replays
//     the whole log (what restart/no-snapshots times).
//
// Each also reports cpu-ms/op, the process's user and system CPU time per
// scan (garbage collection and engine threads included): on a shared,
// loaded machine it varies much less than the wall time.
//
// extra adds engine-specific baselines, each given the directory of the
// store's engine (closed) and returning the number of log records it read. Each
// sub-benchmark reports events/s; log-scan/raw-scan and replay/raw-scan are
// the ratios the targets are about.
func ReadPath(b *testing.B, t Target, extra map[string]func(dir string) (int, error)) {
	ctx := context.Background()
	dir, cleanup, err := t.NewDir()
	if err != nil {
		b.Fatal(err)
	}
	defer cleanup()
	never := eventstore.WithSnapshotPolicy(eventstore.Never())
	if err := fill(ctx, t, dir, ReadPathEvents, 10, eventstore.WithStateMachine(&countState{}), never); err != nil {
		b.Fatal(err)
	}
	run := func(name string, scan func() (int, error)) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(ReadPathEvents * EventSize))
			cpu0 := processCPU()
			for b.Loop() {
				n, err := scan()
				if err != nil {
					b.Fatal(err)
				}
				if n != ReadPathEvents {
					b.Fatalf("%s read %d events of %d", name, n, ReadPathEvents)
				}
			}
			b.ReportMetric(float64(ReadPathEvents)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			if cpu0 >= 0 {
				b.ReportMetric((processCPU()-cpu0).Seconds()*1000/float64(b.N), "cpu-ms/op")
			}
		})
	}
	engineDir := layout.Engine(dir)
	run("raw-scan", func() (int, error) { return rawLogScan(t, engineDir) })
	for name, scan := range extra {
		run(name, func() (int, error) { return scan(engineDir) })
	}
	run("log-scan", func() (int, error) {
		s, err := eventstore.Open(dir, t.options(dir)...)
		if err != nil {
			return 0, err
		}
		defer s.Close()
		n := 0
		for r, err := range s.Log(ctx, 1) {
			if err != nil {
				return n, err
			}
			if len(r.Data) != EventSize {
				return n, fmt.Errorf("offset %d: %d bytes of data", r.Offset, len(r.Data))
			}
			n++
		}
		return n, s.Close()
	})
	run("replay", func() (int, error) {
		sm := &countState{}
		s, err := eventstore.Open(dir, t.options(dir, eventstore.WithStateMachine(sm), never)...)
		if err != nil {
			return 0, err
		}
		replayed := s.LastRecovery().EventsReplayed
		if err := s.Close(); err != nil {
			return 0, err
		}
		if replayed != sm.events {
			return 0, fmt.Errorf("replay reported %d events, the state machine saw %d", replayed, sm.events)
		}
		return int(sm.events), nil
	})
}

// rawLogScan opens t's engine on its directory dir and reads every log key and value
// with the plain Next loop, touching every value.
func rawLogScan(t Target, dir string) (int, error) {
	kv, err := t.OpenKV(dir)
	if err != nil {
		return 0, err
	}
	defer kv.Close()
	lower, upper := record.LogTable()
	it, err := kv.NewIterator(backend.IterOptions{Lower: lower, Upper: upper})
	if err != nil {
		return 0, err
	}
	n := 0
	var sink byte
	for it.Next() {
		v := it.Value()
		sink ^= v[len(v)-1]
		n++
	}
	_ = sink
	if err := it.Close(); err != nil {
		return n, err
	}
	return n, kv.Close()
}
