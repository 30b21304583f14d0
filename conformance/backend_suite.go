package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/durablelog/eventstore/backend"
)

// RunBackend runs the engine-contract suite of package backend against the
// engine that h describes.
func RunBackend(t *testing.T, h Harness) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"GetMissing", testGetMissing},
		{"SetGetDelete", testSetGetDelete},
		{"GetReturnsCopy", testGetReturnsCopy},
		{"BatchCopiesInput", testBatchCopiesInput},
		{"BatchInvisibleUntilCommit", testBatchInvisibleUntilCommit},
		{"BatchCloseDiscards", testBatchCloseDiscards},
		{"EmptyValue", testEmptyValue},
		{"LargeValue", testLargeValue},
		{"IteratorOrderAndBounds", testIteratorOrderAndBounds},
		{"IteratorReverse", testIteratorReverse},
		{"IteratorEmptyRange", testIteratorEmptyRange},
		{"IteratorSeesCommitted", testIteratorSeesCommitted},
		{"ReopenKeepsSyncedAndUnsynced", testReopenKeeps},
		{"SyncMethod", testSyncMethod},
		{"UseAfterClose", testUseAfterClose},
		{"ConcurrentReadersAndWriter", testConcurrentReadersAndWriter},
		{"RandomizedAgainstModel", testRandomizedAgainstModel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

func openKV(t testing.TB, h Harness, dir string) backend.KV {
	t.Helper()
	kv, err := h.engine(t).Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler), Config: h.config(t, dir)})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	return kv
}

func newKV(t testing.TB, h Harness) backend.KV {
	t.Helper()
	kv := openKV(t, h, h.dir(t))
	t.Cleanup(func() { _ = kv.Close() })
	return kv
}

