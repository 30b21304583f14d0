package badger_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/badger"
	"github.com/durablelog/eventstore/conformance"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// Badger's goroutines (flusher, compactors, write loop, watermarks, ristretto
// caches) all stop in DB.Close. Two of them outlive a badger.Open that fails
// after starting them, as it does for a table missing from the directory
// (TestMissingTableFailsOpen with DisableVerifyOnOpen): badger v4.9.6's
// DB.cleanup (db.go:494-517) neither signals closers.cacheHealth, which runs
// DB.monitorCache (started at db.go:322), nor releases the z.AllocatorPool
// whose freeupAllocators goroutine NewAllocatorPool started (db.go:261,
// ristretto z/allocator.go:311). Nothing outside badger can stop them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/dgraph-io/badger/v4.(*DB).monitorCache"),
		goleak.IgnoreTopFunction("github.com/dgraph-io/ristretto/v2/z.(*AllocatorPool).freeupAllocators"),
	)
}

var harness = conformance.Harness{Name: badger.Name}

func TestBackend(t *testing.T) { conformance.RunBackend(t, harness) }

func TestKill9(t *testing.T) { conformance.RunCrash(t, harness) }

// small keeps stores small in tests: a 1 MiB memtable flushes early, and
// 1 MiB value-log files rotate early.
var small = badger.Options{MemTableSize: 1 << 20, ValueLogFileSize: 1 << 20}

func open(t *testing.T, dir string, cfg any) backend.KV {
	t.Helper()
	kv, err := badger.Engine{}.Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler), Config: cfg})
	require.NoError(t, err)
	return kv
}

func openErr(dir string, cfg any) error {
	kv, err := badger.Engine{}.Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler), Config: cfg})
	if err == nil {
		_ = kv.Close()
		return errors.New("Open succeeded")
	}
	return err
}

func commit(t *testing.T, kv backend.KV, sync bool, kvs ...string) {
	t.Helper()
	b := kv.NewBatch()
	for i := 0; i+1 < len(kvs); i += 2 {
		b.Set([]byte(kvs[i]), []byte(kvs[i+1]))
	}
	require.NoError(t, b.Commit(sync))
}

func get(t *testing.T, kv backend.KV, key string) (string, bool) {
	t.Helper()
	v, ok, err := kv.Get([]byte(key))
	require.NoError(t, err)
	return string(v), ok
}

func count(t *testing.T, kv backend.KV) int {
	t.Helper()
	it, err := kv.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	n := 0
	for it.Next() {
		n++
	}
	require.NoError(t, it.Err())
	require.NoError(t, it.Close())
	return n
}

func TestRegistered(t *testing.T) {
	e, err := backend.Lookup("badger")
	require.NoError(t, err)
	require.Equal(t, badger.Engine{}, e)
}

func TestDefaultOptions(t *testing.T) {
	o := badger.DefaultOptions()
	require.Equal(t, badger.Options{
		MemTableSize:      64 << 20,
		NumMemtables:      3,
		ValueThreshold:    1 << 20,
		ValueLogFileSize:  256 << 20,
		BlockCacheSize:    16 << 20,
		IndexCacheSize:    0,
		NumVersionsToKeep: 1,
		Compression:       badger.CompressionSnappy,
	}, o)
	maxBytes, maxWrites, err := badger.Options{}.BatchLimits()
	require.NoError(t, err)
	require.Equal(t, int64(10066329), maxBytes)
	require.Equal(t, int64(104857), maxWrites)

	// A small memtable lowers the default value threshold to the batch limit.
	o2 := badger.Options{MemTableSize: 2 << 20}
	maxBytes, _, err = o2.BatchLimits()
	require.NoError(t, err)
	kv := open(t, t.TempDir(), o2)
	defer kv.Close()
	require.Equal(t, maxBytes, kv.(interface{ MaxBatchSize() int64 }).MaxBatchSize())
}

