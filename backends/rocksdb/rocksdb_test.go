package rocksdb_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/rocksdb"
	"github.com/durablelog/eventstore/conformance"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBackend(t *testing.T) {
	conformance.RunBackend(t, conformance.Harness{Name: rocksdb.Name})
}

func TestKill9(t *testing.T) {
	conformance.RunCrash(t, conformance.Harness{Name: rocksdb.Name})
}

// TestBackendNonDefaultOptions runs the suite with options other than the
// defaults, and a memtable so small that the data moves into table files
// while the suite runs, so reads go through table files too.
func TestBackendNonDefaultOptions(t *testing.T) {
	conformance.RunBackend(t, conformance.Harness{
		Name: rocksdb.Name,
		Config: func(testing.TB, string) any {
			return rocksdb.Options{
				BlockCacheSize:     1 << 20,
				WriteBufferSize:    64 << 10,
				MaxOpenFiles:       100,
				Compression:        rocksdb.CompressionZstd,
				WALRecoveryMode:    rocksdb.WALRecoveryAbsoluteConsistency,
				DisableBloomFilter: true,
			}
		},
	})
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func open(t testing.TB, dir string, config any) backend.KV {
	t.Helper()
	kv, err := rocksdb.Engine{}.Open(dir, backend.Options{Logger: discard(), Config: config})
	require.NoError(t, err)
	return kv
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

func keys(t testing.TB, kv backend.KV, o backend.IterOptions) []string {
	t.Helper()
	it, err := kv.NewIterator(o)
	require.NoError(t, err)
	var out []string
	for it.Next() {
		out = append(out, string(it.Key()))
	}
	require.NoError(t, it.Err())
	require.NoError(t, it.Close())
	return out
}

func TestRegistered(t *testing.T) {
	e, err := backend.Lookup(rocksdb.Name)
	require.NoError(t, err)
	require.IsType(t, rocksdb.Engine{}, e)
}

func TestOpenRejectsInvalidConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		config any
		want   string
	}{
		"wrong type":              {"zstd", "unsupported Config of type string"},
		"wrong struct":            {struct{}{}, "unsupported Config of type struct {}"},
		"pointer to pointer":      {new(*rocksdb.Options), "unsupported Config of type **rocksdb.Options"},
		"negative cache":          {rocksdb.Options{BlockCacheSize: -1}, "BlockCacheSize"},
		"tiny write buffer":       {rocksdb.Options{WriteBufferSize: 1000}, "WriteBufferSize"},
		"negative write buffer":   {&rocksdb.Options{WriteBufferSize: -1}, "WriteBufferSize"},
		"too few open files":      {rocksdb.Options{MaxOpenFiles: 19}, "MaxOpenFiles"},
		"negative open files":     {rocksdb.Options{MaxOpenFiles: -2}, "MaxOpenFiles"},
		"unknown compression":     {rocksdb.Options{Compression: 99}, "Compression(99)"},
		"negative compression":    {rocksdb.Options{Compression: -1}, "Compression(-1)"},
		"unknown recovery mode":   {rocksdb.Options{WALRecoveryMode: 4}, "WALRecoveryMode(4)"},
		"negative recovery mode":  {&rocksdb.Options{WALRecoveryMode: -1}, "WALRecoveryMode(-1)"},
		"valid fields, bad other": {rocksdb.Options{Compression: rocksdb.CompressionZstd, MaxOpenFiles: 3}, "MaxOpenFiles 3"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			kv, err := rocksdb.Engine{}.Open(dir, backend.Options{Logger: discard(), Config: tc.config})
			require.Error(t, err)
			require.Nil(t, kv)
			require.Contains(t, err.Error(), tc.want)
			require.True(t, strings.HasPrefix(err.Error(), "rocksdb: "), err.Error())
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Empty(t, entries, "a rejected Open must not create files")
		})
	}
}

