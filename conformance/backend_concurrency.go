package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/stretchr/testify/require"
)

// testConcurrentReadersAndWriter runs four readers (two forward, two
// reverse) while one goroutine commits 300 batches: every iterator returns
// its keys in order, sees at least every batch whose Commit had returned
// before it was made, and Get sees them too. A reader stops at its first
// error, and the readers stop when the writer does, even when it fails.
func testConcurrentReadersAndWriter(t *testing.T, h Harness) {
	kv := newKV(t, h)
	const n = 300
	var committed atomic.Int64 // batches whose Commit returned
	done := make(chan struct{})
	var mu sync.Mutex
	var errs []error
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, fmt.Errorf(format, args...))
	}
	var wg sync.WaitGroup
	for r := range 4 {
		reverse := r%2 == 1
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				before := int(committed.Load())
				if before > 0 {
					if _, ok, err := kv.Get(fmt.Appendf(nil, "c%04d", before-1)); err != nil || !ok {
						report("reader %d: Get of the key of commit %d, which returned: found=%v, %v", r, before, ok, err)
						return
					}
				}
				if msg := scanRange(kv, reverse, n, before); msg != "" {
					report("reader %d: %s", r, msg)
					return
				}
			}
		})
	}
	stop := sync.OnceFunc(func() {
		close(done)
		stopped := make(chan struct{})
		go func() { wg.Wait(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(h.waitLimit()):
			report("the readers did not stop within %v", h.waitLimit())
		}
	})
	defer stop() // also when the writer fails
	for i := range n {
		b := kv.NewBatch()
		b.Set(fmt.Appendf(nil, "c%04d", i), []byte("v"))
		b.Set(fmt.Appendf(nil, "d%04d", i), []byte("w"))
		require.NoError(t, b.Commit(i%10 == 0))
		committed.Store(int64(i + 1))
	}
	stop()
	require.NoError(t, errors.Join(errs...))
	require.Len(t, collect(t, kv, backend.IterOptions{Lower: []byte("c"), Upper: []byte("d")}), n)
}

// scanRange iterates over the "c" keys and returns what is wrong with what
// it saw: keys out of order, fewer than min keys, more than max, or an
// error; "" when nothing is.
func scanRange(kv backend.KV, reverse bool, max, min int) string {
	it, err := kv.NewIterator(backend.IterOptions{Lower: []byte("c"), Upper: []byte("d"), Reverse: reverse})
	if err != nil {
		return fmt.Sprintf("NewIterator: %v", err)
	}
	var prev []byte
	count := 0
	msg := ""
	for msg == "" && it.Next() {
		k := it.Key()
		if c := bytes.Compare(prev, k); prev != nil && (c == 0 || (c > 0) != reverse) {
			msg = fmt.Sprintf("keys out of order (reverse=%v): %q then %q", reverse, prev, k)
		}
		prev = bytes.Clone(k)
		if count++; count > max {
			msg = fmt.Sprintf("more than the %d keys ever written", max)
		}
	}
	if err := it.Close(); err != nil && msg == "" {
		msg = fmt.Sprintf("iterate: %v", err)
	}
	if msg == "" && count < min {
		msg = fmt.Sprintf("an iterator saw %d keys after %d commits had returned", count, min)
	}
	return msg
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
		require.NoError(t, b.Commit(round%3 == 0), "round %d", round)
		for k, v := range pending {
			if v == nil {
				delete(model, k)
			} else {
				model[k] = *v
			}
		}
		if round == 100 {
			require.NoError(t, kv.Close())
			kv = openKV(t, h, dir)
		}
	}
	defer kv.Close()
	var want []string
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range model {
			if !yield(k) {
				return
			}
		}
	}) {
		want = append(want, k+"="+model[k])
	}
	require.Equal(t, want, collect(t, kv, backend.IterOptions{}), "the store differs from the model")
	for range 100 {
		k := randKey()
		v, ok := mustGet(t, kv, string(k))
		mv, mok := model[string(k)]
		require.Equal(t, mok, ok, "Get(%x) found", k)
		require.Equal(t, mv, v, "Get(%x)", k)
	}
}
