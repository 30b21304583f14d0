package sqlite_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/sqlite"
	"github.com/durablelog/eventstore/conformance"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// Every connection is closed by Close, and the driver starts no goroutine of
// its own, so none may be left once every test closed its stores.
func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
		return
	}
	goleak.VerifyTestMain(m)
}

func TestBackend(t *testing.T) {
	conformance.RunBackend(t, conformance.Harness{Name: sqlite.Name})
}

// TestBackendTightOptions runs the suite with the smallest settings: one idle
// reader (iterators and Gets open more), a one-page cache, a checkpoint after
// every commit, and the full integrity check on every Open.
func TestBackendTightOptions(t *testing.T) {
	conformance.RunBackend(t, conformance.Harness{
		Name: sqlite.Name,
		Config: func(testing.TB, string) any {
			return &sqlite.Options{CacheSize: 1, MaxIdleReaders: 1, AutoCheckpoint: 1, OpenCheck: sqlite.CheckFull}
		},
	})
}

func TestEventStore(t *testing.T) {
	conformance.RunEventStore(t, conformance.Harness{Name: sqlite.Name})
}

// TestKill9 runs the conformance crash case: a writer in a child process,
// killed with SIGKILL at random moments, and every acknowledged append
// checked after each reopen (conformance.RunCrash).
func TestKill9(t *testing.T) {
	conformance.RunCrash(t, conformance.Harness{Name: sqlite.Name})
}

func open(t testing.TB, dir string, cfg any) backend.KV {
	t.Helper()
	kv, err := openErr(dir, cfg)
	require.NoError(t, err)
	return kv
}

func openErr(dir string, cfg any) (backend.KV, error) {
	return sqlite.Engine{}.Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler), Config: cfg})
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

// keys returns the keys an iterator with o yields.
func keys(t testing.TB, kv backend.KV, o backend.IterOptions) [][]byte {
	t.Helper()
	it, err := kv.NewIterator(o)
	require.NoError(t, err)
	var out [][]byte
	for it.Next() {
		out = append(out, bytes.Clone(it.Key()))
	}
	require.NoError(t, it.Err())
	require.NoError(t, it.Close())
	return out
}

func TestRegistered(t *testing.T) {
	e, err := backend.Lookup(sqlite.Name)
	require.NoError(t, err)
	require.IsType(t, sqlite.Engine{}, e)
}

func TestConfigTypes(t *testing.T) {
	for name, cfg := range map[string]any{
		"nil":     nil,
		"nil ptr": (*sqlite.Options)(nil),
		"value":   sqlite.Options{CacheSize: 1 << 20},
		"pointer": &sqlite.Options{CacheSize: 1 << 20, BusyTimeout: time.Second, MaxIdleReaders: 2, AutoCheckpoint: 100, OpenCheck: sqlite.CheckNone},
	} {
		t.Run(name, func(t *testing.T) {
			kv := open(t, t.TempDir(), cfg)
			put(t, kv, true, "k", "v")
			v, ok := get(t, kv, "k")
			require.True(t, ok)
			require.Equal(t, "v", v)
			require.NoError(t, kv.Close())
		})
	}
}

func TestConfigWrongType(t *testing.T) {
	for _, cfg := range []any{"cache=8MB", 42, struct{ CacheSize int64 }{1}} {
		_, err := openErr(t.TempDir(), cfg)
		require.Error(t, err)
		require.Contains(t, err.Error(), fmt.Sprintf("%T", cfg))
		require.Contains(t, err.Error(), "sqlite.Options")
	}
}

func TestOptionsValidation(t *testing.T) {
	tests := []struct {
		name string
		o    sqlite.Options
		want string
	}{
		{"negative cache", sqlite.Options{CacheSize: -1}, "CacheSize"},
		{"negative busy timeout", sqlite.Options{BusyTimeout: -time.Second}, "BusyTimeout"},
		{"negative idle readers", sqlite.Options{MaxIdleReaders: -1}, "MaxIdleReaders"},
		{"negative autocheckpoint", sqlite.Options{AutoCheckpoint: -1}, "AutoCheckpoint"},
		{"unknown check", sqlite.Options{OpenCheck: 7}, "OpenCheck(7)"},
		{"negative check", sqlite.Options{OpenCheck: -1}, "OpenCheck"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := openErr(dir, tc.o)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.True(t, strings.HasPrefix(err.Error(), "sqlite: "), err.Error())
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Empty(t, entries, "a rejected Open must not create files")
		})
	}
}