func TestOpenAcceptsEveryOption(t *testing.T) {
	configs := map[string]any{
		"nil":              nil,
		"zero value":       rocksdb.Options{},
		"zero pointer":     &rocksdb.Options{},
		"nil pointer":      (*rocksdb.Options)(nil),
		"unlimited files":  rocksdb.Options{MaxOpenFiles: -1},
		"minimum files":    rocksdb.Options{MaxOpenFiles: 20},
		"paranoid off":     rocksdb.Options{DisableParanoidChecks: true},
		"bloom off":        rocksdb.Options{DisableBloomFilter: true},
		"explicit sizes":   rocksdb.Options{BlockCacheSize: 8 << 20, WriteBufferSize: 64 << 10},
		"tolerate tail":    rocksdb.Options{WALRecoveryMode: rocksdb.WALRecoveryTolerateCorruptedTail},
		"absolute":         rocksdb.Options{WALRecoveryMode: rocksdb.WALRecoveryAbsoluteConsistency},
		"point in time":    rocksdb.Options{WALRecoveryMode: rocksdb.WALRecoveryPointInTime},
		"compression none": rocksdb.Options{Compression: rocksdb.CompressionNone},
		"snappy":           rocksdb.Options{Compression: rocksdb.CompressionSnappy},
		"lz4":              rocksdb.Options{Compression: rocksdb.CompressionLZ4},
		"zstd":             rocksdb.Options{Compression: rocksdb.CompressionZstd},
	}
	for name, config := range configs {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			kv := open(t, dir, config)
			// Write enough to force table files, so the compression is used.
			b := kv.NewBatch()
			for i := range 100 {
				b.Set(fmt.Appendf(nil, "k%03d", i), bytes.Repeat([]byte{byte(i)}, 100))
			}
			require.NoError(t, b.Commit(true))
			require.NoError(t, kv.(backend.Compacter).Compact())
			require.NoError(t, kv.Close())
			kv = open(t, dir, config)
			defer kv.Close()
			v, ok, err := kv.Get([]byte("k042"))
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, bytes.Repeat([]byte{42}, 100), v)
		})
	}
}

func TestOpenDoesNotMutateOptions(t *testing.T) {
	o := &rocksdb.Options{Compression: rocksdb.CompressionSnappy}
	want := *o
	kv := open(t, t.TempDir(), o)
	require.NoError(t, kv.Close())
	require.Equal(t, want, *o, "Open modified the caller's *Options")

	var zero rocksdb.Options
	kv = open(t, t.TempDir(), &zero)
	require.NoError(t, kv.Close())
	require.Equal(t, rocksdb.Options{}, zero, "Open filled defaults into the caller's *Options")
}

func TestEnumStrings(t *testing.T) {
	require.Equal(t, "lz4", rocksdb.CompressionLZ4.String())
	require.Equal(t, "none", rocksdb.CompressionNone.String())
	require.Equal(t, "snappy", rocksdb.CompressionSnappy.String())
	require.Equal(t, "zstd", rocksdb.CompressionZstd.String())
	require.Equal(t, "Compression(7)", rocksdb.Compression(7).String())
	require.Equal(t, "point-in-time", rocksdb.WALRecoveryPointInTime.String())
	require.Equal(t, "absolute-consistency", rocksdb.WALRecoveryAbsoluteConsistency.String())
	require.Equal(t, "tolerate-corrupted-tail", rocksdb.WALRecoveryTolerateCorruptedTail.String())
	require.Equal(t, "WALRecoveryMode(9)", rocksdb.WALRecoveryMode(9).String())
	var o rocksdb.Options
	require.Equal(t, rocksdb.CompressionLZ4, o.Compression, "the zero value must be the documented default")
	require.Equal(t, rocksdb.WALRecoveryPointInTime, o.WALRecoveryMode, "the zero value must be the documented default")
}

func TestOpenRegularFileFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(path, []byte("not a store"), 0o644))
	kv, err := rocksdb.Engine{}.Open(path, backend.Options{Logger: discard()})
	require.Error(t, err)
	require.Nil(t, kv)
	require.ErrorIs(t, err, syscall.ENOTDIR)
	require.Contains(t, err.Error(), path)
	require.Contains(t, err.Error(), "not a directory")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "not a store", string(data), "Open must not touch the file")
}

func TestOpenLockedFails(t *testing.T) {
	dir := t.TempDir()
	kv := open(t, dir, nil)
	defer kv.Close()
	kv2, err := rocksdb.Engine{}.Open(dir, backend.Options{Logger: discard()})
	require.Error(t, err)
	require.Nil(t, kv2)
	require.Contains(t, err.Error(), "is another process using it?")
	require.Contains(t, err.Error(), dir)
}

func TestOpenNilLoggerAndMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	kv, err := rocksdb.Engine{}.Open(dir, backend.Options{})
	require.NoError(t, err)
	put(t, kv, true, "a", "1")
	require.NoError(t, kv.Close())
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	require.True(t, fi.IsDir())
}

func TestOpenCorruptCurrentFails(t *testing.T) {
	dir := t.TempDir()
	kv := open(t, dir, nil)
	put(t, kv, true, "a", "1")
	require.NoError(t, kv.Close())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "CURRENT"), []byte("garbage"), 0o644))
	kv, err := rocksdb.Engine{}.Open(dir, backend.Options{Logger: discard()})
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.Nil(t, kv)
	require.Contains(t, err.Error(), dir)
}