func put(t testing.TB, kv backend.KV, sync bool, kvs ...string) {
	t.Helper()
	b := kv.NewBatch()
	for i := 0; i+1 < len(kvs); i += 2 {
		b.Set([]byte(kvs[i]), []byte(kvs[i+1]))
	}
	if err := b.Commit(sync); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

func mustGet(t testing.TB, kv backend.KV, key string) (string, bool) {
	t.Helper()
	v, ok, err := kv.Get([]byte(key))
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	return string(v), ok
}

func collect(t testing.TB, kv backend.KV, o backend.IterOptions) []string {
	t.Helper()
	it, err := kv.NewIterator(o)
	if err != nil {
		t.Fatalf("new iterator: %v", err)
	}
	var out []string
	for it.Next() {
		out = append(out, string(it.Key())+"="+string(it.Value()))
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iterate: %v", err)
	}
	if err := it.Close(); err != nil {
		t.Fatalf("close iterator: %v", err)
	}
	return out
}

func testGetMissing(t *testing.T, h Harness) {
	kv := newKV(t, h)
	v, ok, err := kv.Get([]byte("nope"))
	if err != nil || ok || v != nil {
		t.Fatalf("Get(missing) = %q, %v, %v; want nil, false, nil", v, ok, err)
	}
}

func testSetGetDelete(t *testing.T, h Harness) {
	kv := newKV(t, h)
	put(t, kv, true, "a", "1", "b", "2")
	if v, ok := mustGet(t, kv, "a"); !ok || v != "1" {
		t.Fatalf("Get(a) = %q, %v; want 1, true", v, ok)
	}
	put(t, kv, true, "a", "3")
	if v, _ := mustGet(t, kv, "a"); v != "3" {
		t.Fatalf("overwrite: Get(a) = %q; want 3", v)
	}
	b := kv.NewBatch()
	b.Delete([]byte("a"))
	if b.Len() != 1 {
		t.Fatalf("Len = %d; want 1", b.Len())
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	b.Close() // allowed after Commit
	if _, ok := mustGet(t, kv, "a"); ok {
		t.Fatal("a still present after Delete")
	}
	if v, ok := mustGet(t, kv, "b"); !ok || v != "2" {
		t.Fatalf("Get(b) = %q, %v; want 2, true", v, ok)
	}
}

func testGetReturnsCopy(t *testing.T, h Harness) {
	kv := newKV(t, h)
	put(t, kv, true, "k", "value")
	v, _, err := kv.Get([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range v {
		v[i] = 'X'
	}
	if got, _ := mustGet(t, kv, "k"); got != "value" {
		t.Fatalf("modifying Get's result changed the store: %q", got)
	}
}

func testBatchCopiesInput(t *testing.T, h Harness) {
	kv := newKV(t, h)
	key, val := []byte("key1"), []byte("val1")
	b := kv.NewBatch()
	b.Set(key, val)
	copy(key, "XXXX")
	copy(val, "YYYY")
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	if v, ok := mustGet(t, kv, "key1"); !ok || v != "val1" {
		t.Fatalf("Get(key1) = %q, %v; the batch did not copy its input", v, ok)
	}
}

func testBatchInvisibleUntilCommit(t *testing.T, h Harness) {
	kv := newKV(t, h)
	b := kv.NewBatch()
	for i := range 100 {
		b.Set(fmt.Appendf(nil, "k%03d", i), []byte("v"))
	}
	if b.Len() != 100 {
		t.Fatalf("Len = %d; want 100", b.Len())
	}
	if _, ok := mustGet(t, kv, "k000"); ok {
		t.Fatal("uncommitted write visible to Get")
	}
	if got := collect(t, kv, backend.IterOptions{}); len(got) != 0 {
		t.Fatalf("uncommitted writes visible to an iterator: %d keys", len(got))
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	if got := collect(t, kv, backend.IterOptions{}); len(got) != 100 {
		t.Fatalf("after commit the iterator sees %d keys; want 100", len(got))
	}
}

func testBatchCloseDiscards(t *testing.T, h Harness) {
	kv := newKV(t, h)
	b := kv.NewBatch()
	b.Set([]byte("gone"), []byte("1"))
	b.Close()
	if _, ok := mustGet(t, kv, "gone"); ok {
		t.Fatal("a closed, uncommitted batch was applied")
	}
}

func testEmptyValue(t *testing.T, h Harness) {
	kv := newKV(t, h)
	put(t, kv, true, "empty", "")
	v, ok, err := kv.Get([]byte("empty"))
	if err != nil || !ok || len(v) != 0 {
		t.Fatalf("Get(empty) = %q, %v, %v; want empty, true, nil", v, ok, err)
	}
	if got := collect(t, kv, backend.IterOptions{}); !slices.Equal(got, []string{"empty="}) {
		t.Fatalf("iterator = %q", got)
	}
}

func testLargeValue(t *testing.T, h Harness) {
	kv := newKV(t, h)
	big := make([]byte, 4<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	b := kv.NewBatch()
	b.Set([]byte("big"), big)
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	v, ok, err := kv.Get([]byte("big"))
	if err != nil || !ok || !bytes.Equal(v, big) {
		t.Fatalf("large value did not round-trip: ok=%v err=%v len=%d", ok, err, len(v))
	}
}

func testIteratorOrderAndBounds(t *testing.T, h Harness) {
	kv := newKV(t, h)
	// Binary keys: order must be bytes.Compare, with 0x00 and 0xff bytes.
	keys := [][]byte{{0x00}, {0x00, 0x00}, {0x01}, {0x01, 0xff}, {0x02}, {0x7f}, {0x80}, {0xff}, {0xff, 0xff}}
	b := kv.NewBatch()
	for _, k := range slices.Backward(keys) {
		b.Set(k, k)
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	check := func(o backend.IterOptions, want [][]byte) {
		t.Helper()
		it, err := kv.NewIterator(o)
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		var got [][]byte
		for it.Next() {
			if !bytes.Equal(it.Key(), it.Value()) {
				t.Fatalf("key %x has value %x", it.Key(), it.Value())
			}
			got = append(got, bytes.Clone(it.Key()))
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
		if !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("iterate %+v: got %x, want %x", o, got, want)
		}
	}
	check(backend.IterOptions{}, keys)
	check(backend.IterOptions{Lower: []byte{0x01}}, keys[2:])
	check(backend.IterOptions{Upper: []byte{0x01}}, keys[:2])
	check(backend.IterOptions{Lower: []byte{0x01}, Upper: []byte{0x7f}}, keys[2:5])
	check(backend.IterOptions{Lower: []byte{0x00, 0x01}, Upper: []byte{0xff, 0x00}}, keys[2:8])
	rev := slices.Clone(keys[2:5])
	slices.Reverse(rev)
	check(backend.IterOptions{Lower: []byte{0x01}, Upper: []byte{0x7f}, Reverse: true}, rev)
}

func testIteratorReverse(t *testing.T, h Harness) {
	kv := newKV(t, h)
	var want []string
	b := kv.NewBatch()
	for i := range 50 {
		k := fmt.Sprintf("r%02d", i)
		b.Set([]byte(k), []byte(k))
		want = append(want, k+"="+k)
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(want)
	if got := collect(t, kv, backend.IterOptions{Reverse: true}); !slices.Equal(got, want) {
		t.Fatalf("reverse iteration: got %q", got)
	}
	// Reverse with an upper bound that is not a key: the first key is the
	// largest below it.
	got := collect(t, kv, backend.IterOptions{Upper: []byte("r10x"), Reverse: true})
	if len(got) != 11 || got[0] != "r10=r10" || got[10] != "r00=r00" {
		t.Fatalf("reverse with bound: got %q", got)
	}
}

func testIteratorEmptyRange(t *testing.T, h Harness) {
	kv := newKV(t, h)
	put(t, kv, true, "a", "1", "c", "3")
	if got := collect(t, kv, backend.IterOptions{Lower: []byte("b"), Upper: []byte("c")}); len(got) != 0 {
		t.Fatalf("empty range returned %q", got)
	}
	if got := collect(t, kv, backend.IterOptions{Lower: []byte("b"), Upper: []byte("c"), Reverse: true}); len(got) != 0 {
		t.Fatalf("empty reverse range returned %q", got)
	}
	if got := collect(t, kv, backend.IterOptions{Lower: []byte("z")}); len(got) != 0 {
		t.Fatalf("range past the end returned %q", got)
	}
}

func testIteratorSeesCommitted(t *testing.T, h Harness) {
	kv := newKV(t, h)
	for i := range 20 {
		put(t, kv, false, fmt.Sprintf("s%02d", i), "v")
		if got := collect(t, kv, backend.IterOptions{Lower: []byte("s")}); len(got) != i+1 {
			t.Fatalf("after %d commits an iterator sees %d keys", i+1, len(got))
		}
	}
}

func testReopenKeeps(t *testing.T, h Harness) {
	dir := h.dir(t)
	kv := openKV(t, h, dir)
	put(t, kv, true, "synced", "1")
	put(t, kv, false, "unsynced", "2")
	b := kv.NewBatch()
	b.Set([]byte("deleted"), []byte("x"))
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	b = kv.NewBatch()
	b.Delete([]byte("deleted"))
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	if err := kv.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	kv = openKV(t, h, dir)
	defer kv.Close()
	if v, ok := mustGet(t, kv, "synced"); !ok || v != "1" {
		t.Fatalf("after reopen Get(synced) = %q, %v", v, ok)
	}
	if v, ok := mustGet(t, kv, "unsynced"); !ok || v != "2" {
		t.Fatalf("after a clean Close and reopen Get(unsynced) = %q, %v", v, ok)
	}
	if _, ok := mustGet(t, kv, "deleted"); ok {
		t.Fatal("deleted key came back after reopen")
	}
}

func testSyncMethod(t *testing.T, h Harness) {
	kv := newKV(t, h)
	put(t, kv, false, "a", "1")
	if err := kv.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if v, ok := mustGet(t, kv, "a"); !ok || v != "1" {
		t.Fatalf("Get(a) = %q, %v", v, ok)
	}
}

func testUseAfterClose(t *testing.T, h Harness) {
	kv := openKV(t, h, h.dir(t))
	put(t, kv, true, "a", "1")
	if err := kv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := kv.Get([]byte("a")); !errors.Is(err, backend.ErrClosed) {
		t.Fatalf("Get after Close: %v; want ErrClosed", err)
	}
	if _, err := kv.NewIterator(backend.IterOptions{}); !errors.Is(err, backend.ErrClosed) {
		t.Fatalf("NewIterator after Close: %v; want ErrClosed", err)
	}
	b := kv.NewBatch()
	b.Set([]byte("b"), []byte("2"))
	if err := b.Commit(true); !errors.Is(err, backend.ErrClosed) {
		t.Fatalf("Commit after Close: %v; want ErrClosed", err)
	}
	if err := kv.Sync(); !errors.Is(err, backend.ErrClosed) {
		t.Fatalf("Sync after Close: %v; want ErrClosed", err)
	}
	if err := kv.Close(); !errors.Is(err, backend.ErrClosed) {
		t.Fatalf("second Close: %v; want ErrClosed", err)
	}
}

func testConcurrentReadersAndWriter(t *testing.T, h Harness) {
	kv := newKV(t, h)
	const n = 300
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for r := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				it, err := kv.NewIterator(backend.IterOptions{Lower: []byte("c"), Upper: []byte("d"), Reverse: r%2 == 1})
				if err != nil {
					errs <- err
					return
				}
				var prev []byte
				count := 0
				for it.Next() {
					k := it.Key()
					if prev != nil && (bytes.Compare(prev, k) >= 0) == (r%2 == 0) {
						errs <- fmt.Errorf("keys out of order: %q then %q", prev, k)
					}
					prev = bytes.Clone(k)
					count++
				}
				if err := it.Close(); err != nil {
					errs <- err
					return
				}
				if _, _, err := kv.Get([]byte("c0001")); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range n {
		b := kv.NewBatch()
		b.Set(fmt.Appendf(nil, "c%04d", i), []byte("v"))
		b.Set(fmt.Appendf(nil, "d%04d", i), []byte("w"))
		if err := b.Commit(i%10 == 0); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := collect(t, kv, backend.IterOptions{Lower: []byte("c"), Upper: []byte("d")}); len(got) != n {
		t.Fatalf("final count %d; want %d", len(got), n)
	}
}

// testRandomizedAgainstModel applies random batches and compares Get and
// iteration with an in-memory model, across a reopen.
func testRandomizedAgainstModel(t *testing.T, h Harness) {
	rng := rand.New(rand.NewPCG(42, 7))
	dir := h.dir(t)
	kv := openKV(t, h, dir)
	model := map[string]string{}
	randKey := func() []byte {
		k := make([]byte, 1+rng.IntN(4))
		for i := range k {
			k[i] = byte(rng.IntN(6)) * 51 // 0x00, 0x33, ... 0xff
		}
		return k
	}
	for round := range 200 {
		b := kv.NewBatch()
		pending := map[string]*string{}
		for range 1 + rng.IntN(8) {
			k := randKey()
			if rng.IntN(4) == 0 {
				b.Delete(k)
				pending[string(k)] = nil
			} else {
				v := fmt.Sprintf("v%d-%d", round, rng.IntN(1000))
				b.Set(k, []byte(v))
				pending[string(k)] = &v
			}
		}
		if err := b.Commit(round%3 == 0); err != nil {
			t.Fatal(err)
		}
		for k, v := range pending {
			if v == nil {
				delete(model, k)
			} else {
				model[k] = *v
			}
		}
		if round == 100 {
			if err := kv.Close(); err != nil {
				t.Fatal(err)
			}
			kv = openKV(t, h, dir)
		}
	}
	defer kv.Close()
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range model {
			if !yield(k) {
				return
			}
		}
	})
	var want []string
	for _, k := range keys {
		want = append(want, k+"="+model[k])
	}
	if got := collect(t, kv, backend.IterOptions{}); !slices.Equal(got, want) {
		t.Fatalf("store differs from model:\n got %q\nwant %q", got, want)
	}
	for range 100 {
		k := randKey()
		v, ok := mustGet(t, kv, string(k))
		mv, mok := model[string(k)]
		if ok != mok || v != mv {
			t.Fatalf("Get(%x) = %q, %v; model has %q, %v", k, v, ok, mv, mok)
		}
	}
}
