package benchsuite

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/durablelog/eventstore"
)

// SweepTail is how many events a snapshot sweep writes beyond its length,
// so that the restart does not land right on a snapshot: the tail left to
// replay is then 50, 550 and 5550 events for EveryN(100), EveryN(1000) and
// EveryN(10000), about N/2, the average over crash times. Logs shorter than
// 10 × SweepTail (in tests) get a tail of a tenth of their length instead.
const SweepTail = 5550

// SweepEvents returns how many events the sweep of a log of length events
// writes: length and the tail.
func SweepEvents(length int) int {
	if length < 10*SweepTail {
		return length + length/10
	}
	return length + SweepTail
}

// sweepWriters is the number of concurrent writers in a sweep's append
// phase: group commit, as a busy production store runs.
const sweepWriters = 16

// SnapshotSweep returns the ADR-0009 workload of one snapshot policy. Its
// name is "snapshots/<name>/<length>", for example "snapshots/every-1000/1M".
//
// Each run has two parts. The append part is measured: n appends of one
// 200-byte event by 16 concurrent writers, Sync, to a new store with a
// state machine and the policy; its events/s and latencies are the
// workload's, and its Extra "snapshots" and "events/snapshot" tell how
// often the policy fired; then five explicit snapshots, each after one more
// append, give the cost of one durable snapshot as Extra "snapshot-ms". The
// restart part opens, three times, a store of SweepEvents(length) events
// written with the policy (in appends of 100, NoSync, made once and kept
// until Cleanup; Extra "fill-snapshots" and "fill-events/snapshot" tell how
// often the policy fired then), and reports the median Open time as Extra
// "open-ms" and the events replayed as "replayed-events". The reopens use
// the policy Never, so that they leave the store as found.
func SnapshotSweep(name string, p eventstore.SnapshotPolicy, length int) Workload {
	return Workload{
		Name:     fmt.Sprintf("snapshots/%s/%s", name, count(length)),
		Run:      snapshotSweep(name, p, length),
		DefaultN: 20000,
	}
}

func snapshotSweep(name string, p eventstore.SnapshotPolicy, length int) func(context.Context, Target, int) (Measurement, error) {
	return func(ctx context.Context, t Target, n int) (Measurement, error) {
		m, err := sweepAppend(ctx, t, p, n)
		if err != nil {
			return m, err
		}
		key := fmt.Sprintf("snapshots/%s/%s/%d", t.Backend, name, length)
		dir, err := Fixture(key, func() (string, error) {
			dir, _, err := t.NewDir()
			if err != nil {
				return "", err
			}
			taken, err := sweepFill(ctx, t, dir, p, SweepEvents(length))
			sweepFillsMu.Lock()
			sweepFills[key] = taken
			sweepFillsMu.Unlock()
			return dir, err
		})
		if err != nil {
			return m, err
		}
		sweepFillsMu.Lock()
		taken := sweepFills[key]
		sweepFillsMu.Unlock()
		m.Extra["fill-snapshots"] = float64(taken)
		if taken > 0 {
			m.Extra["fill-events/snapshot"] = float64(SweepEvents(length)) / float64(taken)
		}
		var opens []time.Duration
		var replayed uint64
		for range 3 {
			sm := &countState{}
			t0 := time.Now()
			s, err := eventstore.Open(dir, t.options(dir, eventstore.WithStateMachine(sm), eventstore.WithSnapshotPolicy(eventstore.Never()))...)
			if err != nil {
				return m, err
			}
			opens = append(opens, time.Since(t0))
			replayed = s.LastRecovery().EventsReplayed
			if err := s.Close(); err != nil {
				return m, err
			}
			if want := uint64(SweepEvents(length)); sm.events != want {
				return m, fmt.Errorf("restart recovered %d events of %d", sm.events, want)
			}
		}
		slices.Sort(opens)
		m.Extra["open-ms"] = float64(opens[len(opens)/2].Microseconds()) / 1000
		m.Extra["replayed-events"] = float64(replayed)
		return m, nil
	}
}

// sweepFills holds the snapshots taken while each sweep fixture was
// written, by fixture key.
var (
	sweepFillsMu sync.Mutex
	sweepFills   = map[string]uint64{}
)

// sweepFill writes n events as fill does, with a state machine and the
// policy p, and returns the snapshots the policy took.
func sweepFill(ctx context.Context, t Target, dir string, p eventstore.SnapshotPolicy, n int) (uint64, error) {
	s, err := eventstore.Open(dir, t.options(dir, eventstore.WithDurability(eventstore.NoSync),
		eventstore.WithStateMachine(&countState{}), eventstore.WithSnapshotPolicy(p))...)
	if err != nil {
		return 0, err
	}
	data := Payload(EventSize, 7)
	batch := make([]eventstore.Event, 0, 100)
	for i := 0; i < n; {
		k := min(100, n-i)
		batch = batch[:0]
		for range k {
			batch = append(batch, eventstore.Event{Type: "Bench", Data: data})
		}
		if _, err := s.Append(ctx, StreamName((i/100)%100), eventstore.Any, batch...); err != nil {
			_ = s.Close()
			return 0, err
		}
		i += k
	}
	if err := s.Close(); err != nil {
		return 0, err
	}
	// Close waits for the snapshots in flight: Taken is final.
	return s.SnapshotStatus().Taken, nil
}

// sweepAppend is the append part of a sweep.
func sweepAppend(ctx context.Context, t Target, p eventstore.SnapshotPolicy, n int) (Measurement, error) {
	dir, cleanup, err := t.NewDir()
	if err != nil {
		return Measurement{}, err
	}
	defer cleanup()
	s, err := eventstore.Open(dir, t.options(dir, eventstore.WithDurability(eventstore.Sync),
		eventstore.WithStateMachine(&countState{}), eventstore.WithSnapshotPolicy(p))...)
	if err != nil {
		return Measurement{}, err
	}
	defer s.Close()
	ev := eventstore.Event{Type: "Bench", Data: Payload(EventSize, 1)}
	m, err := appendConcurrently(ctx, s, sweepWriters, n, []eventstore.Event{ev}, EventSize, "")
	if err != nil {
		return m, err
	}
	taken := s.SnapshotStatus().Taken
	m.Extra = map[string]float64{"snapshots": float64(taken)}
	if taken > 0 {
		m.Extra["events/snapshot"] = float64(n) / float64(taken)
	}
	// The cost of one snapshot, durable: the median of five, each after
	// one more event (a snapshot of an unchanged state is skipped).
	var costs []time.Duration
	for range 5 {
		if _, err := s.Append(ctx, StreamName(0), eventstore.Any, ev); err != nil {
			return m, err
		}
		t0 := time.Now()
		if err := s.Snapshot(ctx); err != nil {
			return m, err
		}
		costs = append(costs, time.Since(t0))
	}
	slices.Sort(costs)
	m.Extra["snapshot-ms"] = float64(costs[len(costs)/2].Microseconds()) / 1000
	return m, s.Close()
}