func TestOptionsValidation(t *testing.T) {
	for _, tc := range []struct {
		o    badger.Options
		want string
	}{
		{badger.Options{MemTableSize: 1 << 10}, "MemTableSize"},
		{badger.Options{MemTableSize: 2 << 30}, "MemTableSize"},
		{badger.Options{NumMemtables: -1}, "NumMemtables"},
		{badger.Options{ValueThreshold: -1}, "ValueThreshold"},
		{badger.Options{ValueThreshold: 2 << 20}, "ValueThreshold"},
		{badger.Options{MemTableSize: 1 << 20, ValueThreshold: 1 << 20}, "ValueThreshold"},
		{badger.Options{ValueLogFileSize: 1 << 10}, "ValueLogFileSize"},
		{badger.Options{ValueLogFileSize: 2 << 30}, "ValueLogFileSize"},
		{badger.Options{IndexCacheSize: -1}, "IndexCacheSize"},
		{badger.Options{NumVersionsToKeep: -2}, "NumVersionsToKeep"},
		{badger.Options{Compression: 9}, "Compression"},
		{badger.Options{Compression: -1}, "Compression"},
		{badger.Options{BlockCacheSize: -1}, "BlockCacheSize"},
		{badger.Options{BlockCacheSize: -1, Compression: badger.CompressionZSTD}, "CompressionNone"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			dir := t.TempDir()
			err := openErr(dir, tc.o)
			require.ErrorContains(t, err, "badger: invalid Options")
			require.ErrorContains(t, err, tc.want)
			_, _, err = tc.o.BatchLimits()
			require.ErrorContains(t, err, tc.want)
			entries, rerr := os.ReadDir(dir)
			require.NoError(t, rerr)
			require.Empty(t, entries, "a rejected Open must not create files")
		})
	}
}

func TestOptionsConfigTypes(t *testing.T) {
	for _, cfg := range []any{nil, badger.Options{}, &badger.Options{}, (*badger.Options)(nil),
		badger.Options{Compression: badger.CompressionNone, BlockCacheSize: -1, IndexCacheSize: 1 << 20},
		badger.Options{Compression: badger.CompressionZSTD, DisableBlockChecksums: true, DisableValueChecksums: true, DisableVerifyOnOpen: true},
	} {
		t.Run(fmt.Sprintf("%T", cfg), func(t *testing.T) {
			dir := t.TempDir()
			kv := open(t, dir, cfg)
			commit(t, kv, true, "k", "v")
			require.NoError(t, kv.Close())
			kv = open(t, dir, cfg)
			v, ok := get(t, kv, "k")
			require.True(t, ok)
			require.Equal(t, "v", v)
			require.NoError(t, kv.Close())
		})
	}
	err := openErr(t.TempDir(), map[string]int{"MemTableSize": 1})
	require.ErrorContains(t, err, "unsupported Config of type map[string]int")
	require.ErrorContains(t, err, "badger.Options")
}

func TestOpenDoesNotMutateOptions(t *testing.T) {
	o := &badger.Options{NumMemtables: 2}
	kv := open(t, t.TempDir(), o)
	require.NoError(t, kv.Close())
	require.Equal(t, badger.Options{NumMemtables: 2}, *o)
}

func TestCompressionString(t *testing.T) {
	require.Equal(t, "default", badger.CompressionDefault.String())
	require.Equal(t, "none", badger.CompressionNone.String())
	require.Equal(t, "snappy", badger.CompressionSnappy.String())
	require.Equal(t, "zstd", badger.CompressionZSTD.String())
	require.Equal(t, "Compression(7)", badger.Compression(7).String())
}

func TestOpenRegularFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(path, []byte("not a store"), 0o600))
	err := openErr(path, nil)
	require.ErrorContains(t, err, "badger: open "+path+": not a directory")
	data, rerr := os.ReadFile(path)
	require.NoError(t, rerr)
	require.Equal(t, "not a store", string(data))
}

