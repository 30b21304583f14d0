package pebble_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	cpebble "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/pebble"
	"github.com/durablelog/eventstore/conformance"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// Pebble stops all of its goroutines in DB.Close, so no goroutine may be
// left once every test closed its stores.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBackend(t *testing.T) {
	conformance.RunBackend(t, conformance.Harness{Name: pebble.Name})
}

func TestKill9(t *testing.T) {
	conformance.RunCrash(t, conformance.Harness{Name: pebble.Name})
}

// crashableHarness runs the engine on a crashable in-memory file system
// shared by all the stores of a suite, so a reopen of the same dir finds the
// data, and a power cut keeps what was synced and, of the rest, a random
// half of the blocks and directory entries. Commits without sync are
// buffered (NoSyncBuffered), so that a power cut loses some.
func crashableHarness(seed uint64) conformance.Harness {
	var mu sync.Mutex
	memFS := vfs.NewCrashableMem()
	rng := rand.New(rand.NewPCG(seed, 2))
	return conformance.Harness{
		Name: pebble.Name,
		Config: func(testing.TB, string) any {
			mu.Lock()
			defer mu.Unlock()
			return pebble.Options{FS: memFS, NoSyncBuffered: true}
		},
		Volatile: true,
		PowerCut: func(testing.TB) {
			mu.Lock()
			defer mu.Unlock()
			memFS = memFS.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 50, RNG: rng})
		},
	}
}

// TestBackendMemFS runs the suite, power cuts included, on a crashable
// in-memory file system.
func TestBackendMemFS(t *testing.T) { conformance.RunBackend(t, crashableHarness(1)) }

// TestEventStoreMemFS runs the event-store suite, power cuts included, on a
// crashable in-memory file system.
func TestEventStoreMemFS(t *testing.T) { conformance.RunEventStore(t, crashableHarness(2)) }

// TestBackendNoSyncBuffered runs the suite with pebble.NoSync commits.
func TestBackendNoSyncBuffered(t *testing.T) {
	conformance.RunBackend(t, conformance.Harness{
		Name:   pebble.Name,
		Config: func(testing.TB, string) any { return &pebble.Options{NoSyncBuffered: true} },
	})
}

func open(t testing.TB, dir string, cfg any) backend.KV {
	t.Helper()
	kv, err := openErr(dir, cfg)
	require.NoError(t, err)
	return kv
}

func openErr(dir string, cfg any) (backend.KV, error) {
	return pebble.Engine{}.Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler), Config: cfg})
}

func put(t testing.TB, kv backend.KV, sync bool, kvs ...string) {
	t.Helper()
	b := kv.NewBatch()
	for i := 0; i+1 < len(kvs); i += 2 {
		b.Set([]byte(kvs[i]), []byte(kvs[i+1]))
	}
	require.NoError(t, b.Commit(sync))
}

func get(t testing.TB, kv backend.KV, key string) (string, bool) {
	t.Helper()
	v, ok, err := kv.Get([]byte(key))
	require.NoError(t, err)
	return string(v), ok
}

func TestRegistered(t *testing.T) {
	e, err := backend.Lookup(pebble.Name)
	require.NoError(t, err)
	require.IsType(t, pebble.Engine{}, e)
}

func TestConfigTypes(t *testing.T) {
	memFS := vfs.NewMem()
	for name, cfg := range map[string]any{
		"nil":        nil,
		"nil ptr":    (*pebble.Options)(nil),
		"value":      pebble.Options{FS: memFS},
		"pointer":    &pebble.Options{FS: memFS, CacheSize: 1 << 20, MemTableSize: 1 << 20, MaxOpenFiles: 100},
		"old format": pebble.Options{FS: memFS, FormatMajorVersion: cpebble.FormatMinSupported},
	} {
		t.Run(name, func(t *testing.T) {
			dir := "/" + strings.ReplaceAll(name, " ", "-")
			if cfg == nil || cfg == (*pebble.Options)(nil) {
				dir = t.TempDir()
			}
			kv := open(t, dir, cfg)
			put(t, kv, true, "k", "v")
			v, ok := get(t, kv, "k")
			require.True(t, ok)
			require.Equal(t, "v", v)
			require.NoError(t, kv.Close())
		})
	}
}