func TestOptionsNotMutated(t *testing.T) {
	o := &sqlite.Options{CacheSize: 1 << 20}
	kv := open(t, t.TempDir(), o)
	defer kv.Close()
	require.Equal(t, sqlite.Options{CacheSize: 1 << 20}, *o)
}

func TestOpenCheckString(t *testing.T) {
	require.Equal(t, "quick_check", sqlite.CheckQuick.String())
	require.Equal(t, "integrity_check", sqlite.CheckFull.String())
	require.Equal(t, "none", sqlite.CheckNone.String())
	require.Equal(t, "OpenCheck(9)", sqlite.OpenCheck(9).String())
	require.Equal(t, "quick_check after a crash", sqlite.CheckAfterCrash.String())
	require.Equal(t, sqlite.CheckAfterCrash, sqlite.Options{}.OpenCheck, "the zero value is the default check")
}

func TestOpenRegularFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err := openErr(file, nil)
	require.ErrorContains(t, err, "is not a directory")
}

func TestOpenMissingDirCreatesIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	kv := open(t, dir, nil)
	put(t, kv, true, "k", "v")
	require.NoError(t, kv.Close())
	require.FileExists(t, filepath.Join(dir, sqlite.FileName))
}

// TestOpenOddPath opens a store in a directory whose name holds the
// characters a URI or the driver's parameter parsing would misread.
func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a?b=c&d#e%20f g")
	kv := open(t, dir, nil)
	put(t, kv, true, "k", "v")
	require.NoError(t, kv.Close())
	require.FileExists(t, filepath.Join(dir, sqlite.FileName))
	kv = open(t, dir, nil)
	defer kv.Close()
	v, ok := get(t, kv, "k")
	require.True(t, ok)
	require.Equal(t, "v", v)
}