func TestOpenTwiceFails(t *testing.T) {
	dir := t.TempDir()
	kv := open(t, dir, small)
	defer kv.Close()
	err := openErr(dir, small)
	require.ErrorContains(t, err, "badger: open the store in "+dir)
	require.ErrorContains(t, err, "lock")
}

func TestOpenMissingDirCreatesIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	kv := open(t, dir, small)
	commit(t, kv, true, "a", "1")
	require.NoError(t, kv.Close())
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	require.True(t, fi.IsDir())
}

// A batch too large for one badger transaction fails as a whole with an
// error naming the limit, and writes nothing.
func TestBatchTooLargeWritesNothing(t *testing.T) {
	dir := t.TempDir()
	kv := open(t, dir, small)
	maxBytes, maxWrites, err := small.BatchLimits()
	require.NoError(t, err)
	sized := kv.(interface {
		MaxBatchSize() int64
		MaxBatchCount() int64
	})
	require.Equal(t, maxBytes, sized.MaxBatchSize())
	require.Equal(t, maxWrites, sized.MaxBatchCount())

	t.Run("bytes", func(t *testing.T) {
		b := kv.NewBatch()
		val := bytes.Repeat([]byte("x"), 10<<10) // inline: below ValueThreshold
		n := int(maxBytes/int64(len(val))) + 1
		for i := range n {
			b.Set(fmt.Appendf(nil, "big%04d", i), val)
		}
		err := b.Commit(true)
		require.ErrorIs(t, err, bdg.ErrTxnTooBig)
		require.ErrorContains(t, err, fmt.Sprintf("batch of %d writes", n))
		require.ErrorContains(t, err, fmt.Sprintf("the limits are %d bytes and %d writes", maxBytes, maxWrites))
		require.ErrorContains(t, err, "nothing was written")
	})
	t.Run("writes", func(t *testing.T) {
		b := kv.NewBatch()
		for i := range maxWrites {
			b.Set(fmt.Appendf(nil, "many%06d", i), nil)
		}
		require.ErrorIs(t, b.Commit(false), bdg.ErrTxnTooBig)
	})
	t.Run("justBelow", func(t *testing.T) {
		b := kv.NewBatch()
		for i := range maxWrites - 2 {
			b.Set(fmt.Appendf(nil, "fit%06d", i), nil)
		}
		require.NoError(t, b.Commit(false))
	})
	require.Equal(t, int(maxWrites-2), count(t, kv))
	require.NoError(t, kv.Close())

	// Nothing of the failed batches reappears after a reopen either.
	kv = open(t, dir, small)
	defer kv.Close()
	_, ok := get(t, kv, "big0000")
	require.False(t, ok)
	_, ok = get(t, kv, "many000000")
	require.False(t, ok)
	require.Equal(t, int(maxWrites-2), count(t, kv))
}

func TestInvalidWrites(t *testing.T) {
	kv := open(t, t.TempDir(), small)
	defer kv.Close()
	for name, tc := range map[string]struct {
		key, value []byte
		want       string
	}{
		"emptyKey":   {nil, []byte("v"), "empty key"},
		"longKey":    {bytes.Repeat([]byte("k"), 65000), nil, "limits keys to 64999 bytes"},
		"largeValue": {[]byte("k"), make([]byte, 1<<20+1), "Options.ValueLogFileSize"},
	} {
		t.Run(name, func(t *testing.T) {
			b := kv.NewBatch()
			b.Set([]byte("first"), []byte("1"))
			b.Set(tc.key, tc.value)
			require.ErrorContains(t, b.Commit(true), tc.want)
			_, ok := get(t, kv, "first")
			require.False(t, ok, "a rejected batch was partly applied")
		})
	}
	// The longest key that fits, and a value at the limit, are accepted.
	b := kv.NewBatch()
	b.Set(bytes.Repeat([]byte("k"), 64999), []byte("v"))
	require.NoError(t, b.Commit(true))
	b = kv.NewBatch()
	b.Set([]byte("big"), make([]byte, 1<<20-1<<10))
	require.NoError(t, b.Commit(true))
}