func TestConfigWrongType(t *testing.T) {
	for _, cfg := range []any{"fs=mem", cpebble.Options{}, &cpebble.Options{}, 42} {
		_, err := openErr(t.TempDir(), cfg)
		require.Error(t, err)
		require.Contains(t, err.Error(), fmt.Sprintf("%T", cfg))
		require.Contains(t, err.Error(), "pebble.Options")
	}
}

func TestOptionsValidation(t *testing.T) {
	tests := []struct {
		name string
		o    pebble.Options
		want string
	}{
		{"negative cache", pebble.Options{CacheSize: -1}, "CacheSize"},
		{"negative memtable", pebble.Options{MemTableSize: -1}, "MemTableSize"},
		{"huge memtable", pebble.Options{MemTableSize: 4 << 30}, "MemTableSize"},
		{"negative open files", pebble.Options{MaxOpenFiles: -1}, "MaxOpenFiles"},
		{"format too old", pebble.Options{FormatMajorVersion: cpebble.FormatMinSupported - 1}, "FormatMajorVersion"},
		{"format too new", pebble.Options{FormatMajorVersion: cpebble.FormatNewest + 1}, "FormatMajorVersion"},
		{"tune disables WAL", pebble.Options{Tune: func(o *cpebble.Options) { o.DisableWAL = true }}, "DisableWAL"},
		{"tune read-only", pebble.Options{Tune: func(o *cpebble.Options) { o.ReadOnly = true }}, "ReadOnly"},
		{"tune comparer", pebble.Options{Tune: func(o *cpebble.Options) {
			c := *cpebble.DefaultComparer
			c.Name = "reverse"
			o.Comparer = &c
		}}, "Comparer"},
		{"tune nil FS", pebble.Options{Tune: func(o *cpebble.Options) { o.FS = nil }}, "FS"},
		{"tune format", pebble.Options{Tune: func(o *cpebble.Options) { o.FormatMajorVersion = cpebble.FormatDefault }}, "FormatMajorVersion"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := openErr(dir, tc.o)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.True(t, strings.HasPrefix(err.Error(), "pebble: "), err.Error())
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Empty(t, entries, "a rejected Open must not create files")
		})
	}
}

func TestOptionsNotMutated(t *testing.T) {
	memFS := vfs.NewMem()
	var tuned cpebble.Options
	o := &pebble.Options{FS: memFS, Tune: func(po *cpebble.Options) { tuned = *po }}
	kv := open(t, "/db", o)
	defer kv.Close()

	require.Same(t, memFS, o.FS)
	require.Zero(t, o.CacheSize)
	require.Zero(t, o.MemTableSize)
	require.Zero(t, o.MaxOpenFiles)
	require.Equal(t, cpebble.FormatDefault, o.FormatMajorVersion)
	require.Nil(t, o.Logger)
	require.False(t, o.VerboseLogs)
	require.False(t, o.NoSyncBuffered)

	// Tune saw the filled-in defaults.
	require.Same(t, memFS, tuned.FS)
	require.EqualValues(t, pebble.DefaultCacheSize, tuned.CacheSize)
	require.EqualValues(t, pebble.DefaultMemTableSize, tuned.MemTableSize)
	require.EqualValues(t, pebble.DefaultMaxOpenFiles, tuned.MaxOpenFiles)
	require.Equal(t, cpebble.FormatNewest, tuned.FormatMajorVersion)
	require.NotNil(t, tuned.Logger)
	require.NotNil(t, tuned.EventListener)
	require.False(t, tuned.DisableWAL)
}

func TestTuneApplies(t *testing.T) {
	memFS := vfs.NewMem()
	var flushes int
	var mu sync.Mutex
	o := pebble.Options{FS: memFS, Tune: func(po *cpebble.Options) {
		l := cpebble.EventListener{FlushEnd: func(cpebble.FlushInfo) { mu.Lock(); flushes++; mu.Unlock() }}
		el := cpebble.TeeEventListener(*po.EventListener, l)
		po.EventListener = &el
	}}
	kv := open(t, "/db", o)
	put(t, kv, false, "a", "1")
	require.NoError(t, kv.(backend.Compacter).Compact())
	require.NoError(t, kv.Close())
	mu.Lock()
	defer mu.Unlock()
	require.Positive(t, flushes, "the EventListener set by Tune saw no flush")
}

// recorder is an slog.Handler that keeps the records it receives.
type recorder struct {
	mu      sync.Mutex
	level   slog.Level
	records []slog.Record
}

