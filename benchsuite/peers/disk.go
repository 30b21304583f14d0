package peers

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// Disk is the physical limit: a log written by hand over a preallocated
// file. Each event is a frame of its data's length and CRC-32C (8 bytes)
// and its data, nothing else (no stream, no version). The file is
// preallocated by writing zeros and syncing, so that an fdatasync after
// an append has only data to write. Concurrent appends share one pwrite
// and one fdatasync (group commit): the writer that finds no write in
// progress writes everything queued so far, the others wait for it. A read
// is one sequential pass over the file. Nothing durable does less per
// event.
var Disk = Peer{Name: "disk", Writers64: true, Open: openDisk}

// diskChunk is how much the disk peer preallocates at a time: the file
// grows by chunks of zeros, synced, when an append would pass its end.
const diskChunk = 16 << 20

const frameHeader = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type diskLog struct {
	f      *os.File
	noSync bool

	mu       sync.Mutex
	cond     sync.Cond
	pending  []byte // frames queued for the next write
	spare    []byte
	queued   uint64 // events queued so far
	durable  uint64 // events durable so far
	off      int64  // end of the durable frames
	size     int64  // the file's preallocated size
	flushing bool
	err      error // a failed write or sync: the log is unusable
}

func openDisk(dir string, o Options) (Log, error) {
	f, err := os.OpenFile(filepath.Join(dir, "log"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("peers: disk: %w", err)
	}
	l := &diskLog{f: f, off: -1, noSync: o.NoSync}
	l.cond.L = &l.mu
	fi, err := f.Stat()
	if err == nil {
		l.size = fi.Size()
		if l.size == 0 {
			l.off = 0
			err = l.grow(diskChunk)
		}
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("peers: disk: %w", err)
	}
	return l, nil
}

// findEnd finds the end of the frames of a file written before, and their
// count, on the first append after an Open: a restart that only reads
// reads the file once.
func (l *diskLog) findEnd() error {
	l.off = 0
	return l.scan(context.Background(), l.size, func(e Event) error {
		l.durable = e.Position
		l.off += int64(frameHeader + len(e.Data))
		return nil
	})
}

// grow extends the file by at least n bytes of zeros, synced.
func (l *diskLog) grow(n int64) error {
	n = (n + diskChunk - 1) / diskChunk * diskChunk
	zeros := make([]byte, 1<<20)
	for done := int64(0); done < n; done += int64(len(zeros)) {
		if _, err := l.f.WriteAt(zeros, l.size+done); err != nil {
			return err
		}
	}
	if err := l.f.Sync(); err != nil {
		return err
	}
	l.size += n
	return nil
}

func (l *diskLog) Append(ctx context.Context, _ string, _ int64, events []Event) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.off < 0 {
		if err := l.findEnd(); err != nil {
			l.err = fmt.Errorf("peers: disk: %w", err)
		}
		l.queued = l.durable
	}
	if l.err != nil {
		return 0, l.err
	}
	for _, e := range events {
		l.pending = binary.LittleEndian.AppendUint32(l.pending, uint32(len(e.Data)))
		l.pending = binary.LittleEndian.AppendUint32(l.pending, crc32.Checksum(e.Data, castagnoli))
		l.pending = append(l.pending, e.Data...)
	}
	l.queued += uint64(len(events))
	mine := l.queued
	for l.durable < mine {
		if l.err != nil {
			return 0, l.err
		}
		if l.flushing {
			l.cond.Wait()
			continue
		}
		l.flush()
	}
	return mine, nil
}

// flush writes and syncs what is queued; it is called with l.mu held and
// unlocks it while it writes.
func (l *diskLog) flush() {
	buf, upto, off := l.pending, l.queued, l.off
	l.pending, l.flushing = l.spare[:0], true
	l.mu.Unlock()
	var err error
	if end := off + int64(len(buf)); end > l.size {
		err = l.grow(end - l.size) // only the flushing writer touches size
	}
	if err == nil {
		_, err = l.f.WriteAt(buf, off)
	}
	if err == nil && !l.noSync {
		err = unix.Fdatasync(int(l.f.Fd()))
	}
	l.mu.Lock()
	l.spare, l.flushing = buf[:0], false
	if err != nil {
		l.err = fmt.Errorf("peers: disk: %w", err)
	} else {
		l.durable, l.off = upto, off+int64(len(buf))
	}
	l.cond.Broadcast()
}

func (l *diskLog) Scan(ctx context.Context, fn func(Event) error) error {
	l.mu.Lock()
	end := l.off
	if end < 0 {
		end = l.size // not appended to since Open: up to the first empty frame
	}
	l.mu.Unlock()
	return l.scan(ctx, end, fn)
}

// scan reads the frames in the first limit bytes of the file, up to the
// first empty one.
func (l *diskLog) scan(ctx context.Context, limit int64, fn func(Event) error) error {
	r := io.NewSectionReader(l.f, 0, limit)
	br := bufio.NewReaderSize(r, 1<<20)
	var head [frameHeader]byte
	var data []byte
	e := Event{Type: "Bench"}
	for pos := uint64(1); ; pos++ {
		if _, err := io.ReadFull(br, head[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			return err
		}
		n := binary.LittleEndian.Uint32(head[:])
		if n == 0 {
			return nil // the zeros after the last frame
		}
		if cap(data) < int(n) {
			data = make([]byte, n)
		}
		data = data[:n]
		if _, err := io.ReadFull(br, data); err != nil {
			return fmt.Errorf("frame %d: %w", pos, err)
		}
		if crc32.Checksum(data, castagnoli) != binary.LittleEndian.Uint32(head[4:]) {
			return fmt.Errorf("frame %d: checksum mismatch", pos)
		}
		e.Position, e.Data = pos, data
		if err := fn(e); err != nil {
			return err
		}
		if pos%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
}

func (l *diskLog) Close() error { return l.f.Close() }

// syncDir fsyncs the directory dir, so that a file created in it survives.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