// Keys in badger's reserved "!badger!" namespace are ordinary keys here.
func TestReservedLookingKeys(t *testing.T) {
	dir := t.TempDir()
	kv := open(t, dir, small)
	commit(t, kv, true, "!badger!head", "1", "!badger!txn", "2", "a", "3")
	require.NoError(t, kv.Close())
	kv = open(t, dir, small)
	defer kv.Close()
	v, ok := get(t, kv, "!badger!txn")
	require.True(t, ok)
	require.Equal(t, "2", v)
	it, err := kv.NewIterator(backend.IterOptions{Reverse: true})
	require.NoError(t, err)
	var keys []string
	for it.Next() {
		keys = append(keys, string(it.Key()))
	}
	require.NoError(t, it.Close())
	require.Equal(t, []string{"a", "!badger!txn", "!badger!head"}, keys)
}

func TestBatchLifecycle(t *testing.T) {
	kv := open(t, t.TempDir(), small)
	defer kv.Close()
	b := kv.NewBatch()
	b.Set([]byte("a"), []byte("1"))
	require.NoError(t, b.Commit(false))
	b.Set([]byte("b"), []byte("2")) // ignored: the batch is released
	b.Delete([]byte("a"))
	require.Equal(t, 0, b.Len())
	require.ErrorContains(t, b.Commit(true), "already committed")
	b.Close()
	_, ok := get(t, kv, "b")
	require.False(t, ok)
	v, ok := get(t, kv, "a")
	require.True(t, ok)
	require.Equal(t, "1", v)

	closed := kv.NewBatch()
	closed.Set([]byte("c"), []byte("3"))
	closed.Close()
	require.ErrorContains(t, closed.Commit(false), "already committed or closed")

	// An empty batch commits nothing; with sync it syncs the store.
	require.NoError(t, kv.NewBatch().Commit(true))
	require.NoError(t, kv.NewBatch().Commit(false))
}

// Values of ValueThreshold bytes or more live in the value log; they must
// round-trip through Get, iterators and a reopen, mixed with inline values
// and sync and non-sync commits.
func TestValueLogValues(t *testing.T) {
	dir := t.TempDir()
	cfg := badger.Options{MemTableSize: 1 << 20, ValueLogFileSize: 1 << 20, ValueThreshold: 100}
	kv := open(t, dir, cfg)
	want := map[string][]byte{}
	for i := range 300 {
		b := kv.NewBatch()
		k := fmt.Sprintf("v%03d", i)
		v := bytes.Repeat([]byte{byte(i)}, 50+i*40) // from inline to value log
		b.Set([]byte(k), v)
		want[k] = v
		require.NoError(t, b.Commit(i%7 == 0))
	}
	require.NoError(t, kv.Sync())
	check := func(kv backend.KV) {
		for k, v := range want {
			got, ok, err := kv.Get([]byte(k))
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, v, got, k)
		}
		it, err := kv.NewIterator(backend.IterOptions{Lower: []byte("v100"), Upper: []byte("v200")})
		require.NoError(t, err)
		n := 0
		for it.Next() {
			require.Equal(t, want[string(it.Key())], it.Value())
			n++
		}
		require.NoError(t, it.Close())
		require.Equal(t, 100, n)
	}
	check(kv)
	vlogs, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	require.NoError(t, err)
	require.Greater(t, len(vlogs), 1, "expected value-log rotations")
	require.NoError(t, kv.Close())
	kv = open(t, dir, cfg)
	defer kv.Close()
	check(kv)
}