func (r *recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.level }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Clone())
	return nil
}
func (r *recorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &attrHandler{r: r, attrs: attrs}
}
func (r *recorder) WithGroup(string) slog.Handler { return r }

func (r *recorder) levels() map[slog.Level]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[slog.Level]int{}
	for _, rec := range r.records {
		m[rec.Level]++
	}
	return m
}

// attrHandler adds attributes to the records it passes to a recorder.
type attrHandler struct {
	r     *recorder
	attrs []slog.Attr
}

func (h *attrHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.r.Enabled(ctx, l) }
func (h *attrHandler) Handle(ctx context.Context, rec slog.Record) error {
	rec.AddAttrs(h.attrs...)
	return h.r.Handle(ctx, rec)
}
func (h *attrHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &attrHandler{r: h.r, attrs: append(slices.Clone(h.attrs), attrs...)}
}
func (h *attrHandler) WithGroup(string) slog.Handler { return h }

func TestLogsToSlog(t *testing.T) {
	run := func(t *testing.T, verbose bool, level slog.Level) *recorder {
		rec := &recorder{level: level}
		memFS := vfs.NewMem()
		kv, err := pebble.Engine{}.Open("/db", backend.Options{
			Logger: slog.New(rec),
			Config: pebble.Options{FS: memFS, VerboseLogs: verbose},
		})
		require.NoError(t, err)
		put(t, kv, true, "a", "1")
		require.NoError(t, kv.(backend.Compacter).Compact()) // logs a flush and a compaction
		require.NoError(t, kv.Close())
		return rec
	}
	t.Run("quiet by default", func(t *testing.T) {
		rec := run(t, false, slog.LevelInfo)
		require.Empty(t, rec.records, "pebble logged at Info or above without VerboseLogs")
		rec = run(t, false, slog.LevelDebug)
		require.Positive(t, rec.levels()[slog.LevelDebug])
	})
	t.Run("verbose", func(t *testing.T) {
		rec := run(t, true, slog.LevelInfo)
		require.Positive(t, rec.levels()[slog.LevelInfo])
		r := rec.records[0]
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
		require.Equal(t, "pebble", attrs["engine"])
		require.Equal(t, "/db", attrs["dir"])
	})
}

// countingLogger is a pebble.Logger that counts informational messages.
type countingLogger struct {
	mu    sync.Mutex
	infos int
}

func (l *countingLogger) Infof(string, ...any)         { l.mu.Lock(); l.infos++; l.mu.Unlock() }
func (l *countingLogger) Errorf(string, ...any)        {}
func (l *countingLogger) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }

func TestCustomLogger(t *testing.T) {
	l := &countingLogger{}
	kv := open(t, "/db", pebble.Options{FS: vfs.NewMem(), Logger: l})
	put(t, kv, true, "a", "1")
	require.NoError(t, kv.(backend.Compacter).Compact())
	require.NoError(t, kv.Close())
	l.mu.Lock()
	defer l.mu.Unlock()
	require.Positive(t, l.infos)
}

func TestNilSlogLogger(t *testing.T) {
	kv, err := pebble.Engine{}.Open("/db", backend.Options{Config: pebble.Options{FS: vfs.NewMem(), VerboseLogs: true}})
	require.NoError(t, err)
	put(t, kv, true, "a", "1")
	require.NoError(t, kv.Close())
}

func TestOpenRegularFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(path, []byte("not a store"), 0o600))
	_, err := openErr(path, nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), "not a directory")
	require.Contains(t, err.Error(), path)
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	kv := open(t, dir, nil)
	defer kv.Close()
	_, err := openErr(dir, nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), dir)
	require.NotErrorIs(t, err, backend.ErrCorrupt)
}

func TestCloseWithOpenIterator(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	put(t, kv, true, "a", "1")
	it, err := kv.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	err = kv.Close()
	require.ErrorContains(t, err, "iterators are still open")
	require.NotErrorIs(t, err, backend.ErrClosed)
	v, ok := get(t, kv, "a") // still open
	require.True(t, ok)
	require.Equal(t, "1", v)
	require.True(t, it.Next())
	require.NoError(t, it.Close())
	require.NoError(t, kv.Close())
}

