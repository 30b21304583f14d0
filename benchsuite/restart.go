package benchsuite

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/durablelog/eventstore"
)

// restartWorkload fills length events with a state machine (snapshots every
// 1000 events, or none) and times n Opens, each followed by a Close.
func restartWorkload(length int, snapshots bool) func(context.Context, Target, int) (Measurement, error) {
	return func(ctx context.Context, t Target, n int) (Measurement, error) {
		policy := eventstore.Never()
		if snapshots {
			policy = eventstore.EveryN(1000)
		}
		dir, err := Fixture(fmt.Sprintf("%s/%d/%v", t.Backend, length, snapshots), func() (string, error) {
			dir, _, err := t.NewDir()
			if err != nil {
				return "", err
			}
			opts := []eventstore.Option{eventstore.WithStateMachine(&countState{}), eventstore.WithSnapshotPolicy(policy)}
			return dir, fill(ctx, t, dir, length, 100, opts...)
		})
		if err != nil {
			return Measurement{}, err
		}
		var m Measurement
		for range max(n, 1) {
			sm := &countState{}
			t0 := time.Now()
			s, err := eventstore.Open(dir, t.options(dir, eventstore.WithStateMachine(sm), eventstore.WithSnapshotPolicy(policy))...)
			if err != nil {
				return m, err
			}
			d := time.Since(t0)
			rep := s.LastRecovery()
			if err := s.Close(); err != nil {
				return m, err
			}
			if sm.events != uint64(length) {
				return m, fmt.Errorf("restart recovered %d events of %d", sm.events, length)
			}
			m.Ops++
			m.Elapsed += d
			m.Latencies = append(m.Latencies, d)
			m.Events += int(rep.EventsReplayed)
			m.Bytes += int64(rep.BytesReplayed)
		}
		m.Extra = map[string]float64{"open-ms": float64(m.Elapsed.Microseconds()) / 1000 / float64(m.Ops)}
		return m, nil
	}
}

// RestartWorkload returns the restart workload for a log of length events,
// with snapshots every 1000 events or with none (a full replay).
func RestartWorkload(length int, snapshots bool) Workload {
	name := fmt.Sprintf("restart/no-snapshots/%s", count(length))
	if snapshots {
		name = fmt.Sprintf("restart/every-1000/%s", count(length))
	}
	return Workload{Name: name, Run: restartWorkload(length, snapshots), DefaultN: 5}
}

func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dK", n/1000)
	}
	return fmt.Sprint(n)
}

// Filled stores are expensive (a million events); restart workloads share
// them across the calls testing.B makes, until Cleanup.
var (
	fixturesMu sync.Mutex
	fixtures   = map[string]string{}
)

// Fixture returns the directory that make filled for key, made on the
// first call and kept for the later ones until Cleanup removes it: the
// restart workloads fill a log of a million events once per backend. make
// returns the directory even when it fails, so that it is removed.
func Fixture(key string, make func() (string, error)) (string, error) {
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if dir, ok := fixtures[key]; ok {
		return dir, nil
	}
	dir, err := make()
	if err != nil {
		if dir != "" {
			_ = os.RemoveAll(dir)
		}
		return "", err
	}
	fixtures[key] = dir
	return dir, nil
}

// Cleanup removes the stores that restart workloads filled and kept. Call it
// once the benchmarks are done, for example after m.Run in TestMain.
func Cleanup() {
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	for k, dir := range fixtures {
		_ = os.RemoveAll(dir)
		delete(fixtures, k)
	}
}
