package benchsuite

import (
	"context"
	"sync"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/benchknobs"
)

// EventSize is the default event size: 200 bytes of data.
const EventSize = 200

// appendWorkload measures n appends of perAppend events of size bytes from
// writers goroutines, each to its own stream.
func appendWorkload(writers, perAppend, size int, d eventstore.Durability, sm bool, more ...eventstore.Option) func(context.Context, Target, int) (Measurement, error) {
	return func(ctx context.Context, t Target, n int) (Measurement, error) {
		dir, cleanup, err := t.NewDir()
		if err != nil {
			return Measurement{}, err
		}
		defer cleanup()
		extra := []eventstore.Option{eventstore.WithDurability(d), eventstore.WithMaxEventSize(max(size, eventstore.DefaultMaxEventSize))}
		if sm {
			extra = append(extra, eventstore.WithStateMachine(&countState{}), eventstore.WithSnapshotPolicy(eventstore.EveryN(1000)))
		}
		extra = append(extra, more...)
		s, err := eventstore.Open(dir, t.options(dir, extra...)...)
		if err != nil {
			return Measurement{}, err
		}
		defer s.Close()
		data := Payload(size, 1)
		events := make([]eventstore.Event, perAppend)
		for i := range events {
			events[i] = eventstore.Event{Type: "Bench", Data: data}
		}
		m, err := appendConcurrently(ctx, s, writers, n, events, size, "")
		if err != nil {
			return m, err
		}
		return m, s.Close()
	}
}

// Append workloads.
var (
	AppendSync1 = Workload{Name: "append/sync/1-writer", Run: appendWorkload(1, 1, EventSize, eventstore.Sync, false), DefaultN: 2000}
	// AppendSync1NoMark is AppendSync1 without the head mark, to measure
	// what the mark costs a synced append (a pwrite after each commit).
	// Only a store on an engine keeps a head mark.
	AppendSync1NoMark = Workload{Name: "append/sync/1-writer/no-head-mark", Run: withoutHeadMark(appendWorkload(1, 1, EventSize, eventstore.Sync, false)), DefaultN: 2000, EngineOnly: true}
	// AppendSync1NoMetrics is AppendSync1 without the store's metrics, to
	// measure what they cost a synced append.
	AppendSync1NoMetrics = Workload{Name: "append/sync/1-writer/no-metrics", Run: withoutMetrics(appendWorkload(1, 1, EventSize, eventstore.Sync, false)), DefaultN: 2000}
	// AppendSync16NoGroup is AppendSync16 with group commit switched off
	// (one append per engine commit), to measure what group commit brings.
	AppendSync16NoGroup = Workload{Name: "append/sync/16-writers/no-group-commit", Run: appendWorkload(16, 1, EventSize, eventstore.Sync, false, eventstore.WithGroupCommit(1, 0)), DefaultN: 5000}
	AppendSync16        = Workload{Name: "append/sync/16-writers", Run: appendWorkload(16, 1, EventSize, eventstore.Sync, false), DefaultN: 20000}
	AppendSync64        = Workload{Name: "append/sync/64-writers", Run: appendWorkload(64, 1, EventSize, eventstore.Sync, false), DefaultN: 40000}
	AppendSyncBatch100  = Workload{Name: "append/sync/batch-100", Run: appendWorkload(1, 100, EventSize, eventstore.Sync, false), DefaultN: 200}
	AppendNoSync1       = Workload{Name: "append/nosync/1-writer", Run: appendWorkload(1, 1, EventSize, eventstore.NoSync, false), DefaultN: 50000}
	AppendSync1SM       = Workload{Name: "append/sync/1-writer/state-machine", Run: appendWorkload(1, 1, EventSize, eventstore.Sync, true), DefaultN: 2000}
	AppendSize100       = Workload{Name: "append/size/100B", Run: appendWorkload(16, 1, 100, eventstore.Sync, false), DefaultN: 10000}
	AppendSize1K        = Workload{Name: "append/size/1KiB", Run: appendWorkload(16, 1, 1<<10, eventstore.Sync, false), DefaultN: 10000}
	AppendSize16K       = Workload{Name: "append/size/16KiB", Run: appendWorkload(16, 1, 16<<10, eventstore.Sync, false), DefaultN: 5000}
	AppendSize1M        = Workload{Name: "append/size/1MiB", Run: appendWorkload(4, 1, 1<<20, eventstore.Sync, false), DefaultN: 200}
)

// AppendSingles makes n appends of one EventSize-byte event to s, Sync or
// not as s was opened, from writers goroutines, each to its own stream
// named prefix+StreamName(i), and measures them: the part of a workload
// that several processes run at once on a shared log, each with its own
// prefix.
func AppendSingles(ctx context.Context, s *eventstore.Store, writers, n int, prefix string) (Measurement, error) {
	ev := eventstore.Event{Type: "Bench", Data: Payload(EventSize, 1)}
	return appendConcurrently(ctx, s, writers, n, []eventstore.Event{ev}, EventSize, prefix)
}

// appendConcurrently makes n appends of events to s from writers goroutines,
// each to its own stream, and measures them: the timed core of the append
// workloads and of the snapshot sweep.
func appendConcurrently(ctx context.Context, s *eventstore.Store, writers, n int, events []eventstore.Event, size int, prefix string) (Measurement, error) {
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
			stream := prefix + StreamName(w)
			l := make([]time.Duration, 0, ops)
			for range ops {
				t0 := time.Now()
				if _, err := s.Append(ctx, stream, eventstore.Any, events...); err != nil {
					errs[w] = err
					return
				}
				l = append(l, time.Since(t0))
			}
			lat[w] = l
		})
	}
	wg.Wait()
	m := Measurement{Ops: n, Events: n * len(events), Bytes: int64(n * len(events) * size), Elapsed: time.Since(start)}
	for w := range writers {
		if errs[w] != nil {
			return m, errs[w]
		}
		m.Latencies = append(m.Latencies, lat[w]...)
	}
	return m, nil
}

// withoutHeadMark runs a workload with the head mark turned off.
func withoutHeadMark(run func(context.Context, Target, int) (Measurement, error)) func(context.Context, Target, int) (Measurement, error) {
	return func(ctx context.Context, t Target, n int) (Measurement, error) {
		benchknobs.NoHeadMark.Store(true)
		defer benchknobs.NoHeadMark.Store(false)
		return run(ctx, t, n)
	}
}

// withoutMetrics runs a workload with the store's metrics turned off.
func withoutMetrics(run func(context.Context, Target, int) (Measurement, error)) func(context.Context, Target, int) (Measurement, error) {
	return func(ctx context.Context, t Target, n int) (Measurement, error) {
		benchknobs.NoMetrics.Store(true)
		defer benchknobs.NoMetrics.Store(false)
		return run(ctx, t, n)
	}
}