func TestIteratorLifecycle(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	defer kv.Close()
	put(t, kv, true, "a", "1", "b", "2")
	it, err := kv.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	require.Nil(t, it.Key(), "Key before the first Next")
	require.Nil(t, it.Value(), "Value before the first Next")
	require.True(t, it.Next())
	require.Equal(t, "a", string(it.Key()))
	require.Equal(t, "1", string(it.Value()))
	require.True(t, it.Next())
	require.False(t, it.Next())
	require.False(t, it.Next(), "Next after the end")
	require.Nil(t, it.Key())
	require.Nil(t, it.Value())
	require.NoError(t, it.Err())
	require.NoError(t, it.Close())
	require.Error(t, it.Close(), "second Close")
	require.False(t, it.Next(), "Next after Close")
}

func TestIteratorBoundsCopied(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	defer kv.Close()
	put(t, kv, true, "a", "1", "b", "2", "c", "3")
	lower, upper := []byte("b"), []byte("c")
	it, err := kv.NewIterator(backend.IterOptions{Lower: lower, Upper: upper})
	require.NoError(t, err)
	defer it.Close()
	lower[0], upper[0] = 'a', 'z'
	var got []string
	for it.Next() {
		got = append(got, string(it.Key()))
	}
	require.Equal(t, []string{"b"}, got)
}

func TestBatchLifecycle(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	defer kv.Close()
	b := kv.NewBatch()
	require.NoError(t, b.Commit(true), "an empty batch commits")
	b = kv.NewBatch()
	b.Set([]byte("a"), []byte("1"))
	b.Delete([]byte("b"))
	require.Equal(t, 2, b.Len())
	require.NoError(t, b.Commit(false))
	err := b.Commit(false)
	require.ErrorContains(t, err, "already committed or closed")
	b.Close()
	b.Close()
	require.Panics(t, func() { b.Set([]byte("x"), nil) })
	require.Panics(t, func() { b.Delete([]byte("x")) })

	b = kv.NewBatch()
	b.Set([]byte("c"), []byte("3"))
	b.Close()
	require.Error(t, b.Commit(true), "Commit after Close")
	_, ok := get(t, kv, "c")
	require.False(t, ok)
}

func TestCapabilitiesAfterClose(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	require.NoError(t, kv.Close())
	require.ErrorIs(t, kv.(backend.Checkpointer).Checkpoint(t.TempDir()+"/cp"), backend.ErrClosed)
	require.ErrorIs(t, kv.(backend.Compacter).Compact(), backend.ErrClosed)
	require.NotEmpty(t, kv.(backend.Namer).EngineVersion())
}

func TestCheckpoint(t *testing.T) {
	for _, buffered := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoSyncBuffered=%v", buffered), func(t *testing.T) {
			base := t.TempDir()
			cfg := pebble.Options{NoSyncBuffered: buffered}
			kv := open(t, filepath.Join(base, "db"), cfg)
			defer kv.Close()
			put(t, kv, true, "synced", "1")
			put(t, kv, false, "unsynced", "2")
			cp := kv.(backend.Checkpointer)
			cpDir := filepath.Join(base, "cp")
			require.NoError(t, cp.Checkpoint(cpDir))
			put(t, kv, true, "after", "3") // not in the checkpoint

			err := cp.Checkpoint(cpDir)
			require.ErrorIs(t, err, fs.ErrExist)
			require.ErrorContains(t, err, "does not exist yet")

			ckv := open(t, cpDir, cfg)
			defer ckv.Close()
			v, ok := get(t, ckv, "synced")
			require.True(t, ok)
			require.Equal(t, "1", v)
			v, ok = get(t, ckv, "unsynced")
			require.True(t, ok, "a batch committed without sync is missing from the checkpoint")
			require.Equal(t, "2", v)
			_, ok = get(t, ckv, "after")
			require.False(t, ok)
		})
	}
}

func TestCheckpointError(t *testing.T) {
	dir := t.TempDir()
	kv := open(t, filepath.Join(dir, "db"), nil)
	defer kv.Close()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	err := kv.(backend.Checkpointer).Checkpoint(filepath.Join(file, "cp"))
	require.Error(t, err)
	require.ErrorContains(t, err, "checkpoint")
}

// sstFiles returns the sstables in dir of fs.
func sstFiles(t testing.TB, fs vfs.FS, dir string) []string {
	t.Helper()
	names, err := fs.List(dir)
	require.NoError(t, err)
	var out []string
	for _, n := range names {
		if strings.HasSuffix(n, ".sst") {
			out = append(out, fs.PathJoin(dir, n))
		}
	}
	return out
}

