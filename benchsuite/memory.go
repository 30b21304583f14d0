package benchsuite

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/durablelog/eventstore"
)

// Memory workloads measure the process's peak resident set size (VmHWM on
// Linux) while they run: Extra "peak-rss-mib", and "base-rss-mib", the
// resident size when the measured part began. Each resets the peak first
// (writing 5 to /proc/self/clear_refs), so that their own setup does not
// count; Extra "peak-reset" is 1 when that worked. Anything else the process
// holds still counts, so run each in a fresh process: `eventstore bench`
// does. Elsewhere than Linux the figures are 0.
var (
	// MemoryAppend appends n events of 200 bytes to a new store, in
	// appends of 100 from one writer, NoSync: a bulk load, where the
	// engine's write buffers are as full as they get.
	MemoryAppend = Workload{Name: "memory/append", Run: memoryAppend, DefaultN: 1_000_000}
	// MemoryReplay writes n events with a state machine and no snapshot,
	// then measures the Open that replays all of them.
	MemoryReplay = Workload{Name: "memory/replay", Run: memoryReplay, DefaultN: 1_000_000}
)

// MemoryWorkloads returns the peak-RSS workloads, in report order.
func MemoryWorkloads() []Workload { return []Workload{MemoryAppend, MemoryReplay} }

func memoryAppend(ctx context.Context, t Target, n int) (Measurement, error) {
	dir, cleanup, err := t.NewDir()
	if err != nil {
		return Measurement{}, err
	}
	defer cleanup()
	reset, base := startPeak()
	start := time.Now()
	if err := fill(ctx, t, dir, n, 100); err != nil {
		return Measurement{}, err
	}
	m := Measurement{Ops: (n + 99) / 100, Events: n, Bytes: int64(n * EventSize), Elapsed: time.Since(start)}
	m.Extra = peakExtra(reset, base)
	return m, nil
}

func memoryReplay(ctx context.Context, t Target, n int) (Measurement, error) {
	dir, cleanup, err := t.NewDir()
	if err != nil {
		return Measurement{}, err
	}
	defer cleanup()
	if err := fill(ctx, t, dir, n, 100, eventstore.WithStateMachine(&countState{}), eventstore.WithSnapshotPolicy(eventstore.Never())); err != nil {
		return Measurement{}, err
	}
	reset, base := startPeak()
	sm := &countState{}
	start := time.Now()
	s, err := eventstore.Open(dir, t.options(dir, eventstore.WithStateMachine(sm), eventstore.WithSnapshotPolicy(eventstore.Never()))...)
	if err != nil {
		return Measurement{}, err
	}
	elapsed := time.Since(start)
	rep := s.LastRecovery()
	extra := peakExtra(reset, base)
	if err := s.Close(); err != nil {
		return Measurement{}, err
	}
	return Measurement{Ops: 1, Events: int(rep.EventsReplayed), Bytes: int64(rep.BytesReplayed), Elapsed: elapsed, Extra: extra}, nil
}

// startPeak returns the heap the process no longer needs to the system,
// resets the peak resident size to the current one, and returns whether the
// reset worked and the current resident size in bytes.
func startPeak() (bool, int64) {
	runtime.GC()
	debug.FreeOSMemory()
	reset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	return reset, ProcStatus("VmRSS")
}

func peakExtra(reset bool, base int64) map[string]float64 {
	const mib = 1 << 20
	r := 0.0
	if reset {
		r = 1
	}
	return map[string]float64{
		"peak-rss-mib": float64(ProcStatus("VmHWM")) / mib,
		"base-rss-mib": float64(base) / mib,
		"peak-reset":   r,
	}
}

// ProcStatus returns a "kB" field of /proc/self/status, such as "VmHWM"
// (the peak resident set size) or "VmRSS", in bytes; 0 when it cannot be
// read.
func ProcStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	prefix := []byte(field + ":")
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, prefix) {
			continue
		}
		fields := bytes.Fields(line[len(prefix):])
		if len(fields) == 0 {
			return 0
		}
		v, err := strconv.ParseInt(string(fields[0]), 10, 64)
		if err != nil {
			return 0
		}
		return v << 10
	}
	return 0
}
