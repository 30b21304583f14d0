// Package memory is the reference eventstore engine: an ordered in-memory
// key-value store. Importing it registers the engine "memory".
//
// Data lives in the process's memory, in a table keyed by the store's
// directory, so a store survives Close and a reopen of the same directory
// within one process, but not the end of the process. Commit with sync does
// nothing more than Commit without it. Use it in tests, and as the ceiling in
// benchmarks.
package memory

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/durablelog/eventstore/backend"
	"github.com/google/btree"
)

// Name is the name the engine is registered under.
const Name = "memory"

func init() { backend.Register(Name, Engine{}) }

// Engine opens memory stores. The zero value is ready to use.
type Engine struct{}

var _ backend.Engine = Engine{}

type item struct{ key, value []byte }

func less(a, b item) bool { return bytes.Compare(a.key, b.key) < 0 }

// table is the data of one directory. Commits replace the tree with a
// copy-on-write clone, so iterators keep the version they started on.
type table struct {
	mu   sync.Mutex
	tree *btree.BTreeG[item]
	open bool
}

var (
	tablesMu sync.Mutex
	tables   = map[string]*table{}
)

// Open returns the store of dir, creating it empty the first time. It fails
// when dir's store is already open in this process.
func (Engine) Open(dir string, opts backend.Options) (backend.KV, error) {
	if opts.Config != nil {
		return nil, fmt.Errorf("memory: unexpected Config of type %T: the memory engine has no options", opts.Config)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	tablesMu.Lock()
	defer tablesMu.Unlock()
	t := tables[abs]
	if t == nil {
		t = &table{tree: btree.NewG(32, less)}
		tables[abs] = t
	}
	if t.open {
		return nil, fmt.Errorf("memory: store %s is already open", abs)
	}
	t.open = true
	return &kv{t: t}, nil
}

// Forget drops the data kept for dir, as a process exit would. The store must
// be closed. Tests use it to free memory or to simulate a lost disk.
func Forget(dir string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return
	}
	tablesMu.Lock()
	defer tablesMu.Unlock()
	if t := tables[abs]; t != nil && !t.open {
		delete(tables, abs)
	}
}

type kv struct {
	mu     sync.RWMutex // guards closed against Close
	closed bool
	t      *table
}

var _ backend.KV = (*kv)(nil)

var _ backend.BatchIterator = (*iterator)(nil)

func (s *kv) snapshot() (*btree.BTreeG[item], error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("memory: %w", backend.ErrClosed)
	}
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	return s.t.tree.Clone(), nil
}

func (s *kv) Get(key []byte) ([]byte, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, false, fmt.Errorf("memory: %w", backend.ErrClosed)
	}
	s.t.mu.Lock()
	it, ok := s.t.tree.Get(item{key: key})
	s.t.mu.Unlock()
	if !ok {
		return nil, false, nil
	}
	return bytes.Clone(it.value), true, nil
}

func (s *kv) NewIterator(o backend.IterOptions) (backend.Iterator, error) {
	tree, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	return &iterator{tree: tree, o: o}, nil
}

func (s *kv) NewBatch() backend.Batch { return &batch{s: s} }

func (s *kv) Sync() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("memory: %w", backend.ErrClosed)
	}
	return nil
}

func (s *kv) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("memory: %w", backend.ErrClosed)
	}
	s.closed = true
	tablesMu.Lock()
	s.t.open = false
	tablesMu.Unlock()
	return nil
}

// EngineVersion implements backend.Namer.
func (s *kv) EngineVersion() string { return "memory (google/btree)" }

// iterator walks a private copy-on-write clone of the tree, fetching a few
// items at a time past the last key it returned.
type iterator struct {
	tree *btree.BTreeG[item]
	o    backend.IterOptions
	buf  []item
	last []byte // key of the last item returned; nil before the first
	cur  item
	done bool
}

const fetch = 64

func (it *iterator) Next() bool {
	if it.done {
		return false
	}
	if len(it.buf) == 0 {
		it.refill()
		if len(it.buf) == 0 {
			it.done = true
			it.cur = item{}
			return false
		}
	}
	it.cur, it.buf = it.buf[0], it.buf[1:]
	it.last = it.cur.key
	return true
}

func (it *iterator) refill() {
	it.buf = it.buf[:0]
	visit := func(i item) bool {
		if it.last != nil && bytes.Equal(i.key, it.last) {
			return true // the pivot itself was already returned
		}
		if !it.o.Reverse && it.o.Upper != nil && bytes.Compare(i.key, it.o.Upper) >= 0 {
			return false
		}
		if it.o.Reverse && it.o.Lower != nil && bytes.Compare(i.key, it.o.Lower) < 0 {
			return false
		}
		it.buf = append(it.buf, i)
		return len(it.buf) < fetch
	}
	switch {
	case !it.o.Reverse && it.last != nil:
		it.tree.AscendGreaterOrEqual(item{key: it.last}, visit)
	case !it.o.Reverse && it.o.Lower != nil:
		it.tree.AscendGreaterOrEqual(item{key: it.o.Lower}, visit)
	case !it.o.Reverse:
		it.tree.Ascend(visit)
	case it.last != nil:
		it.tree.DescendLessOrEqual(item{key: it.last}, visit)
	case it.o.Upper != nil:
		it.tree.DescendLessOrEqual(item{key: it.o.Upper}, func(i item) bool {
			if bytes.Equal(i.key, it.o.Upper) {
				return true // the upper bound is exclusive
			}
			return visit(i)
		})
	default:
		it.tree.Descend(visit)
	}
}

// NextBatch implements backend.BatchIterator with the Next loop: the
// pairs share the tree's memory, which no commit modifies.
func (it *iterator) NextBatch(pairs []backend.Pair, maxBytes int) int {
	n, size := 0, 0
	for n < len(pairs) && (maxBytes <= 0 || size < maxBytes) && it.Next() {
		pairs[n] = backend.Pair{Key: it.cur.key, Value: it.cur.value}
		size += len(it.cur.key) + len(it.cur.value)
		n++
	}
	it.cur = item{} // Key and Value: the last pair filled, or nil
	if n > 0 {
		it.cur = item{key: pairs[n-1].Key, value: pairs[n-1].Value}
	}
	return n
}

func (it *iterator) Key() []byte   { return it.cur.key }
func (it *iterator) Value() []byte { return it.cur.value }
func (it *iterator) Err() error    { return nil }

func (it *iterator) Close() error {
	it.done = true
	it.buf = nil
	it.tree = nil
	return nil
}

type op struct {
	key, value []byte
	del        bool
}

type batch struct {
	s   *kv
	ops []op
}

func (b *batch) Set(key, value []byte) {
	b.ops = append(b.ops, op{key: bytes.Clone(key), value: append([]byte{}, value...)})
}

func (b *batch) Delete(key []byte) { b.ops = append(b.ops, op{key: bytes.Clone(key), del: true}) }

func (b *batch) Len() int { return len(b.ops) }

func (b *batch) Commit(bool) error {
	s := b.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("memory: %w", backend.ErrClosed)
	}
	if b.ops == nil {
		return nil
	}
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	for _, o := range b.ops {
		if o.del {
			s.t.tree.Delete(item{key: o.key})
		} else {
			s.t.tree.ReplaceOrInsert(item{key: o.key, value: o.value})
		}
	}
	b.ops = nil
	return nil
}

func (b *batch) Close() { b.ops = nil }
