package rocksdb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/linxGnu/grocksdb"
)

// Checkpoint implements backend.Checkpointer with a RocksDB checkpoint: it
// flushes the memtable, then writes into dir, which must not exist yet, hard
// links to the table files (copies when dir is on another file system) and
// copies of the other files. The result is a store that Open accepts, holding
// at least every batch committed before the call, synced or not.
func (s *kv) Checkpoint(dir string) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed
	}
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("rocksdb: checkpoint of %s into %s: %w (the checkpoint directory must not exist yet)", s.dir, dir, fs.ErrExist)
	}
	cp, err := s.db.NewCheckpoint()
	if err != nil {
		return wrap("checkpoint", s.dir, err)
	}
	defer cp.Destroy()
	// 0: always flush the memtable first, so that the copy does not depend
	// on replaying a WAL.
	return wrap("checkpoint of", s.dir+" into "+dir, cp.CreateCheckpoint(dir, 0))
}

// Compact implements backend.Compacter: it flushes the memtable into a table
// file, then compacts the whole key space, and returns when both are done.
// RocksDB reports no error from a manual compaction, so Compact returns one
// when RocksDB counted a new background error while it ran; the store's LOG
// file has the details.
func (s *kv) Compact() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed
	}
	before, _ := s.db.GetIntProperty("rocksdb.background-errors")

	fo := grocksdb.NewDefaultFlushOptions()
	defer fo.Destroy()
	fo.SetWait(true)
	if err := s.db.Flush(fo); err != nil {
		return wrap("flush", s.dir, err)
	}
	s.db.CompactRange(grocksdb.Range{}) // nil bounds: everything

	if after, _ := s.db.GetIntProperty("rocksdb.background-errors"); after > before {
		return wrap("compact", s.dir, errors.New("RocksDB reported a background error; see the LOG file in the store's directory"))
	}
	return nil
}

// EngineVersion implements backend.Namer. It returns "rocksdb " followed by
// the version of the linked library, for example "rocksdb 7.8.3".
func (s *kv) EngineVersion() string { return "rocksdb " + Version() }