// Many non-sync commits with a small memtable leave full memtables waiting
// for their flush, which Sync must cover as well; the data must survive.
func TestSyncAfterMemtableRotations(t *testing.T) {
	dir := t.TempDir()
	cfg := badger.Options{MemTableSize: 1 << 20, ValueLogFileSize: 1 << 20, NumMemtables: 5}
	kv := open(t, dir, cfg)
	val := bytes.Repeat([]byte("r"), 1000)
	for i := range 40 {
		b := kv.NewBatch()
		for j := range 100 {
			b.Set(fmt.Appendf(nil, "r%02d-%03d", i, j), val)
		}
		require.NoError(t, b.Commit(false))
	}
	require.NoError(t, kv.Sync())
	commit(t, kv, true, "last", "1")
	require.NoError(t, kv.Close())
	kv = open(t, dir, cfg)
	defer kv.Close()
	require.Equal(t, 4001, count(t, kv))
}

func TestCompact(t *testing.T) {
	dir := t.TempDir()
	cfg := badger.Options{MemTableSize: 1 << 20, ValueLogFileSize: 1 << 20, ValueThreshold: 1 << 10}
	kv := open(t, dir, cfg)
	val := bytes.Repeat([]byte("c"), 4<<10) // in the value log
	for round := range 3 {
		for i := range 10 {
			b := kv.NewBatch()
			for j := range 50 {
				k := fmt.Appendf(nil, "c%02d-%02d", i, j)
				if round == 2 && j%2 == 1 {
					b.Delete(k)
				} else {
					b.Set(k, val)
				}
			}
			require.NoError(t, b.Commit(false))
		}
	}
	require.NoError(t, kv.Close()) // flushes the memtables to tables
	before := vlogBytes(t, dir)

	kv = open(t, dir, cfg)
	c, ok := kv.(backend.Compacter)
	require.True(t, ok)
	require.NoError(t, c.Compact())
	require.Equal(t, 250, count(t, kv))
	v, ok := get(t, kv, "c05-04")
	require.True(t, ok)
	require.Equal(t, string(val), v)
	_, ok = get(t, kv, "c05-05")
	require.False(t, ok)
	require.NoError(t, kv.Close())

	after := vlogBytes(t, dir)
	require.Less(t, after, before/2, "value-log GC reclaimed nothing")

	kv = open(t, dir, cfg)
	require.Equal(t, 250, count(t, kv))
	require.NoError(t, kv.Close())
	require.ErrorIs(t, c.Compact(), backend.ErrClosed)
}

func vlogBytes(t *testing.T, dir string) int64 {
	t.Helper()
	vlogs, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	require.NoError(t, err)
	var n int64
	for _, p := range vlogs {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		n += fi.Size()
	}
	return n
}

func TestEngineVersion(t *testing.T) {
	kv := open(t, t.TempDir(), small)
	defer kv.Close()
	n, ok := kv.(backend.Namer)
	require.True(t, ok)
	// Test binaries carry no module versions: the tested version is reported.
	require.Equal(t, "badger v4.9.6", n.EngineVersion())
}

// writeTables writes enough keys to get tables on disk, and closes the store.
func writeTables(t *testing.T, dir string, cfg badger.Options) {
	t.Helper()
	kv := open(t, dir, cfg)
	for i := range 20 {
		b := kv.NewBatch()
		for j := range 1000 {
			b.Set(fmt.Appendf(nil, "key%02d%04d", i, j), fmt.Appendf(nil, "value %d %d %s", i, j, strings.Repeat("p", 40)))
		}
		require.NoError(t, b.Commit(false))
	}
	require.NoError(t, kv.Close())
}

func flipMiddle(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	for i := range 16 {
		data[len(data)/2+i] ^= 0xff
	}
	require.NoError(t, os.WriteFile(path, data, 0o600))
}

func TestCorruptTableFailsOpen(t *testing.T) {
	for _, c := range []badger.Compression{badger.CompressionSnappy, badger.CompressionNone, badger.CompressionZSTD} {
		t.Run(c.String(), func(t *testing.T) {
			dir := t.TempDir()
			cfg := badger.Options{Compression: c}
			writeTables(t, dir, cfg)
			ssts, err := filepath.Glob(filepath.Join(dir, "*.sst"))
			require.NoError(t, err)
			require.NotEmpty(t, ssts)
			flipMiddle(t, ssts[0])

			_, err = badger.Engine{}.Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler), Config: cfg})
			require.ErrorIs(t, err, backend.ErrCorrupt)
			require.ErrorContains(t, err, filepath.Base(ssts[0]))
			require.ErrorContains(t, err, dir)
		})
	}
}

