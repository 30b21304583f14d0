package conformance

import (
	"bytes"
	"sync"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/memory"
)

// flaw is a deliberate break of the engine contract, which the suites must
// catch.
type flaw string

const (
	// noFlaw keeps the contract.
	noFlaw flaw = ""
	// dropLastWrite: Commit applies every write of a batch but its last.
	dropLastWrite flaw = "drop-last-write"
	// iteratorSkipsKey: an iterator never returns the second key of its
	// range.
	iteratorSkipsKey flaw = "iterator-skips-key"
	// iteratorSwapsKeys: an iterator returns the keys of its range two by
	// two in the wrong order (the second, the first, the fourth, ...).
	iteratorSwapsKeys flaw = "iterator-swaps-keys"
	// getIgnoresBatch: Get does not see the last batch committed; it
	// returns what its keys held before it. Iterators see it.
	getIgnoresBatch flaw = "get-ignores-batch"
	// syncDoesNotSync (fileEngine only): neither Commit with sync nor
	// KV.Sync makes batches durable; only Close does.
	syncDoesNotSync flaw = "sync-does-not-sync"
)

// flawedEngine is the memory engine with a flaw.
type flawedEngine struct{ flaw flaw }

var _ backend.Engine = flawedEngine{}

func (e flawedEngine) Open(dir string, o backend.Options) (backend.KV, error) {
	kv, err := memory.Engine{}.Open(dir, o)
	if err != nil {
		return nil, err
	}
	return &flawedKV{KV: kv, flaw: e.flaw}, nil
}

type flawedKV struct {
	backend.KV
	flaw flaw

	// getIgnoresBatch: commits hold mu; stale maps the keys of the last
	// batch to what they held before it (nil: absent).
	mu    sync.Mutex
	stale map[string][]byte
}

func (kv *flawedKV) Get(key []byte) ([]byte, bool, error) {
	if kv.flaw == getIgnoresBatch {
		kv.mu.Lock()
		old, ok := kv.stale[string(key)]
		kv.mu.Unlock()
		if ok {
			if old == nil {
				return nil, false, nil
			}
			return bytes.Clone(old), true, nil
		}
	}
	return kv.KV.Get(key)
}

func (kv *flawedKV) NewIterator(o backend.IterOptions) (backend.Iterator, error) {
	it, err := kv.KV.NewIterator(o)
	switch {
	case err != nil:
		return nil, err
	case kv.flaw == iteratorSkipsKey:
		return &skippingIterator{Iterator: it}, nil
	case kv.flaw == iteratorSwapsKeys:
		return &swappingIterator{Iterator: it}, nil
	}
	return it, nil
}

func (kv *flawedKV) NewBatch() backend.Batch { return &flawedBatch{kv: kv} }

// skippingIterator skips the second key of its range.
type skippingIterator struct {
	backend.Iterator
	n int
}

func (it *skippingIterator) Next() bool {
	if it.n++; it.n == 2 && !it.Iterator.Next() {
		return false
	}
	return it.Iterator.Next()
}

// swappingIterator returns the keys two by two in the wrong order.
type swappingIterator struct {
	backend.Iterator
	ahead [][2][]byte // keys and values read ahead, returned last first
	cur   [2][]byte
}

func (it *swappingIterator) Next() bool {
	if len(it.ahead) == 0 {
		for len(it.ahead) < 2 && it.Iterator.Next() {
			it.ahead = append(it.ahead, [2][]byte{bytes.Clone(it.Iterator.Key()), bytes.Clone(it.Iterator.Value())})
		}
		if len(it.ahead) == 0 {
			return false
		}
	}
	it.cur, it.ahead = it.ahead[len(it.ahead)-1], it.ahead[:len(it.ahead)-1]
	return true
}

func (it *swappingIterator) Key() []byte   { return it.cur[0] }
func (it *swappingIterator) Value() []byte { return it.cur[1] }

type flawedOp struct {
	key, value []byte
	del        bool
}

type flawedBatch struct {
	kv  *flawedKV
	ops []flawedOp
}

func (b *flawedBatch) Set(key, value []byte) {
	b.ops = append(b.ops, flawedOp{key: bytes.Clone(key), value: append([]byte{}, value...)})
}

func (b *flawedBatch) Delete(key []byte) {
	b.ops = append(b.ops, flawedOp{key: bytes.Clone(key), del: true})
}

func (b *flawedBatch) Len() int { return len(b.ops) }

func (b *flawedBatch) Commit(sync bool) error {
	ops := b.ops
	if b.kv.flaw == dropLastWrite && len(ops) > 0 {
		ops = ops[:len(ops)-1]
	}
	var stale map[string][]byte
	if b.kv.flaw == getIgnoresBatch {
		b.kv.mu.Lock()
		defer b.kv.mu.Unlock()
		stale = map[string][]byte{}
		for _, o := range ops {
			if _, seen := stale[string(o.key)]; seen {
				continue
			}
			old, _, err := b.kv.KV.Get(o.key)
			if err != nil {
				return err
			}
			stale[string(o.key)] = old
		}
	}
	inner := b.kv.KV.NewBatch()
	defer inner.Close()
	for _, o := range ops {
		if o.del {
			inner.Delete(o.key)
		} else {
			inner.Set(o.key, o.value)
		}
	}
	if err := inner.Commit(sync); err != nil {
		return err
	}
	if stale != nil {
		b.kv.stale = stale
	}
	return nil
}

func (b *flawedBatch) Close() {}
