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
// default keeps `go test` fast; `make leak` (or -rocksdb.leakcycles=1000000)
// runs the long version.
var leakCycles = flag.Int("rocksdb.leakcycles", 50_000, "Get+iterate+append cycles measured by TestLeakCMemory (the long run uses 1000000)")

// The leak test's bounds on RSS growth after warm-up, in bytes. A leak of one
// RocksDB object per cycle (a PinnableSlice, an iterator with its read
// options and bounds, a write batch: each at least 32 bytes and usually
// hundreds) grows the RSS by at least 32 bytes per cycle, 32 MB over 1M
// cycles, 1.6 MB over the default 50k: the bound is a fixed allowance for
// the allocators' and RocksDB's own fluctuation (memtable switches, table
// readers of new files, the Go heap) plus 16 bytes per cycle.
const (
	leakAllowance      = 8 << 20
	leakBytesPerCycle  = 16
	leakWarmupCycles   = 60_000
	leakKeys           = 20_000 // key space: the store stays the same size
	leakValueSize      = 100
	leakSyncEveryCycle = 1000 // every 1000th append is a synced commit
)

// TestLeakCMemory runs Get, iterate and append cycles against a RocksDB store
// after a warm-up and checks that the process's resident set (VmRSS) grows
// by less than leakAllowance + leakBytesPerCycle per cycle. The Go heap is
// collected and returned to the system before each measurement, so what
// grows is the C heap: memory that RocksDB or the cgo glue allocated and did
// not free.
func TestLeakCMemory(t *testing.T) {
	if _, err := rss(); err != nil {
		t.Skipf("no VmRSS in /proc/self/status: %v", err)
	}
	cycles := *leakCycles
	kv, err := rocksdb.Engine{}.Open(t.TempDir(), backend.Options{Logger: discard(), Config: rocksdb.Options{
		// Small caches, so that the warm-up fills them: what grows after
		// it is not a cache filling up.
		BlockCacheSize: 1 << 20, WriteBufferSize: 1 << 20,
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
		b := kv.NewBatch()
		value[0], value[1] = byte(i), byte(i>>8)
		b.Set(leakKey(rng.IntN(leakKeys)), value)
		if err := b.Commit(i%leakSyncEveryCycle == 0); err != nil {
			t.Fatalf("cycle %d: Commit: %v", i, err)
		}
		b.Close()
	}

	start := time.Now()
	for i := range leakWarmupCycles {
		cycle(i)
	}
	before := settledRSS(t)
	peak := before
	for i := range cycles {
		cycle(i)
		if (i+1)%(max(cycles/10, 1)) == 0 {
			now := settledRSS(t)
			peak = max(peak, now)
			t.Logf("after %d cycles: VmRSS %.1f MiB (%+.2f MiB)", i+1, mib(now), mib(now-before))
		}
	}
	after := settledRSS(t)
	bound := int64(leakAllowance + leakBytesPerCycle*cycles)
	growth := after - before
	t.Logf("rocksdb C memory: %d warm-up + %d Get/iterate/append cycles in %v: VmRSS %.1f MiB after warm-up, %.1f MiB at the end (growth %+.2f MiB, %+.1f bytes/cycle), peak %.1f MiB; bound %.1f MiB",
		leakWarmupCycles, cycles, time.Since(start).Round(time.Millisecond), mib(before), mib(after), mib(growth), float64(growth)/float64(cycles), mib(peak), mib(bound))
	require.Less(t, growth, bound, "VmRSS grew by %d bytes over %d cycles: a leak of about %d bytes per cycle", growth, cycles, growth/int64(cycles))
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