func TestCorruptManifestFailsOpen(t *testing.T) {
	dir := t.TempDir()
	writeTables(t, dir, small)
	flipMiddle(t, filepath.Join(dir, "MANIFEST"))
	err := openErr(dir, small)
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, dir)

	// Without the verification on open, badger reports it itself.
	cfg := small
	cfg.DisableVerifyOnOpen = true
	err = openErr(dir, cfg)
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, dir)
}

func TestMissingTableFailsOpen(t *testing.T) {
	dir := t.TempDir()
	writeTables(t, dir, small)
	ssts, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	require.NoError(t, err)
	require.NotEmpty(t, ssts)
	require.NoError(t, os.Remove(ssts[0]))
	err = openErr(dir, small)
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, "missing")

	cfg := small
	cfg.DisableVerifyOnOpen = true
	err = openErr(dir, cfg)
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, "file does not exist for table")
}

// A damaged value in the value log is reported by the read, wrapping
// ErrCorrupt.
func TestCorruptValueLogValue(t *testing.T) {
	dir := t.TempDir()
	cfg := badger.Options{MemTableSize: 1 << 20, ValueThreshold: 100}
	kv := open(t, dir, cfg)
	val := bytes.Repeat([]byte("v"), 64<<10)
	commit(t, kv, true, "big", string(val))
	require.NoError(t, kv.Close())
	// Reopen and close once so that the value's file is no longer the newest
	// value-log file, which badger truncates at a damaged entry on open.
	kv = open(t, dir, cfg)
	require.NoError(t, kv.Close())

	vlogs, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	require.NoError(t, err)
	var hit bool
	for _, p := range vlogs {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		if i := bytes.Index(data, val[:1024]); i >= 0 {
			data[i+1000] ^= 0xff
			require.NoError(t, os.WriteFile(p, data, 0o600))
			hit = true
		}
	}
	require.True(t, hit, "value not found in the value log")

	kv = open(t, dir, cfg)
	defer kv.Close()
	_, _, err = kv.Get([]byte("big"))
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, dir)
	it, err := kv.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	require.False(t, it.Next())
	require.ErrorIs(t, it.Err(), backend.ErrCorrupt)
	require.NoError(t, it.Close(), "Close must not repeat an error Err reported")

	it, err = kv.NewIterator(backend.IterOptions{Reverse: true})
	require.NoError(t, err)
	require.False(t, it.Next())
	require.ErrorIs(t, it.Close(), backend.ErrCorrupt, "Close must return an error Err did not report")
}

func TestIteratorAfterStoreClose(t *testing.T) {
	kv := open(t, t.TempDir(), small)
	commit(t, kv, true, "a", "1", "b", "2")
	it, err := kv.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	require.True(t, it.Next())
	require.Equal(t, "a", string(it.Key()))
	require.Equal(t, "1", string(it.Value()))
	require.NoError(t, it.Close())
	require.NoError(t, it.Close(), "a second Close does nothing")
	require.False(t, it.Next())

	// Misuse: the store closed under an open iterator. The iterator fails
	// with ErrClosed instead of touching badger's released resources.
	it, err = kv.NewIterator(backend.IterOptions{Reverse: true})
	require.NoError(t, err)
	require.NoError(t, kv.Close())
	require.False(t, it.Next())
	require.ErrorIs(t, it.Err(), backend.ErrClosed)
	require.Nil(t, it.Key())
	require.ErrorIs(t, it.Close(), backend.ErrClosed)
}

func TestEventStore(t *testing.T) { conformance.RunEventStore(t, harness) }
