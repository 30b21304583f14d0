package rocksdb

import (
	"errors"
	"runtime"

	"github.com/linxGnu/grocksdb"
)

// batch is a backend.Batch over a RocksDB WriteBatch, which copies keys and
// values into C memory as they are added.
type batch struct {
	s       *kv
	wb      *grocksdb.WriteBatch // nil once committed or closed
	n       int
	cleanup runtime.Cleanup // frees wb if the batch is dropped unreleased
}

func newBatch(s *kv) *batch {
	b := &batch{s: s, wb: grocksdb.NewWriteBatch()}
	// The contract has the caller Commit or Close every batch; the cleanup
	// only keeps a forgotten one from leaking C memory.
	b.cleanup = runtime.AddCleanup(b, (*grocksdb.WriteBatch).Destroy, b.wb)
	return b
}

var errBatchDone = errors.New("rocksdb: batch already committed or closed")

// Set implements backend.Batch. It does nothing on a batch already
// committed or closed.
func (b *batch) Set(key, value []byte) {
	if b.wb == nil {
		return
	}
	b.wb.Put(key, value)
	b.n++
}

// Delete implements backend.Batch. It does nothing on a batch already
// committed or closed.
func (b *batch) Delete(key []byte) {
	if b.wb == nil {
		return
	}
	b.wb.Delete(key)
	b.n++
}

// Len implements backend.Batch.
func (b *batch) Len() int { return b.n }

// Commit implements backend.Batch with DB::Write, with sync=true or
// sync=false in the WriteOptions as the argument says (see the package
// documentation for what each guarantees). It releases the batch, also on
// error. A second Commit returns an error.
func (b *batch) Commit(sync bool) error {
	if b.wb == nil {
		return errBatchDone
	}
	defer b.Close()
	s := b.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed
	}
	wo := s.asyncWO
	if sync {
		wo = s.syncWO
	}
	s.walMu.RLock()
	defer s.walMu.RUnlock()
	if s.failed.Load() {
		return wrap("commit to", s.dir, s.afterFailure())
	}
	if err := s.db.Write(wo, b.wb); err != nil {
		s.setFailed(err)
		return wrap("commit to", s.dir, err)
	}
	return nil
}

// Close implements backend.Batch: it frees the batch. It does nothing after
// Commit or a first Close.
func (b *batch) Close() {
	if b.wb == nil {
		return
	}
	b.cleanup.Stop()
	b.wb.Destroy()
	b.wb = nil
}
