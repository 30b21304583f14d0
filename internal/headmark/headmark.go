package headmark

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/durablelog/eventstore/internal/fsutil"
	"github.com/durablelog/eventstore/internal/layout"
	"github.com/durablelog/eventstore/logstore"
)

// FileName is the mark's file name in the store's directory.
const FileName = layout.HeadMarkFile

const (
	magic      = "ESHM"
	version    = 1
	slotSize   = 48
	slotStride = 4096
	fileSize   = slotStride + slotSize
	flagClean  = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Mark is what a slot records.
type Mark struct {
	// Head is the highest offset acknowledged to a caller when the mark
	// was written.
	Head logstore.Offset
	// Durable is the highest offset known to be on stable storage then; it
	// is at most Head.
	Durable logstore.Offset
	// Generation is the store's generation then.
	Generation uint64
	// Clean is set by a clean Close: nothing was written after it.
	Clean bool

	seq uint64
}

// File is an open mark file. It is not safe for concurrent use.
type File struct {
	f    *os.File
	path string
	last Mark
	buf  [slotSize]byte
}

// ErrNotFound is returned by Open when the file does not exist.
var ErrNotFound = errors.New("head mark not found")

// Create writes a new mark file in dir holding m, durably (the file and its
// directory entry), replacing any file there.
func Create(dir string, m Mark) (*File, error) {
	path := filepath.Join(dir, FileName)
	data := make([]byte, fileSize)
	m.seq = 1
	encode(data[slotStride:], m) // slot 1 holds seq 1; slot 0 is empty
	if err := fsutil.WriteFileAtomic(path, data, 0o644); err != nil {
		return nil, fmt.Errorf("create the head mark: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open the head mark %s: %w", path, err)
	}
	return &File{f: f, path: path, last: m}, nil
}

// Open opens the mark file in dir and returns it with the mark it holds. It
// fails with ErrNotFound when there is none, and with an error wrapping
// backend.ErrCorrupt, naming the file, when neither slot is valid.
func Open(dir string) (*File, Mark, error) {
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Mark{}, ErrNotFound
	}
	if err != nil {
		return nil, Mark{}, fmt.Errorf("open the head mark %s: %w", path, err)
	}
	m, err := read(f, path)
	if err != nil {
		_ = f.Close()
		return nil, Mark{}, err
	}
	return &File{f: f, path: path, last: m}, m, nil
}

func read(f *os.File, path string) (Mark, error) {
	var best Mark
	found := false
	for slot := range 2 {
		b := make([]byte, slotSize)
		n, err := f.ReadAt(b, int64(slot*slotStride))
		if n < slotSize {
			if err != nil && !errors.Is(err, io.EOF) {
				return Mark{}, fmt.Errorf("read the head mark %s: %w", path, err)
			}
			continue
		}
		m, ok := decode(b)
		if ok && (!found || m.seq > best.seq) {
			best, found = m, true
		}
	}
	if !found {
		return Mark{}, &logstore.CorruptionError{File: path, Err: fmt.Errorf("%w: the head mark has no valid slot: it is damaged; remove it to open the store without checking where its log should end (see docs/recovery.md)", logstore.ErrCorrupt)}
	}
	return best, nil
}

// Last returns the mark written last.
func (h *File) Last() Mark { return h.last }

// Write records m in the older slot with a plain write, without fsync.
func (h *File) Write(m Mark) error {
	m.seq = h.last.seq + 1
	encode(h.buf[:], m)
	if _, err := h.f.WriteAt(h.buf[:], int64(m.seq%2)*slotStride); err != nil {
		return fmt.Errorf("write the head mark %s: %w", h.path, err)
	}
	h.last = m
	return nil
}

// WriteSync records m like Write and fsyncs the file.
func (h *File) WriteSync(m Mark) error {
	if err := h.Write(m); err != nil {
		return err
	}
	if err := h.f.Sync(); err != nil {
		return fmt.Errorf("sync the head mark %s: %w", h.path, err)
	}
	return nil
}

// Close closes the file.
func (h *File) Close() error {
	if err := h.f.Close(); err != nil {
		return fmt.Errorf("close the head mark %s: %w", h.path, err)
	}
	return nil
}

func encode(b []byte, m Mark) {
	clear(b[:slotSize])
	copy(b, magic)
	b[4] = version
	if m.Clean {
		b[5] = flagClean
	}
	binary.LittleEndian.PutUint64(b[8:], m.seq)
	binary.LittleEndian.PutUint64(b[16:], uint64(m.Head))
	binary.LittleEndian.PutUint64(b[24:], uint64(m.Durable))
	binary.LittleEndian.PutUint64(b[32:], m.Generation)
	binary.LittleEndian.PutUint32(b[40:], crc32.Checksum(b[:40], castagnoli))
}

func decode(b []byte) (Mark, bool) {
	if string(b[:4]) != magic || b[4] != version || binary.LittleEndian.Uint32(b[40:]) != crc32.Checksum(b[:40], castagnoli) {
		return Mark{}, false
	}
	m := Mark{
		Clean:      b[5]&flagClean != 0,
		seq:        binary.LittleEndian.Uint64(b[8:]),
		Head:       logstore.Offset(binary.LittleEndian.Uint64(b[16:])),
		Durable:    logstore.Offset(binary.LittleEndian.Uint64(b[24:])),
		Generation: binary.LittleEndian.Uint64(b[32:]),
	}
	return m, m.Durable <= m.Head
}