func TestEngineVersion(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	defer kv.Close()
	n, ok := kv.(backend.Namer)
	require.True(t, ok, "the KV must implement backend.Namer")
	v := n.EngineVersion()
	require.Regexp(t, regexp.MustCompile(`^rocksdb \d+\.\d+\.\d+$`), v)
	require.Equal(t, "rocksdb "+rocksdb.Version(), v)
}

func TestCheckpoint(t *testing.T) {
	dir := t.TempDir()
	kv := open(t, dir, nil)
	defer kv.Close()
	put(t, kv, true, "synced", "1")
	put(t, kv, false, "unsynced", "2")

	cp, ok := kv.(backend.Checkpointer)
	require.True(t, ok, "the KV must implement backend.Checkpointer")
	cpDir := filepath.Join(t.TempDir(), "cp")
	require.NoError(t, cp.Checkpoint(cpDir))
	put(t, kv, true, "after", "3")

	err := cp.Checkpoint(cpDir)
	require.ErrorIs(t, err, fs.ErrExist, "a checkpoint into an existing directory must fail")
	require.Contains(t, err.Error(), cpDir)

	copyKV := open(t, cpDir, nil)
	defer copyKV.Close()
	require.Equal(t, []string{"synced", "unsynced"}, keys(t, copyKV, backend.IterOptions{}))
	// The copy is independent of the original.
	put(t, copyKV, true, "only-in-copy", "4")
	_, found := get(t, kv, "only-in-copy")
	require.False(t, found)
	v, found := get(t, kv, "after")
	require.True(t, found)
	require.Equal(t, "3", v)
}

func TestCheckpointIntoUnwritablePlaceFails(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	defer kv.Close()
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	err := kv.(backend.Checkpointer).Checkpoint(filepath.Join(file, "cp"))
	require.Error(t, err)
	require.True(t, strings.HasPrefix(err.Error(), "rocksdb: checkpoint of "), err.Error())
}

func sstFiles(t testing.TB, dir string) (names []string, total int64) {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	require.NoError(t, err)
	for _, m := range matches {
		fi, err := os.Stat(m)
		require.NoError(t, err)
		total += fi.Size()
	}
	return matches, total
}

func TestCompact(t *testing.T) {
	dir := t.TempDir()
	kv := open(t, dir, rocksdb.Options{Compression: rocksdb.CompressionNone})
	defer kv.Close()
	c, ok := kv.(backend.Compacter)
	require.True(t, ok, "the KV must implement backend.Compacter")

	rng := rand.New(rand.NewPCG(1, 2))
	val := make([]byte, 1000)
	b := kv.NewBatch()
	for i := range 1000 {
		for j := range val {
			val[j] = byte(rng.Uint32())
		}
		b.Set(fmt.Appendf(nil, "k%04d", i), val)
	}
	require.NoError(t, b.Commit(false))
	names, _ := sstFiles(t, dir)
	require.Empty(t, names, "the data should still be in the memtable")

	require.NoError(t, c.Compact())
	names, full := sstFiles(t, dir)
	require.NotEmpty(t, names, "Compact must move the memtable into table files")
	require.Greater(t, full, int64(900_000))

	b = kv.NewBatch()
	for i := range 900 {
		b.Delete(fmt.Appendf(nil, "k%04d", i))
	}
	require.NoError(t, b.Commit(true))
	require.NoError(t, c.Compact())
	_, compacted := sstFiles(t, dir)
	require.Less(t, compacted, full/5, "Compact must drop the deleted values")
	require.Len(t, keys(t, kv, backend.IterOptions{}), 100)
	_, found := get(t, kv, "k0950")
	require.True(t, found)
}

// writeIncompressible writes n keys with random values of size bytes and
// returns the values.
func writeIncompressible(t testing.TB, kv backend.KV, n, size int) map[string][]byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	want := map[string][]byte{}
	b := kv.NewBatch()
	for i := range n {
		v := make([]byte, size)
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		k := fmt.Sprintf("key%05d", i)
		want[k] = v
		b.Set([]byte(k), v)
	}
	require.NoError(t, b.Commit(true))
	return want
}

// flipBytes inverts n bytes of the file at path, starting at off.
func flipBytes(t testing.TB, path string, off int64, n int) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Less(t, off+int64(n), int64(len(data)))
	for i := range int64(n) {
		data[off+i] ^= 0xff
	}
	require.NoError(t, os.WriteFile(path, data, 0o644))
}