// TestBinaryKeyOrder checks that SQLite's BLOB order is bytes.Compare: keys
// with 0x00 and 0xff bytes, keys that are prefixes of others, and random
// binary keys, forward and reverse, with bounds that are not keys.
func TestBinaryKeyOrder(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	defer kv.Close()
	set := map[string]bool{}
	for _, k := range [][]byte{
		{0x00}, {0x00, 0x00}, {0x00, 0x00, 0x00}, {0x00, 0x01}, {0x00, 0xff},
		{0x01}, {0x01, 0x00}, {0x7f}, {0x7f, 0xff}, {0x80}, {0x80, 0x00},
		{0xfe, 0xff}, {0xff}, {0xff, 0x00}, {0xff, 0xff}, {0xff, 0xff, 0xff},
		[]byte("a"), []byte("a\x00"), []byte("ab"), []byte("b"),
	} {
		set[string(k)] = true
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		k := make([]byte, 1+rng.IntN(6))
		for i := range k {
			k[i] = []byte{0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff}[rng.IntN(6)]
		}
		set[string(k)] = true
	}
	var all [][]byte
	b := kv.NewBatch()
	for k := range set { // map order: inserted out of order
		all = append(all, []byte(k))
		b.Set([]byte(k), []byte(k))
	}
	require.NoError(t, b.Commit(true))
	slices.SortFunc(all, bytes.Compare)

	within := func(lo, hi []byte) [][]byte {
		var out [][]byte
		for _, k := range all {
			if (lo == nil || bytes.Compare(k, lo) >= 0) && (hi == nil || bytes.Compare(k, hi) < 0) {
				out = append(out, k)
			}
		}
		return out
	}
	bounds := [][2][]byte{
		{nil, nil},
		{{0x00}, {0x00, 0x00, 0x00}},
		{{0x00, 0x00}, {0xff}},
		{{0x00, 0x00, 0x00, 0x00}, {0x7f, 0xff, 0x00}},
		{{0x80}, nil},
		{nil, {0x80}},
		{{0xff, 0xff}, nil},
		{{}, {0x01}},
		{[]byte("a"), []byte("a\x00\x00")},
		{{0x01}, {0x01}},
	}
	for _, bd := range bounds {
		want := within(bd[0], bd[1])
		got := keys(t, kv, backend.IterOptions{Lower: bd[0], Upper: bd[1]})
		require.Equal(t, want, got, "forward over [%x, %x)", bd[0], bd[1])
		slices.Reverse(want)
		got = keys(t, kv, backend.IterOptions{Lower: bd[0], Upper: bd[1], Reverse: true})
		require.Equal(t, want, got, "reverse over [%x, %x)", bd[0], bd[1])
	}
	for k := range set {
		v, ok, err := kv.Get([]byte(k))
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, []byte(k), v)
	}
	// A prefix of a stored key is not found.
	_, ok, err := kv.Get([]byte{0xff, 0xff, 0xff, 0xff})
	require.NoError(t, err)
	require.False(t, ok)
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
	require.Equal(t, "b", string(it.Key()))
	require.False(t, it.Next())
	require.False(t, it.Next(), "Next after the end")
	require.Nil(t, it.Key())
	require.Nil(t, it.Value())
	require.NoError(t, it.Err())
	require.NoError(t, it.Close())
	require.Error(t, it.Close(), "second Close")
	require.False(t, it.Next(), "Next after Close")

	// An iterator closed before its end releases its connection.
	it, err = kv.NewIterator(backend.IterOptions{Reverse: true})
	require.NoError(t, err)
	require.True(t, it.Next())
	require.Equal(t, "b", string(it.Key()))
	require.NoError(t, it.Close())
	require.Nil(t, it.Key())
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

// TestIteratorView checks that an iterator keeps the view it started with
// while commits go on, and that those commits neither wait for it nor are
// hidden from Get and from later iterators.
func TestIteratorView(t *testing.T) {
	kv := open(t, t.TempDir(), &sqlite.Options{MaxIdleReaders: 1})
	defer kv.Close()
	for i := range 100 {
		put(t, kv, false, fmt.Sprintf("k%03d", i), "old")
	}
	it, err := kv.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	// Commits after NewIterator, with the iterator not yet advanced.
	b := kv.NewBatch()
	for i := range 100 {
		b.Set(fmt.Appendf(nil, "k%03d", i), []byte("new"))
	}
	b.Set([]byte("k100"), []byte("new"))
	b.Delete([]byte("k000"))
	require.NoError(t, b.Commit(true))
	v, ok := get(t, kv, "k050")
	require.True(t, ok)
	require.Equal(t, "new", v)
	// More iterators than idle readers, open at once.
	var others []backend.Iterator
	for range 5 {
		o, err := kv.NewIterator(backend.IterOptions{Lower: []byte("k100")})
		require.NoError(t, err)
		others = append(others, o)
	}
	n := 0
	for it.Next() {
		require.Equal(t, fmt.Sprintf("k%03d", n), string(it.Key()))
		require.Equal(t, "old", string(it.Value()), "the iterator sees a commit made after it started")
		n++
	}
	require.NoError(t, it.Close())
	require.Equal(t, 100, n)
	for _, o := range others {
		require.True(t, o.Next())
		require.Equal(t, "k100", string(o.Key()))
		require.False(t, o.Next())
		require.NoError(t, o.Close())
	}
}

