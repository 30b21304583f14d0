// Package faultkv wraps an engine of package backend to count its calls and
// to inject failures into them, for the tests of the layers above.
package faultkv

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/durablelog/eventstore/backend"
)

// ErrInjected is the error an injected fault returns, wrapped.
var ErrInjected = errors.New("faultkv: injected fault")

// Faults selects what fails. A zero field injects nothing. The counters
// count down: the Nth call from now fails (1 = the next one), and every call
// after it fails too, as a dead disk would.
type Faults struct {
	CommitAfter int64 // Batch.Commit
	SyncAfter   int64 // Batch.Commit with sync=true, and KV.Sync
	GetAfter    int64 // KV.Get
	IterAfter   int64 // KV.NewIterator
}

// Engine wraps Inner.
type Engine struct {
	Inner backend.Engine

	// BeforeCommit, if set, runs at the start of every Batch.Commit, for
	// tests that hold a commit back.
	BeforeCommit func()

	// BeforeSync, if set, runs at the start of every KV.Sync, for tests
	// that hold a sync back.
	BeforeSync func()

	mu      sync.Mutex
	faults  Faults
	Commits atomic.Int64 // batches committed (successfully or not)
	Syncs   atomic.Int64 // synced commits and Sync calls
}

// Inject replaces the active faults.
func (e *Engine) Inject(f Faults) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = f
}

// fire counts down the fault selected by pick and reports whether it fails.
func (e *Engine) fire(pick func(*Faults) *int64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := pick(&e.faults)
	switch {
	case *c == 0:
		return false
	case *c == 1:
		return true // stays at 1: every later call fails too
	default:
		*c--
		return false
	}
}

// Open implements backend.Engine.
func (e *Engine) Open(dir string, opts backend.Options) (backend.KV, error) {
	kv, err := e.Inner.Open(dir, opts)
	if err != nil {
		return nil, err
	}
	return &kvWrap{KV: kv, e: e}, nil
}

type kvWrap struct {
	backend.KV
	e *Engine
}

func (k *kvWrap) Get(key []byte) ([]byte, bool, error) {
	if k.e.fire(func(f *Faults) *int64 { return &f.GetAfter }) {
		return nil, false, ErrInjected
	}
	return k.KV.Get(key)
}

func (k *kvWrap) NewIterator(o backend.IterOptions) (backend.Iterator, error) {
	if k.e.fire(func(f *Faults) *int64 { return &f.IterAfter }) {
		return nil, ErrInjected
	}
	return k.KV.NewIterator(o)
}

func (k *kvWrap) NewBatch() backend.Batch { return &batchWrap{Batch: k.KV.NewBatch(), e: k.e} }

func (k *kvWrap) Sync() error {
	if k.e.BeforeSync != nil {
		k.e.BeforeSync()
	}
	k.e.Syncs.Add(1)
	if k.e.fire(func(f *Faults) *int64 { return &f.SyncAfter }) {
		return ErrInjected
	}
	return k.KV.Sync()
}

type batchWrap struct {
	backend.Batch
	e *Engine
}

func (b *batchWrap) Commit(sync bool) error {
	if b.e.BeforeCommit != nil {
		b.e.BeforeCommit()
	}
	b.e.Commits.Add(1)
	if b.e.fire(func(f *Faults) *int64 { return &f.CommitAfter }) {
		b.Batch.Close()
		return ErrInjected
	}
	if sync {
		b.e.Syncs.Add(1)
		// The write reaches the engine, then the sync fails: the batch's
		// durability is unknown, as after a real fsync error.
		if b.e.fire(func(f *Faults) *int64 { return &f.SyncAfter }) {
			if err := b.Batch.Commit(false); err != nil {
				return err
			}
			return ErrInjected
		}
	}
	return b.Batch.Commit(sync)
}
