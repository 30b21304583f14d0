package benchsuite

import (
	"context"
	"fmt"
	"time"

	"github.com/durablelog/eventstore"
)

// readWorkload fills n events over 10 streams, reopens the store and times
// one read pass of the given kind.
func readWorkload(kind string) func(context.Context, Target, int) (Measurement, error) {
	return func(ctx context.Context, t Target, n int) (Measurement, error) {
		dir, cleanup, err := t.NewDir()
		if err != nil {
			return Measurement{}, err
		}
		defer cleanup()
		if err := fill(ctx, t, dir, n, 10); err != nil {
			return Measurement{}, err
		}
		s, err := eventstore.Open(dir, t.options(dir)...)
		if err != nil {
			return Measurement{}, err
		}
		defer s.Close()
		var events int
		var bytes int64
		start := time.Now()
		switch kind {
		case "scan":
			for r, err := range s.Log(ctx, 1) {
				if err != nil {
					return Measurement{}, err
				}
				events++
				bytes += int64(len(r.Data))
			}
		case "stream":
			for r, err := range s.Stream(ctx, StreamName(3), 1) {
				if err != nil {
					return Measurement{}, err
				}
				events++
				bytes += int64(len(r.Data))
			}
		case "subscribe":
			head := s.Head()
			sctx, cancel := context.WithCancel(ctx)
			for r, err := range s.Subscribe(sctx, 1) {
				if err != nil {
					cancel()
					return Measurement{}, err
				}
				events++
				bytes += int64(len(r.Data))
				if r.Offset == head {
					break
				}
			}
			cancel()
		default:
			return Measurement{}, fmt.Errorf("unknown read kind %q", kind)
		}
		m := Measurement{Ops: 1, Events: events, Bytes: bytes, Elapsed: time.Since(start)}
		return m, s.Close()
	}
}

// Read workloads, each over n events.
var (
	ReadScan      = Workload{Name: "read/log-scan", Run: readWorkload("scan"), DefaultN: 1_000_000}
	ReadStream    = Workload{Name: "read/stream", Run: readWorkload("stream"), DefaultN: 1_000_000}
	ReadSubscribe = Workload{Name: "read/subscribe-catch-up", Run: readWorkload("subscribe"), DefaultN: 1_000_000}
)