// TestConcurrentCommitsAndReads commits from several goroutines while others
// read, so that commits, Gets and iterators all overlap.
func TestConcurrentCommitsAndReads(t *testing.T) {
	kv := open(t, t.TempDir(), &sqlite.Options{MaxIdleReaders: 1})
	defer kv.Close()
	const writers, perWriter = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter+100)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				b := kv.NewBatch()
				b.Set(fmt.Appendf(nil, "w%d-%03d", w, i), []byte("v"))
				b.Set(fmt.Appendf(nil, "x%d-%03d", w, i), []byte("v"))
				if err := b.Commit(i%2 == 0); err != nil {
					errs <- err
				}
			}
		})
	}
	for r := range 4 {
		wg.Go(func() {
			for range 30 {
				it, err := kv.NewIterator(backend.IterOptions{Lower: []byte("w"), Upper: []byte("x"), Reverse: r%2 == 1})
				if err != nil {
					errs <- err
					return
				}
				// A batch writes its w and x keys together: every w key
				// seen has its x key.
				for it.Next() {
					x := append([]byte("x"), it.Key()[1:]...)
					if _, ok, err := kv.Get(x); err != nil || !ok {
						errs <- fmt.Errorf("key %q without %q (err %v)", it.Key(), x, err)
					}
				}
				if err := it.Close(); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.Len(t, keys(t, kv, backend.IterOptions{Lower: []byte("w"), Upper: []byte("x")}), writers*perWriter)
}

func TestBatchLifecycle(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	defer kv.Close()
	b := kv.NewBatch()
	require.NoError(t, b.Commit(true), "an empty batch commits")
	b = kv.NewBatch()
	require.NoError(t, b.Commit(false), "an empty batch commits without sync")
	b = kv.NewBatch()
	b.Set([]byte("a"), []byte("1"))
	b.Delete([]byte("b"))
	b.Set([]byte("e"), nil)
	require.Equal(t, 3, b.Len())
	require.NoError(t, b.Commit(false))
	require.ErrorContains(t, b.Commit(false), "already committed or closed")
	b.Close()
	b.Close()
	require.Panics(t, func() { b.Set([]byte("x"), nil) })
	require.Panics(t, func() { b.Delete([]byte("x")) })
	v, ok, err := kv.Get([]byte("e"))
	require.NoError(t, err)
	require.True(t, ok, "a nil value is stored as an empty value")
	require.NotNil(t, v)
	require.Empty(t, v)

	b = kv.NewBatch()
	b.Set([]byte("c"), []byte("3"))
	b.Close()
	require.Error(t, b.Commit(true), "Commit after Close")
	_, ok = get(t, kv, "c")
	require.False(t, ok)

	// Writes of one batch apply in order: the last write of a key wins.
	b = kv.NewBatch()
	b.Set([]byte("d"), []byte("1"))
	b.Delete([]byte("d"))
	b.Set([]byte("d"), []byte("2"))
	b.Set([]byte("f"), []byte("1"))
	b.Delete([]byte("f"))
	require.NoError(t, b.Commit(true))
	v2, ok := get(t, kv, "d")
	require.True(t, ok)
	require.Equal(t, "2", v2)
	_, ok = get(t, kv, "f")
	require.False(t, ok)
}

func TestCloseRefusedWithOpenIterator(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	put(t, kv, true, "a", "1")
	it, err := kv.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	err = kv.Close()
	require.ErrorContains(t, err, "1 iterators are still open")
	require.NotErrorIs(t, err, backend.ErrClosed)
	v, ok := get(t, kv, "a") // still open
	require.True(t, ok)
	require.Equal(t, "1", v)
	require.True(t, it.Next())
	require.NoError(t, it.Close())
	require.NoError(t, kv.Close())
}

func TestErrorsWrapped(t *testing.T) {
	kv := open(t, t.TempDir(), nil)
	require.NoError(t, kv.Close())
	_, _, err := kv.Get([]byte("a"))
	require.True(t, errors.Is(err, backend.ErrClosed))
	require.True(t, strings.HasPrefix(err.Error(), "sqlite: "), err.Error())
	require.ErrorIs(t, kv.(backend.Checkpointer).Checkpoint(filepath.Join(t.TempDir(), "cp")), backend.ErrClosed)
	require.ErrorIs(t, kv.(backend.Compacter).Compact(), backend.ErrClosed)
	require.NotEmpty(t, kv.(backend.Namer).EngineVersion())
}