func TestCompact(t *testing.T) {
	memFS := vfs.NewMem()
	cfg := pebble.Options{FS: memFS}
	kv := open(t, "/db", cfg)
	c := kv.(backend.Compacter)
	require.NoError(t, c.Compact(), "Compact of an empty store")
	require.Empty(t, sstFiles(t, memFS, "/db"))

	put(t, kv, false, "only", "1")
	require.NoError(t, c.Compact(), "Compact of a single key")
	require.NotEmpty(t, sstFiles(t, memFS, "/db"), "Compact did not flush the memtable")

	// Write the keys in several flushes, so there are several sstables.
	for round := range 4 {
		b := kv.NewBatch()
		for i := range 500 {
			b.Set(fmt.Appendf(nil, "k%05d", i*4+round), bytes.Repeat([]byte{byte(round)}, 100))
		}
		require.NoError(t, b.Commit(false))
		require.NoError(t, kv.Sync())
		require.NoError(t, c.Compact())
	}
	b := kv.NewBatch()
	for i := range 2000 {
		if i%2 == 1 {
			b.Delete(fmt.Appendf(nil, "k%05d", i))
		}
	}
	b.Delete([]byte("only"))
	require.NoError(t, b.Commit(true))
	require.NoError(t, c.Compact())
	v, ok := get(t, kv, "k00002")
	require.True(t, ok)
	require.Equal(t, string(bytes.Repeat([]byte{2}, 100)), v)
	_, ok = get(t, kv, "k00003")
	require.False(t, ok)

	// Deleting everything and compacting leaves no sstable.
	b = kv.NewBatch()
	for i := range 2000 {
		b.Delete(fmt.Appendf(nil, "k%05d", i))
	}
	require.NoError(t, b.Commit(true))
	require.NoError(t, c.Compact())
	it, err := kv.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	require.False(t, it.Next())
	require.NoError(t, it.Close())
	// Close waits for the deletion of obsolete files.
	require.NoError(t, kv.Close())
	require.Empty(t, sstFiles(t, memFS, "/db"), "deleted keys survived Compact")
}

func TestEngineVersion(t *testing.T) {
	kv := open(t, "/db", pebble.Options{FS: vfs.NewMem()})
	defer kv.Close()
	v := kv.(backend.Namer).EngineVersion()
	require.Regexp(t, regexp.MustCompile(`^pebble v2\.\d+\.\d+\S* \(format major version \d+\)$`), v)
	require.Contains(t, v, fmt.Sprintf("(format major version %d)", uint64(cpebble.FormatNewest)))

	old := open(t, "/old", pebble.Options{FS: vfs.NewMem(), FormatMajorVersion: cpebble.FormatMinSupported})
	defer old.Close()
	require.Contains(t, old.(backend.Namer).EngineVersion(), fmt.Sprintf("(format major version %d)", uint64(cpebble.FormatMinSupported)))
}

// crashBatch commits batch i of a crash test: keys b<i>-0 .. b<i>-3.
func crashBatch(t *testing.T, kv backend.KV, i int, sync bool) {
	t.Helper()
	b := kv.NewBatch()
	for j := range 4 {
		b.Set(fmt.Appendf(nil, "b%04d-%d", i, j), fmt.Appendf(nil, "v%d", i))
	}
	require.NoError(t, b.Commit(sync))
}

// checkCrashBatches opens the crash clone and returns which of n batches it
// holds, failing when a batch is only partly present.
func checkCrashBatches(t *testing.T, clone vfs.FS, dir string, cfg pebble.Options, n int) []bool {
	t.Helper()
	cfg.FS = clone
	kv := open(t, dir, cfg)
	defer func() { require.NoError(t, kv.Close()) }()
	present := make([]bool, n)
	for i := range n {
		count := 0
		for j := range 4 {
			v, ok := get(t, kv, fmt.Sprintf("b%04d-%d", i, j))
			if ok {
				require.Equal(t, fmt.Sprintf("v%d", i), v)
				count++
			}
		}
		require.Contains(t, []int{0, 4}, count, "batch %d is partly present: %d of 4 keys", i, count)
		present[i] = count == 4
	}
	return present
}

