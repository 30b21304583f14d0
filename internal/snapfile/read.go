package snapfile

import (
	"bufio"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/durablelog/eventstore/backend"
)

// Info is a snapshot file found in the directory.
type Info struct {
	Path   string
	Offset uint64 // from the name; the header must agree
}

// RemoveTemp removes the temporary files of unfinished snapshots that a
// crash left behind in dir. Call it only when no snapshot is being written.
func RemoveTemp(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list snapshots in %s: %w", dir, err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".snap.tmp-") {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("remove the unfinished snapshot %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}

// List returns the snapshots in dir, newest first. A missing dir holds none.
func List(dir string) ([]Info, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list snapshots in %s: %w", dir, err)
	}
	var out []Info
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "snap-") || !strings.HasSuffix(name, ".snap") {
			continue
		}
		off, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, "snap-"), ".snap"), 10, 64)
		if err != nil {
			continue
		}
		out = append(out, Info{Path: filepath.Join(dir, name), Offset: off})
	}
	slices.SortFunc(out, func(a, b Info) int { return -cmpU(a.Offset, b.Offset) })
	return out, nil
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ReadHeader reads and checks the header of the snapshot at path.
func ReadHeader(path string) (Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, fmt.Errorf("open snapshot %s: %w", path, err)
	}
	defer f.Close()
	h, _, err := readHeader(f)
	if err != nil {
		return h, fmt.Errorf("snapshot %s: %w", path, err)
	}
	return h, nil
}

func readHeader(f *os.File) (Header, int, error) {
	buf := make([]byte, fixedHeader+MaxFingerprint+4)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Header{}, 0, fmt.Errorf("read header: %w", err)
	}
	return DecodeHeader(buf[:n])
}

// Check verifies the whole file: header, size and content checksum. It reads
// the content once without keeping it.
func Check(path string) (Header, error) {
	r, err := Open(path)
	if err != nil {
		return Header{}, err
	}
	defer r.Close()
	if _, err := io.Copy(io.Discard, r); err != nil {
		return r.h, err
	}
	return r.h, nil
}

// Reader streams a snapshot's content and checks it: a Read that reaches the
// end returns an error wrapping backend.ErrCorrupt, instead of io.EOF, when
// the size or the checksum is wrong.
type Reader struct {
	f    *os.File
	br   *bufio.Reader
	h    Header
	left uint64
	crc  hash.Hash32
	path string
}

// Open opens the snapshot at path and checks its header.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open snapshot %s: %w", path, err)
	}
	h, n, err := readHeader(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("stat snapshot %s: %w", path, err)
	}
	if uint64(fi.Size()) != uint64(n)+h.Size {
		_ = f.Close()
		return nil, fmt.Errorf("%w: snapshot %s has %d bytes, its header says %d", backend.ErrCorrupt, path, fi.Size(), uint64(n)+h.Size)
	}
	if _, err := f.Seek(int64(n), io.SeekStart); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("seek in snapshot %s: %w", path, err)
	}
	return &Reader{f: f, br: bufio.NewReaderSize(f, 256<<10), h: h, left: h.Size, crc: crc32.New(castagnoli), path: path}, nil
}

// Header returns the snapshot's header.
func (r *Reader) Header() Header { return r.h }

// Read implements io.Reader over the content.
func (r *Reader) Read(p []byte) (int, error) {
	if r.left == 0 {
		if got := r.crc.Sum32(); got != r.h.ContentCRC {
			return 0, fmt.Errorf("%w: snapshot %s content checksum mismatch: stored %08x, computed %08x", backend.ErrCorrupt, r.path, r.h.ContentCRC, got)
		}
		return 0, io.EOF
	}
	if uint64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.br.Read(p)
	r.crc.Write(p[:n])
	r.left -= uint64(n)
	if errors.Is(err, io.EOF) && r.left > 0 {
		return n, fmt.Errorf("%w: snapshot %s ends %d bytes early", backend.ErrCorrupt, r.path, r.left)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("read snapshot %s: %w", r.path, err)
	}
	return n, nil
}

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }
