package rocksdb_test

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/rocksdb"
	"github.com/stretchr/testify/require"
)

// leakCycles is the number of measured cycles of TestLeakCMemory. The
// default keeps `go test` fast; -rocksdb.leakcycles=1000000 runs the long
// version (make torture). See docs/reliability.md, "Leaks".
var leakCycles = flag.Int("rocksdb.leakcycles", 0, "Get+iterate+append cycles measured by TestLeakCMemory: 0 means 50000, or 20000 under the race detector (the long run uses 1000000)")

// The leak test's bound on RSS growth after warm-up: leakAllowance plus
// leakBytesPerCycle per cycle. A leak of one RocksDB object per cycle (a
// PinnableSlice, an iterator with its read options and bounds, a write batch:
// each at least 32 bytes and usually hundreds; NextBatch allocates nothing in C,
// but its iterator is counted like the others) grows the RSS by at least 32
// bytes per cycle: 32 MB over 1M cycles, 1.6 MB over the default 50k (640 kB
// over the 20k of a race build). The allowance covers the allocators' and
// RocksDB's own fluctuation (arenas, table readers of new files, the Go
// runtime).
const (
	leakAllowance      = 8 << 20
	leakBytesPerCycle  = 16
	leakWarmupCycles   = 60_000
	leakKeys           = 20_000 // key space: the store stays the same size
	leakValueSize      = 100
	leakSyncEveryCycle = 1000 // every 1000th append is a synced commit
)