// TestCrash commits batches with and without sync on a crashable in-memory
// file system, takes crash clones (the state a power loss could leave, with
// none or some of the unsynced writes) and opens them.
func TestCrash(t *testing.T) {
	const n = 300
	for _, buffered := range []bool{false, true} {
		for _, pct := range []int{0, 50, 100} {
			t.Run(fmt.Sprintf("NoSyncBuffered=%v/unsynced=%d%%", buffered, pct), func(t *testing.T) {
				memFS := vfs.NewCrashableMem()
				cfg := pebble.Options{FS: memFS, NoSyncBuffered: buffered, MemTableSize: 64 << 10}
				kv := open(t, "/db", cfg)
				synced := make([]bool, n)
				rng := rand.New(rand.NewPCG(uint64(pct), 1))
				for i := range n {
					synced[i] = rng.IntN(3) == 0
					crashBatch(t, kv, i, synced[i])
				}
				clone := memFS.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: pct, RNG: rng})
				require.NoError(t, kv.Close())

				present := checkCrashBatches(t, clone, "/db", cfg, n)
				for i := range n {
					if synced[i] || !buffered {
						require.True(t, present[i], "batch %d (sync=%v) lost in the crash", i, synced[i])
					}
					if i > 0 && present[i] {
						require.True(t, present[i-1], "batch %d survived the crash, batch %d before it did not", i, i-1)
					}
				}
			})
		}
	}
}

// TestCrashAfterSync checks that Sync makes batches committed without sync
// durable, also with NoSyncBuffered.
func TestCrashAfterSync(t *testing.T) {
	memFS := vfs.NewCrashableMem()
	cfg := pebble.Options{FS: memFS, NoSyncBuffered: true}
	kv := open(t, "/db", cfg)
	for i := range 50 {
		crashBatch(t, kv, i, false)
	}
	require.NoError(t, kv.Sync())
	clone := memFS.CrashClone(vfs.CrashCloneCfg{})
	require.NoError(t, kv.Close())
	for i, ok := range checkCrashBatches(t, clone, "/db", cfg, 50) {
		require.True(t, ok, "batch %d lost after Sync", i)
	}
}

// TestCrashReopenTwice reopens a crash clone, writes, crashes again.
func TestCrashReopenTwice(t *testing.T) {
	memFS := vfs.NewCrashableMem()
	cfg := pebble.Options{FS: memFS}
	kv := open(t, "/db", cfg)
	crashBatch(t, kv, 0, true)
	clone := memFS.CrashClone(vfs.CrashCloneCfg{})
	require.NoError(t, kv.Close())

	cfg.FS = clone
	kv = open(t, "/db", cfg)
	crashBatch(t, kv, 1, false)
	clone2 := clone.CrashClone(vfs.CrashCloneCfg{})
	require.NoError(t, kv.Close())
	require.Equal(t, []bool{true, true}, checkCrashBatches(t, clone2, "/db", cfg, 2))
}

// flip inverts n bytes of the file at path in fs, from offset off.
func flip(t *testing.T, fs vfs.FS, path string, off, n int) {
	t.Helper()
	f, err := fs.OpenReadWrite(path, vfs.WriteCategoryUnspecified)
	require.NoError(t, err)
	defer f.Close()
	buf := make([]byte, n)
	_, err = f.ReadAt(buf, int64(off))
	require.NoError(t, err)
	for i := range buf {
		buf[i] ^= 0xff
	}
	_, err = f.WriteAt(buf, int64(off))
	require.NoError(t, err)
	require.NoError(t, f.Sync())
}

func TestCorruptSSTable(t *testing.T) {
	memFS := vfs.NewMem()
	cfg := pebble.Options{FS: memFS}
	kv := open(t, "/db", cfg)
	b := kv.NewBatch()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 1000 {
		v := make([]byte, 100)
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		b.Set(fmt.Appendf(nil, "k%05d", i), v)
	}
	require.NoError(t, b.Commit(true))
	require.NoError(t, kv.(backend.Compacter).Compact())
	require.NoError(t, kv.Close())

	ssts := sstFiles(t, memFS, "/db")
	require.Len(t, ssts, 1)
	flip(t, memFS, ssts[0], 100, 16) // inside the first data block

	kv, err := openErr("/db", cfg)
	if err != nil {
		require.ErrorIs(t, err, backend.ErrCorrupt)
		require.ErrorContains(t, err, "/db")
		return
	}
	defer kv.Close()
	_, _, err = kv.Get([]byte("k00000"))
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, ssts[0], "the error does not name the damaged file")
	require.True(t, cpebble.IsCorruptionError(err), "the error does not wrap Pebble's")

	it, err := kv.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	for it.Next() {
	}
	err = it.Err()
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, "/db")
	require.NoError(t, it.Close(), "Close repeats an error Err already returned")

	it, err = kv.NewIterator(backend.IterOptions{Reverse: true})
	require.NoError(t, err)
	for it.Next() {
	}
	require.ErrorIs(t, it.Close(), backend.ErrCorrupt, "Close returns an error Err did not return")
}