func TestCorruptTableFileDetected(t *testing.T) {
	dir := t.TempDir()
	kv := open(t, dir, nil)
	want := writeIncompressible(t, kv, 2000, 200)
	require.NoError(t, kv.(backend.Compacter).Compact())
	require.NoError(t, kv.Close())

	names, _ := sstFiles(t, dir)
	require.Len(t, names, 1)
	fi, err := os.Stat(names[0])
	require.NoError(t, err)
	// Data blocks come first in a table file, index and filter last: the
	// first third is data.
	flipBytes(t, names[0], fi.Size()/3, 16)

	kv, err = rocksdb.Engine{}.Open(dir, backend.Options{Logger: discard()})
	require.NoError(t, err, "damage inside a data block is found when the block is read")
	defer kv.Close()

	// A full scan reads every block. Close reports the error when Err was
	// not called.
	it, err := kv.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	n := 0
	for it.Next() {
		n++
	}
	require.Less(t, n, len(want))
	err = it.Close()
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.Contains(t, err.Error(), dir)
	require.Contains(t, err.Error(), ".sst")

	// When Err reported the error, Close does not report it again.
	it, err = kv.NewIterator(backend.IterOptions{Reverse: true})
	require.NoError(t, err)
	for it.Next() {
	}
	require.ErrorIs(t, it.Err(), backend.ErrCorrupt)
	require.NoError(t, it.Close())

	// Get of the keys in the damaged block fails the same way; the others
	// still work.
	var corrupt, good int
	for k, v := range want {
		got, ok, err := kv.Get([]byte(k))
		if err != nil {
			require.ErrorIs(t, err, backend.ErrCorrupt)
			require.Contains(t, err.Error(), dir)
			corrupt++
			continue
		}
		require.True(t, ok)
		require.Equal(t, v, got)
		good++
	}
	require.Positive(t, corrupt)
	require.Positive(t, good)
}

// damageWAL writes 100 batches that stay in the WAL, closes the store and
// damages a record in the middle of the WAL.
func damageWAL(t testing.TB, config any) string {
	t.Helper()
	dir := t.TempDir()
	kv := open(t, dir, config)
	for i := range 100 {
		put(t, kv, false, fmt.Sprintf("k%03d", i), strings.Repeat("v", 100))
	}
	rocksdb.KeepWALOnClose(kv)
	require.NoError(t, kv.Close())
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	require.NoError(t, err)
	require.Len(t, logs, 1)
	fi, err := os.Stat(logs[0])
	require.NoError(t, err)
	flipBytes(t, logs[0], fi.Size()/2, 4)
	return dir
}

func TestWALRecoveryAbsoluteConsistencyRefusesDamage(t *testing.T) {
	config := rocksdb.Options{WALRecoveryMode: rocksdb.WALRecoveryAbsoluteConsistency}
	dir := damageWAL(t, config)
	kv, err := rocksdb.Engine{}.Open(dir, backend.Options{Logger: discard(), Config: config})
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.Nil(t, kv)
	require.Contains(t, err.Error(), dir)
}

func TestWALRecoveryTolerateCorruptedTailRefusesDamageInside(t *testing.T) {
	config := rocksdb.Options{WALRecoveryMode: rocksdb.WALRecoveryTolerateCorruptedTail}
	dir := damageWAL(t, config)
	kv, err := rocksdb.Engine{}.Open(dir, backend.Options{Logger: discard(), Config: config})
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.Nil(t, kv)
}

func TestWALRecoveryPointInTimeKeepsPrefix(t *testing.T) {
	dir := damageWAL(t, nil)
	kv := open(t, dir, nil)
	defer kv.Close()
	got := keys(t, kv, backend.IterOptions{})
	require.NotEmpty(t, got, "the records before the damage must be replayed")
	require.Less(t, len(got), 100, "the records from the damage on must be dropped")
	for i, k := range got {
		require.Equal(t, fmt.Sprintf("k%03d", i), k, "recovery must keep a prefix of the commits")
	}
}

func TestUseAfterCloseOfCapabilities(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	require.NoError(t, kv.Close())
	require.ErrorIs(t, kv.(backend.Checkpointer).Checkpoint(filepath.Join(t.TempDir(), "cp")), backend.ErrClosed)
	require.ErrorIs(t, kv.(backend.Compacter).Compact(), backend.ErrClosed)
	require.Equal(t, "rocksdb "+rocksdb.Version(), kv.(backend.Namer).EngineVersion())
}

