package conformance

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/memory"
)

// fileEngine is a small on-disk engine whose machine is its process: the
// power cut of that machine is a kill -9 of the process. Committed batches
// live in the process (in the memory engine, which serves reads, and in a
// buffer) until a sync (Commit with sync, KV.Sync, Close) appends them to
// the file "batches" of the store's directory and fsyncs it; the batches
// still in the buffer are lost when the process dies, and when powerCut
// simulates it in the process. Open replays the file: a record, one batch,
// is a length, a CRC-32C and the batch's writes; a torn last record is cut.
//
// It keeps the contract except for one point that the suites do not use: a
// batch committed without sync is lost by a kill -9 of the process, not
// only by a power cut. With flaw syncDoesNotSync, neither Commit with sync
// nor KV.Sync writes the buffer: only Close does.
type fileEngine struct {
	flaw flaw

	mu   sync.Mutex
	open map[*fileKV]bool
}

var _ backend.Engine = (*fileEngine)(nil)

func (e *fileEngine) Open(dir string, o backend.Options) (backend.KV, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "batches")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	// The memory engine keeps a closed store's data in the process: start
	// from what the file holds.
	memory.Forget(dir)
	mem, err := memory.Engine{}.Open(dir, o)
	if err != nil {
		f.Close()
		return nil, err
	}
	kv := &fileKV{KV: mem, eng: e, f: f}
	if err := kv.replay(); err != nil {
		f.Close()
		mem.Close()
		return nil, fmt.Errorf("fileengine: %s: %w", path, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.open == nil {
		e.open = map[*fileKV]bool{}
	}
	e.open[kv] = true
	return kv, nil
}

// powerCut loses the buffered batches of every open store, and makes them
// write nothing more: the power is off.
func (e *fileEngine) powerCut() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for kv := range e.open {
		kv.mu.Lock()
		kv.cut, kv.pending = true, nil
		kv.mu.Unlock()
	}
}

type fileKV struct {
	backend.KV // the memory engine: the state in the process
	eng        *fileEngine

	mu      sync.Mutex // orders commits and flushes
	f       *os.File
	pending []byte // records not yet in the file
	cut     bool
}

const (
	opSet byte = 1
	opDel byte = 2
)

// replay applies the records of the file, and cuts a torn last record.
func (kv *fileKV) replay() error {
	data, err := io.ReadAll(kv.f)
	if err != nil {
		return err
	}
	good := 0
	for {
		rest := data[good:]
		if len(rest) < 8 {
			break
		}
		n := int(binary.LittleEndian.Uint32(rest))
		if n > len(rest)-8 || crc32.Checksum(rest[8:8+n], crcTable) != binary.LittleEndian.Uint32(rest[4:]) {
			break
		}
		if err := kv.apply(rest[8 : 8+n]); err != nil {
			return err
		}
		good += 8 + n
	}
	if good < len(data) {
		if err := kv.f.Truncate(int64(good)); err != nil {
			return err
		}
		if err := kv.f.Sync(); err != nil {
			return err
		}
	}
	_, err = kv.f.Seek(int64(good), io.SeekStart)
	return err
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// apply commits the writes of one record to the memory engine.
func (kv *fileKV) apply(rec []byte) error {
	b := kv.KV.NewBatch()
	defer b.Close()
	for len(rec) > 0 {
		op := rec[0]
		rec = rec[1:]
		key, rest, err := readBytes(rec)
		if err != nil {
			return err
		}
		rec = rest
		switch op {
		case opSet:
			value, rest, err := readBytes(rec)
			if err != nil {
				return err
			}
			rec = rest
			b.Set(key, value)
		case opDel:
			b.Delete(key)
		default:
			return fmt.Errorf("unknown write %d: %w", op, backend.ErrCorrupt)
		}
	}
	return b.Commit(false)
}

func readBytes(b []byte) (field, rest []byte, err error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)-w) {
		return nil, nil, fmt.Errorf("truncated write: %w", backend.ErrCorrupt)
	}
	return b[w : w+int(n)], b[w+int(n):], nil
}

// flushLocked writes the buffered records to the file and syncs it. The
// caller holds mu.
func (kv *fileKV) flushLocked() error {
	if kv.cut {
		return nil
	}
	if len(kv.pending) > 0 {
		if _, err := kv.f.Write(kv.pending); err != nil {
			return err
		}
		kv.pending = nil
	}
	return kv.f.Sync()
}

func (kv *fileKV) NewBatch() backend.Batch { return &fileBatch{kv: kv, inner: kv.KV.NewBatch()} }

func (kv *fileKV) Sync() error {
	if err := kv.KV.Sync(); err != nil || kv.eng.flaw == syncDoesNotSync {
		return err
	}
	kv.mu.Lock()
	defer kv.mu.Unlock()
	return kv.flushLocked()
}

func (kv *fileKV) Close() error {
	kv.eng.mu.Lock()
	delete(kv.eng.open, kv)
	kv.eng.mu.Unlock()
	kv.mu.Lock()
	defer kv.mu.Unlock()
	if err := kv.KV.Close(); err != nil {
		return err
	}
	return errors.Join(kv.flushLocked(), kv.f.Close())
}

type fileBatch struct {
	kv    *fileKV
	inner backend.Batch
	rec   []byte // the writes, encoded
}

func (b *fileBatch) Set(key, value []byte) {
	b.inner.Set(key, value)
	b.rec = append(b.rec, opSet)
	b.rec = binary.AppendUvarint(b.rec, uint64(len(key)))
	b.rec = append(b.rec, key...)
	b.rec = binary.AppendUvarint(b.rec, uint64(len(value)))
	b.rec = append(b.rec, value...)
}

func (b *fileBatch) Delete(key []byte) {
	b.inner.Delete(key)
	b.rec = append(b.rec, opDel)
	b.rec = binary.AppendUvarint(b.rec, uint64(len(key)))
	b.rec = append(b.rec, key...)
}

func (b *fileBatch) Len() int { return b.inner.Len() }

func (b *fileBatch) Commit(sync bool) error {
	kv := b.kv
	kv.mu.Lock()
	defer kv.mu.Unlock()
	if err := b.inner.Commit(sync); err != nil {
		return err
	}
	if kv.cut || len(b.rec) == 0 {
		return nil
	}
	kv.pending = binary.LittleEndian.AppendUint32(kv.pending, uint32(len(b.rec)))
	kv.pending = binary.LittleEndian.AppendUint32(kv.pending, crc32.Checksum(b.rec, crcTable))
	kv.pending = append(kv.pending, b.rec...)
	if sync && kv.eng.flaw != syncDoesNotSync {
		return kv.flushLocked()
	}
	return nil
}

func (b *fileBatch) Close() { b.inner.Close() }