func TestCorruptWAL(t *testing.T) {
	memFS := vfs.NewMem()
	cfg := pebble.Options{FS: memFS}
	kv := open(t, "/db", cfg)
	// Pebble tells a damaged record from a torn write at the end of the WAL
	// by the records in later 32 KiB blocks: write several blocks.
	for i := range 2000 {
		crashBatch(t, kv, i, true)
	}
	require.NoError(t, kv.Close())
	names, err := memFS.List("/db")
	require.NoError(t, err)
	var wal string
	for _, n := range names {
		if strings.HasSuffix(n, ".log") {
			wal = "/db/" + n
		}
	}
	require.NotEmpty(t, wal)
	flip(t, memFS, wal, 100, 8) // in the first block; later records are intact

	_, err = openErr("/db", cfg)
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, "/db")
}

// TestFatalCommitError makes the WAL fail: Commit must return an error, not
// crash the process, and the store must refuse further writes.
func TestFatalCommitError(t *testing.T) {
	memFS := vfs.NewMem()
	toggle := &errorfs.Toggle{Injector: errorfs.InjectorFunc(func(op errorfs.Op) error {
		if strings.HasSuffix(op.Path, ".log") && (op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData || op.Kind == errorfs.OpFileWrite) {
			return errorfs.ErrInjected
		}
		return nil
	})}
	rec := &recorder{level: slog.LevelError}
	kv, err := pebble.Engine{}.Open("/db", backend.Options{
		Logger: slog.New(rec),
		Config: pebble.Options{FS: errorfs.Wrap(memFS, toggle)},
	})
	require.NoError(t, err)
	put(t, kv, true, "a", "1")
	toggle.On()

	b := kv.NewBatch()
	b.Set([]byte("b"), []byte("2"))
	err = b.Commit(true)
	require.ErrorIs(t, err, errorfs.ErrInjected)
	require.ErrorContains(t, err, "reopen")

	b = kv.NewBatch()
	b.Set([]byte("c"), []byte("3"))
	err = b.Commit(false)
	require.ErrorContains(t, err, "accepts no more writes")
	require.ErrorIs(t, err, errorfs.ErrInjected)
	require.ErrorContains(t, kv.Sync(), "accepts no more writes")
	require.Positive(t, rec.levels()[slog.LevelError], "the fatal error was not logged")

	v, ok := get(t, kv, "a")
	require.True(t, ok)
	require.Equal(t, "1", v)

	toggle.Off()
	require.ErrorContains(t, kv.Close(), "accepts no more writes")
	require.ErrorIs(t, kv.Close(), backend.ErrClosed)
}

// TestFatalSyncError is TestFatalCommitError with the failure in Sync.
func TestFatalSyncError(t *testing.T) {
	memFS := vfs.NewMem()
	toggle := &errorfs.Toggle{Injector: errorfs.InjectorFunc(func(op errorfs.Op) error {
		if strings.HasSuffix(op.Path, ".log") && op.Kind != errorfs.OpFileClose {
			return errorfs.ErrInjected
		}
		return nil
	})}
	kv := open(t, "/db", pebble.Options{FS: errorfs.Wrap(memFS, toggle), NoSyncBuffered: true})
	put(t, kv, false, "a", "1")
	toggle.On()
	require.ErrorContains(t, kv.Sync(), "injected error")
	b := kv.NewBatch()
	b.Set([]byte("b"), []byte("2"))
	require.ErrorContains(t, b.Commit(true), "accepts no more writes")
	toggle.Off()
	require.Error(t, kv.Close())
}

func TestErrorsWrapped(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	require.NoError(t, kv.Close())
	_, _, err := kv.Get([]byte("a"))
	require.True(t, errors.Is(err, backend.ErrClosed))
	require.True(t, strings.HasPrefix(err.Error(), "pebble: "), err.Error())
}

func TestEventStore(t *testing.T) {
	conformance.RunEventStore(t, conformance.Harness{Name: pebble.Name})
}
