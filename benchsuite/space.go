package benchsuite

import (
	"context"
	"path/filepath"
	"time"

	"github.com/durablelog/eventstore/backend"
)

// space fills n events, closes, and measures the engine directory's bytes
// per event, then again after a full compaction when the engine can.
func space(ctx context.Context, t Target, n int) (Measurement, error) {
	dir, cleanup, err := t.NewDir()
	if err != nil {
		return Measurement{}, err
	}
	defer cleanup()
	start := time.Now()
	if err := fill(ctx, t, dir, n, 10); err != nil {
		return Measurement{}, err
	}
	engineDir := filepath.Join(dir, "engine")
	closed, err := dirSize(engineDir)
	if err != nil {
		return Measurement{}, err
	}
	m := Measurement{Ops: 1, Events: n, Bytes: closed, Extra: map[string]float64{"bytes/event": float64(closed) / float64(n)}}
	kv, err := t.OpenKV(engineDir)
	if err != nil {
		return m, err
	}
	if c, ok := kv.(backend.Compacter); ok {
		if err := c.Compact(); err != nil {
			_ = kv.Close()
			return m, err
		}
	}
	if err := kv.Close(); err != nil {
		return m, err
	}
	compacted, err := dirSize(engineDir)
	if err != nil {
		return m, err
	}
	m.Extra["bytes/event-compacted"] = float64(compacted) / float64(n)
	m.Elapsed = time.Since(start)
	return m, nil
}

// Space measures bytes on disk per event.
var Space = Workload{Name: "space/bytes-per-event", Run: space, DefaultN: 1_000_000, EngineOnly: true}
