package sqlite

import (
	"fmt"
)

// op is one Set or Delete of a batch; its key and value are ranges of the
// batch's buffer.
type op struct {
	k0, k1, v1 int // key is buf[k0:k1], value is buf[k1:v1]
	del        bool
}

func (o op) key(buf []byte) []byte { return buf[o.k0:o.k1] }

// value returns the value of a Set. It is never nil, even when empty: a nil
// []byte would be bound as SQL NULL, which the value column rejects.
func (o op) value(buf []byte) []byte { return buf[o.k1:o.v1:o.v1] }

// batch is a backend.Batch: the writes are buffered in memory and applied in
// one SQLite transaction by Commit.
type batch struct {
	s    *kv
	ops  []op
	buf  []byte // keys and values, back to back
	done bool   // committed or closed
}

// Set stores value under key. The batch copies both slices. Set panics when
// the batch was already committed or closed.
func (b *batch) Set(key, value []byte) {
	if b.done {
		panic("sqlite: Set on a batch that was already committed or closed; create a new batch with NewBatch")
	}
	k0 := len(b.buf)
	b.buf = append(b.buf, key...)
	k1 := len(b.buf)
	b.buf = append(b.buf, value...)
	b.ops = append(b.ops, op{k0: k0, k1: k1, v1: len(b.buf)})
}

// Delete removes key. The batch copies the slice. Delete panics when the
// batch was already committed or closed.
func (b *batch) Delete(key []byte) {
	if b.done {
		panic("sqlite: Delete on a batch that was already committed or closed; create a new batch with NewBatch")
	}
	k0 := len(b.buf)
	b.buf = append(b.buf, key...)
	b.ops = append(b.ops, op{k0: k0, k1: len(b.buf), v1: len(b.buf), del: true})
}

// Len returns the number of Set and Delete calls so far.
func (b *batch) Len() int { return len(b.ops) }

// Commit applies the batch in one SQLite transaction and releases it. With
// sync it returns once the transaction's frames in the write-ahead log are
// fsynced (synchronous=FULL); without sync, once they are written to the
// operating system (synchronous=NORMAL): see "Durability" in the package
// documentation. An empty batch writes nothing; with sync it does what
// KV.Sync does. After Close of the store Commit returns an error wrapping
// backend.ErrClosed. Any other error leaves the batch's outcome unknown and
// fails the store, which then refuses every write.
func (b *batch) Commit(sync bool) error {
	if b.done {
		return errBatchDone
	}
	ops, buf := b.ops, b.buf
	b.Close()
	s := b.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed("commit")
	}
	w := s.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if fe := s.failed.Load(); fe != nil {
		return fmt.Errorf("sqlite: commit in %s: %w", s.file, fe)
	}
	var err error
	if len(ops) == 0 {
		if !sync {
			return nil
		}
		err = w.sync()
	} else {
		err = w.apply(ops, buf, sync)
	}
	if err != nil {
		return s.fail("commit", err)
	}
	return nil
}

// Close releases a batch that will not be committed. After Commit it does
// nothing.
func (b *batch) Close() {
	b.done = true
	b.ops, b.buf = nil, nil
}