func TestCloseReleasesLeakedIterator(t *testing.T) {
	var logs bytes.Buffer
	kv, err := rocksdb.Engine{}.Open(t.TempDir(), backend.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	put(t, kv, true, "a", "1", "b", "2")
	it, err := kv.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	require.True(t, it.Next())
	require.Equal(t, "a", string(it.Key()))

	require.NoError(t, kv.Close())
	require.Contains(t, logs.String(), "iterators still open")

	require.False(t, it.Next())
	require.Nil(t, it.Key())
	require.Nil(t, it.Value())
	require.ErrorIs(t, it.Err(), backend.ErrClosed)
	require.ErrorIs(t, it.Close(), backend.ErrClosed)
	require.NoError(t, it.Close(), "a second Close does nothing")
}

func TestIteratorEdgeCases(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	defer kv.Close()
	put(t, kv, true, "a", "1", "b", "2", "c", "3")

	for name, o := range map[string]backend.IterOptions{
		"empty upper":           {Upper: []byte{}},
		"lower equals upper":    {Lower: []byte("b"), Upper: []byte("b")},
		"lower above upper":     {Lower: []byte("c"), Upper: []byte("a")},
		"reverse, lower>=upper": {Lower: []byte("c"), Upper: []byte("a"), Reverse: true},
	} {
		require.Empty(t, keys(t, kv, o), name)
	}
	require.Equal(t, []string{"a", "b", "c"}, keys(t, kv, backend.IterOptions{Lower: []byte{}}))
	require.Equal(t, []string{"b"}, keys(t, kv, backend.IterOptions{Lower: []byte("b"), Upper: []byte("c")}))
	require.Equal(t, []string{"c", "b"}, keys(t, kv, backend.IterOptions{Lower: []byte("b"), Reverse: true}))

	it, err := kv.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	require.Nil(t, it.Key(), "before the first Next there is no key")
	for it.Next() {
		require.Equal(t, map[string]string{"a": "1", "b": "2", "c": "3"}[string(it.Key())], string(it.Value()))
	}
	require.False(t, it.Next(), "Next after the end stays false")
	require.Nil(t, it.Key())
	require.NoError(t, it.Err())
	require.NoError(t, it.Close())
	require.NoError(t, it.Close(), "a second Close does nothing")

	// An iterator keeps the view it started with.
	it, err = kv.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	put(t, kv, true, "d", "4")
	var got []string
	for it.Next() {
		got = append(got, string(it.Key()))
	}
	require.NoError(t, it.Close())
	require.Equal(t, []string{"a", "b", "c"}, got)
}

func TestBatchMisuse(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	b := kv.NewBatch()
	b.Set([]byte("a"), []byte("1"))
	b.Delete([]byte("zz"))
	require.Equal(t, 2, b.Len())
	require.NoError(t, b.Commit(false))

	err := b.Commit(true)
	require.Error(t, err, "a batch is committed at most once")
	require.Contains(t, err.Error(), "already committed")
	b.Set([]byte("b"), []byte("2")) // ignored
	b.Delete([]byte("a"))           // ignored
	require.Equal(t, 2, b.Len())
	b.Close()
	b.Close()
	_, found := get(t, kv, "b")
	require.False(t, found)
	v, found := get(t, kv, "a")
	require.True(t, found)
	require.Equal(t, "1", v)

	// A batch created before Close and committed after it fails, and is
	// released.
	b = kv.NewBatch()
	b.Set([]byte("late"), []byte("x"))
	require.NoError(t, kv.Close())
	require.ErrorIs(t, b.Commit(true), backend.ErrClosed)
	require.Error(t, b.Commit(true))
	require.NotErrorIs(t, b.Commit(true), backend.ErrClosed, "the first Commit released the batch")
}

func TestGetEmptyValueIsNotNil(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	defer kv.Close()
	put(t, kv, true, "e", "")
	v, ok, err := kv.Get([]byte("e"))
	require.NoError(t, err)
	require.True(t, ok)
	require.NotNil(t, v)
	require.Empty(t, v)
}

func TestSyncedDataSurvivesReopenAfterSync(t *testing.T) {
	dir := t.TempDir()
	kv := open(t, dir, nil)
	var want []string
	for i := range 10 {
		k := fmt.Sprintf("k%d", i)
		put(t, kv, false, k, "v")
		want = append(want, k)
	}
	require.NoError(t, kv.Sync())
	require.NoError(t, kv.Close())
	kv = open(t, dir, nil)
	got := keys(t, kv, backend.IterOptions{})
	slices.Sort(want)
	require.Equal(t, want, got)
	require.NoError(t, kv.Close())
	require.ErrorIs(t, kv.Close(), backend.ErrClosed)
}

func TestEventStore(t *testing.T) {
	conformance.RunEventStore(t, conformance.Harness{Name: rocksdb.Name})
}
