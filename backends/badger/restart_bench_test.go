package badger_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/durablelog/eventstore/backends/badger"
	"github.com/durablelog/eventstore/benchsuite"
)

// BenchmarkRestartGrowth times restarts of a store of 10K events and of one
// of 1M events, alternately so that both meet the same machine load, with
// snapshots every 1000 events and without, and reports the median of each
// and their ratio. With snapshots the replay is bounded, and the ratio shows
// whether the engine's Open grows with the store; without, the replay of
// every event dominates. The first restart of each store, right after it
// was filled, is not counted. It fills 1M events twice: -short skips it.
func BenchmarkRestartGrowth(b *testing.B) {
	if testing.Short() {
		b.Skip("fills two stores of 1M events")
	}
	defer benchsuite.Cleanup()
	target := benchsuite.Target{Backend: badger.Name}
	ctx := context.Background()
	for _, snapshots := range []bool{true, false} {
		name := "no-snapshots"
		if snapshots {
			name = "every-1000"
		}
		b.Run(name, func(b *testing.B) {
			small := benchsuite.RestartWorkload(10_000, snapshots)
			large := benchsuite.RestartWorkload(1_000_000, snapshots)
			restart := func(w benchsuite.Workload) time.Duration {
				m, err := w.Run(ctx, target, 1)
				if err != nil {
					b.Fatalf("%s: %v", w.Name, err)
				}
				return m.Elapsed
			}
			restart(small)
			restart(large)
			b.ResetTimer()
			var s, l []time.Duration
			for range b.N {
				s = append(s, restart(small))
				l = append(l, restart(large))
			}
			b.StopTimer()
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(ms(median(s)), "10K-ms")
			b.ReportMetric(ms(median(l)), "1M-ms")
			b.ReportMetric(float64(median(l))/float64(median(s)), "1M/10K")
		})
	}
}

func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}
