package badger

import (
	"errors"
	"fmt"

	bdg "github.com/dgraph-io/badger/v4"
)

// batch buffers writes until Commit applies them in one badger transaction.
type batch struct {
	s    *kv
	ops  []op
	cost int64 // badger's accounting of the batch: see Options.BatchLimits
	done bool  // committed or closed
}

// op is one buffered write. key carries keyPrefix.
type op struct {
	key, value []byte
	del        bool
}

// Set stores value under key when the batch commits. It copies both slices.
func (b *batch) Set(key, value []byte) {
	if b.done {
		return
	}
	v := make([]byte, len(value))
	copy(v, value)
	b.ops = append(b.ops, op{key: withPrefix(key), value: v})
	b.cost += b.writeCost(len(key), len(value))
}

// Delete removes key, if present, when the batch commits. It copies key.
func (b *batch) Delete(key []byte) {
	if b.done {
		return
	}
	b.ops = append(b.ops, op{key: withPrefix(key), del: true})
	b.cost += b.writeCost(len(key), 0)
}

// writeCost mirrors badger's accounting of one write (txn.go:335-344,
// structs.go:147-157): the key with its prefix and version, two meta bytes,
// and the value, or a 12-byte pointer for a value stored in the value log.
func (b *batch) writeCost(keyLen, valueLen int) int64 {
	v := int64(valueLen)
	if v >= b.s.opts.ValueThreshold {
		v = 12
	}
	return int64(keyLen) + 1 + v + 2 + 10
}

// Len returns the number of Set and Delete calls so far.
func (b *batch) Len() int { return len(b.ops) }

// Commit applies the batch atomically in one badger transaction: after a
// crash every write of the batch is present or none is. With sync=false it
// returns once the batch is in the write-ahead log (in the page cache), so
// that it survives a crash of the process; with sync=true it returns only
// once the batch and every batch committed before it are on stable storage.
// A batch larger than one transaction allows fails as a whole, writing
// nothing. An empty batch commits nothing, but with sync=true it still syncs
// the store. Commit releases the batch; a second Commit fails.
func (b *batch) Commit(sync bool) error {
	if b.done {
		return errors.New("badger: Commit of a batch that was already committed or closed: use a new batch")
	}
	b.done = true
	ops, cost := b.ops, b.cost
	b.ops = nil

	s := b.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check("Commit"); err != nil {
		return err
	}
	if len(ops) > 0 {
		vlog, err := s.apply(ops, cost)
		if err != nil {
			return err
		}
		if vlog {
			s.sync.vlogDirty.Store(true)
		}
	}
	if sync {
		return s.sync.sync(s.db)
	}
	return nil
}

// apply writes ops in one transaction. It reports whether a value went to
// the value log.
func (s *kv) apply(ops []op, cost int64) (vlog bool, err error) {
	for _, o := range ops {
		switch {
		case len(o.key) == 1:
			return false, errors.New("badger: Commit of a batch with an empty key: keys must not be empty")
		case len(o.key)-1 > maxKeyLen:
			return false, fmt.Errorf("badger: Commit of a batch with a key of %d bytes: badger limits keys to %d bytes", len(o.key)-1, maxKeyLen)
		case int64(len(o.value)) > s.opts.ValueLogFileSize:
			return false, fmt.Errorf("badger: Commit of a batch with a value of %d bytes under key %s: values are limited to Options.ValueLogFileSize, %d bytes", len(o.value), keyString(o.key[1:]), s.opts.ValueLogFileSize)
		}
		vlog = vlog || int64(len(o.value)) >= s.opts.ValueThreshold
	}

	s.gate.RLock()
	defer s.gate.RUnlock()
	txn := s.db.NewTransaction(true)
	defer txn.Discard() // after Commit it does nothing
	for _, o := range ops {
		if o.del {
			err = txn.Delete(o.key)
		} else {
			err = txn.SetEntry(bdg.NewEntry(o.key, o.value))
		}
		if err != nil {
			return false, s.commitErr(err, len(ops), cost)
		}
	}
	if err := txn.Commit(); err != nil {
		return false, s.commitErr(err, len(ops), cost)
	}
	return vlog, nil
}

// commitErr describes a failed commit; nothing of the batch was applied when
// the error is badger's ErrTxnTooBig.
func (s *kv) commitErr(err error, writes int, cost int64) error {
	if errors.Is(err, bdg.ErrTxnTooBig) {
		return fmt.Errorf("badger: batch of %d writes (about %d bytes as badger counts them) exceeds one transaction, so nothing was written: the limits are %d bytes and %d writes (15%% of Options.MemTableSize %d, see Options.BatchLimits): commit smaller batches or raise MemTableSize: %w",
			writes, cost, s.db.MaxBatchSize(), s.db.MaxBatchCount(), s.opts.MemTableSize, err)
	}
	return wrapErr(s.dir, fmt.Sprintf("commit a batch of %d writes", writes), err)
}

// Close releases a batch that will not be committed. After Commit it does
// nothing.
func (b *batch) Close() {
	b.done = true
	b.ops = nil
}