// TestLeakCMemory runs Get, iterate (Next, then NextBatch) and append cycles against a RocksDB store
// after a warm-up and checks that the process's resident set (VmRSS) grows
// by less than leakAllowance + leakBytesPerCycle per cycle. Before each
// measurement the store is compacted (same RocksDB state every time) and the
// Go heap is collected and returned to the system, so what grows is the C
// heap: memory that RocksDB or the cgo glue allocated and did not free.
func TestLeakCMemory(t *testing.T) {
	if _, err := rss(); err != nil {
		t.Skipf("no VmRSS in /proc/self/status: %v", err)
	}
	cycles, warmup := *leakCycles, leakWarmupCycles
	if raceEnabled() {
		// The race detector's shadow memory counts in VmRSS and every
		// cycle is slower: a shorter run keeps the package fast.
		warmup = leakWarmupCycles / 2
		if cycles == 0 {
			cycles = 20_000
		}
	}
	if cycles == 0 {
		cycles = 50_000
	}
	kv, err := rocksdb.Engine{}.Open(t.TempDir(), backend.Options{Logger: discard(), Config: rocksdb.Options{
		// Small caches, so that the warm-up fills them: what grows after
		// it is not a cache filling up. A 4 MiB memtable (rather than the
		// 1 MiB minimum) keeps level-0 tables from piling up and stalling
		// writes.
		BlockCacheSize: 1 << 20, WriteBufferSize: 4 << 20,
	}})
	require.NoError(t, err)
	defer func() { require.NoError(t, kv.Close()) }()

	rng := rand.New(rand.NewPCG(1, 2))
	value := make([]byte, leakValueSize)
	b := kv.NewBatch()
	for i := range leakKeys {
		b.Set(leakKey(i), value)
	}
	require.NoError(t, b.Commit(true))
	b.Close()

	pairs := make([]backend.Pair, 3)
	cycle := func(i int) {
		k := rng.IntN(leakKeys)
		if _, found, err := kv.Get(leakKey(k)); err != nil || !found {
			t.Fatalf("cycle %d: Get: found=%v err=%v", i, found, err)
		}
		it, err := kv.NewIterator(backend.IterOptions{Lower: leakKey(k), Upper: leakKey(k + 8)})
		if err != nil {
			t.Fatalf("cycle %d: NewIterator: %v", i, err)
		}
		n := 0
		for it.Next() {
			n++
		}
		if err := it.Err(); err != nil || n == 0 {
			t.Fatalf("cycle %d: iterate: %d keys, err %v", i, n, err)
		}
		if err := it.Close(); err != nil {
			t.Fatalf("cycle %d: iterator Close: %v", i, err)
		}
		// The same range with NextBatch, a few pairs per call, mixed
		// with Next: its cgo path and its Go buffer.
		it, err = kv.NewIterator(backend.IterOptions{Lower: leakKey(k), Upper: leakKey(k + 8)})
		if err != nil {
			t.Fatalf("cycle %d: NewIterator: %v", i, err)
		}
		bi := it.(backend.BatchIterator)
		batched := 0
		for m := bi.NextBatch(pairs, 0); m > 0; m = bi.NextBatch(pairs, 0) {
			batched += m
			if it.Next() {
				batched++
			}
		}
		if err := it.Err(); err != nil || batched != n {
			t.Fatalf("cycle %d: NextBatch: %d keys, Next: %d keys, err %v", i, batched, n, err)
		}
		if err := it.Close(); err != nil {
			t.Fatalf("cycle %d: iterator Close: %v", i, err)
		}
		b := kv.NewBatch()
		value[0], value[1] = byte(i), byte(i>>8)
		b.Set(leakKey(rng.IntN(leakKeys)), value)
		if err := b.Commit(i%leakSyncEveryCycle == 0); err != nil {
			t.Fatalf("cycle %d: Commit: %v", i, err)
		}
		b.Close()
	}

	// Before each measurement, compact the store: the memtables are
	// flushed and the tables merged, so every measurement sees RocksDB in
	// the same state, and what differs is what was not freed.
	compacter, ok := kv.(backend.Compacter)
	require.True(t, ok, "the rocksdb engine implements backend.Compacter")
	measure := func() int64 {
		require.NoError(t, compacter.Compact())
		return settledRSS(t)
	}

	start := time.Now()
	for i := range warmup {
		cycle(i)
	}
	before := measure()
	peak := before
	for i := range cycles {
		cycle(i)
		if (i+1)%(max(cycles/10, 1)) == 0 {
			now := measure()
			peak = max(peak, now)
			t.Logf("after %d cycles: VmRSS %.1f MiB (%+.2f MiB)", i+1, mib(now), mib(now-before))
		}
	}
	after := measure()
	bound := int64(leakAllowance + leakBytesPerCycle*cycles)
	growth := after - before
	t.Logf("rocksdb C memory: %d warm-up + %d Get/iterate/append cycles in %v: VmRSS %.1f MiB after warm-up, %.1f MiB at the end (growth %+.2f MiB, %+.1f bytes/cycle), peak %.1f MiB; bound %.1f MiB",
		warmup, cycles, time.Since(start).Round(time.Millisecond), mib(before), mib(after), mib(growth), float64(growth)/float64(cycles), mib(peak), mib(bound))
	if buildSetting("-asan") == "true" {
		// AddressSanitizer keeps freed memory in quarantine (256 MiB by
		// default), so VmRSS grows without a leak; LeakSanitizer checks
		// what is unreachable when the binary exits instead.
		t.Logf("built with -asan: VmRSS not checked against the bound; LeakSanitizer reports leaks at exit")
		return
	}
	require.Less(t, growth, bound, "VmRSS grew by %d bytes over %d cycles: a leak of about %d bytes per cycle", growth, cycles, growth/int64(cycles))
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool { return buildSetting("-race") == "true" }

// buildSetting returns the value of a build setting of the test binary, such
// as "-race" or "-asan", "" when it is not set.
func buildSetting(key string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

func leakKey(i int) []byte { return fmt.Appendf(nil, "leak-%08d", i) }

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// settledRSS collects the Go heap, returns it to the system and reads VmRSS.
func settledRSS(t *testing.T) int64 {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	n, err := rss()
	require.NoError(t, err)
	return n
}

// rss reads VmRSS from /proc/self/status, in bytes.
func rss() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS line")
}
