package peers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/durablelog/eventstore/benchsuite"
)

// Workloads returns p's workloads, named and sized as the event store's
// own so that the report sets them side by side (each runs once per
// repeat, reported under p.Name): one and 16 synced writers appending
// single 200-byte events, each to its own stream with its exact expected
// version (and 64 writers when p.Writers64), appends of 100, a full scan of
// a log of n events, and the restart of a log of a million events: an Open
// that reads every event back, which is what a user of the peer does to
// rebuild his state.
func Workloads(p Peer) []benchsuite.Workload {
	ws := []benchsuite.Workload{
		appendW(p, benchsuite.AppendSync1, 1, 1),
		appendW(p, benchsuite.AppendSync16, 16, 1),
	}
	if p.Writers64 {
		ws = append(ws, appendW(p, benchsuite.AppendSync64, 64, 1))
	}
	return append(ws,
		appendW(p, benchsuite.AppendSyncBatch100, 1, 100),
		benchsuite.Workload{Name: benchsuite.ReadScan.Name, Run: scanWorkload(p), DefaultN: benchsuite.ReadScan.DefaultN, Standalone: p.Name},
		RestartWorkload(p, 1_000_000),
	)
}

// AllWorkloads returns the workloads of every peer of All.
func AllWorkloads() []benchsuite.Workload {
	var ws []benchsuite.Workload
	for _, p := range All() {
		ws = append(ws, Workloads(p)...)
	}
	return ws
}

// RestartWorkload returns p's restart of a log of length events, named as
// the store's restart without snapshots: n times, Open and read every event.
func RestartWorkload(p Peer, length int) benchsuite.Workload {
	same := benchsuite.RestartWorkload(length, false)
	return benchsuite.Workload{Name: same.Name, Run: restartWorkload(p, length), DefaultN: same.DefaultN, Standalone: p.Name}
}

// appendW is the peer's version of the store's append workload like.
func appendW(p Peer, like benchsuite.Workload, writers, perAppend int) benchsuite.Workload {
	return benchsuite.Workload{Name: like.Name, Run: appendWorkload(p, writers, perAppend), DefaultN: like.DefaultN, Standalone: p.Name}
}

func appendWorkload(p Peer, writers, perAppend int) func(context.Context, benchsuite.Target, int) (benchsuite.Measurement, error) {
	return func(ctx context.Context, t benchsuite.Target, n int) (benchsuite.Measurement, error) {
		dir, cleanup, err := t.NewDir()
		if err != nil {
			return benchsuite.Measurement{}, err
		}
		defer cleanup()
		l, err := p.Open(dir, Options{})
		if err != nil {
			return benchsuite.Measurement{}, err
		}
		defer l.Close()
		events := make([]Event, perAppend)
		data := benchsuite.Payload(benchsuite.EventSize, 1)
		for i := range events {
			events[i] = Event{Type: "Bench", Data: data}
		}
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
				stream := benchsuite.StreamName(w)
				expected := int64(0)
				l2 := make([]time.Duration, 0, ops)
				for range ops {
					t0 := time.Now()
					if _, err := l.Append(ctx, stream, expected, events); err != nil {
						errs[w] = err
						return
					}
					l2 = append(l2, time.Since(t0))
					expected += int64(perAppend)
				}
				lat[w] = l2
			})
		}
		wg.Wait()
		m := benchsuite.Measurement{Ops: n, Events: n * perAppend, Bytes: int64(n * perAppend * benchsuite.EventSize), Elapsed: time.Since(start)}
		for w := range writers {
			if errs[w] != nil {
				return m, errs[w]
			}
			m.Latencies = append(m.Latencies, lat[w]...)
		}
		return m, l.Close()
	}
}

// fill appends n events of EventSize bytes to a new log of p in dir, in
// appends of 100 over streams streams, unsynced, and closes it.
func fill(ctx context.Context, p Peer, dir string, n, streams int) error {
	l, err := p.Open(dir, Options{NoSync: true})
	if err != nil {
		return err
	}
	data := benchsuite.Payload(benchsuite.EventSize, 7)
	batch := make([]Event, 0, 100)
	for i := 0; i < n; {
		k := min(100, n-i)
		batch = batch[:0]
		for range k {
			batch = append(batch, Event{Type: "Bench", Data: data})
		}
		if _, err := l.Append(ctx, benchsuite.StreamName((i/100)%streams), Any, batch); err != nil {
			_ = l.Close()
			return err
		}
		i += k
	}
	return l.Close()
}

// readAll opens p's log in dir, reads every event, checks that they are
// want events at positions 1 to want, and closes the log.
func readAll(ctx context.Context, p Peer, dir string, want int) (events int, bytes int64, err error) {
	l, err := p.Open(dir, Options{})
	if err != nil {
		return 0, 0, err
	}
	err = l.Scan(ctx, func(e Event) error {
		events++
		if e.Position != uint64(events) {
			return fmt.Errorf("peers: %s: event %d at position %d", p.Name, events, e.Position)
		}
		bytes += int64(len(e.Data))
		return nil
	})
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	if err == nil && events != want {
		err = fmt.Errorf("peers: %s: read %d events of %d", p.Name, events, want)
	}
	return events, bytes, err
}

// scanWorkload fills n events over 10 streams, then times the Open and one
// read of every event, as the store's read/log-scan times one.
func scanWorkload(p Peer) func(context.Context, benchsuite.Target, int) (benchsuite.Measurement, error) {
	return func(ctx context.Context, t benchsuite.Target, n int) (benchsuite.Measurement, error) {
		dir, cleanup, err := t.NewDir()
		if err != nil {
			return benchsuite.Measurement{}, err
		}
		defer cleanup()
		if err := fill(ctx, p, dir, n, 10); err != nil {
			return benchsuite.Measurement{}, err
		}
		start := time.Now()
		events, bytes, err := readAll(ctx, p, dir, n)
		return benchsuite.Measurement{Ops: 1, Events: events, Bytes: bytes, Elapsed: time.Since(start)}, err
	}
}

// restartWorkload fills length events once (kept until
// benchsuite.Cleanup) and times n restarts: Open, read everything, Close.
func restartWorkload(p Peer, length int) func(context.Context, benchsuite.Target, int) (benchsuite.Measurement, error) {
	return func(ctx context.Context, t benchsuite.Target, n int) (benchsuite.Measurement, error) {
		dir, err := benchsuite.Fixture(fmt.Sprintf("peer/%s/%d", p.Name, length), func() (string, error) {
			dir, _, err := t.NewDir()
			if err != nil {
				return "", err
			}
			return dir, fill(ctx, p, dir, length, 100)
		})
		if err != nil {
			return benchsuite.Measurement{}, err
		}
		var m benchsuite.Measurement
		for range max(n, 1) {
			t0 := time.Now()
			events, bytes, err := readAll(ctx, p, dir, length)
			d := time.Since(t0)
			if err != nil {
				return m, err
			}
			m.Ops++
			m.Elapsed += d
			m.Latencies = append(m.Latencies, d)
			m.Events += events
			m.Bytes += bytes
		}
		m.Extra = map[string]float64{"open-ms": float64(m.Elapsed.Microseconds()) / 1000 / float64(m.Ops)}
		return m, nil
	}
}
