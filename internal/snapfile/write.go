package snapfile

import (
	"bufio"
	"fmt"
	"hash"
	"hash/crc32"
	"os"
	"path/filepath"
	"time"

	"github.com/durablelog/eventstore/internal/fsutil"
)

// Name returns the file name of the snapshot at offset.
func Name(offset uint64) string { return fmt.Sprintf("snap-%020d.snap", offset) }

// Hooks lets tests stop a snapshot write between its steps, to simulate a
// crash or a failing disk. Each hook may return an error, which aborts the
// write as a failure of that step would.
type Hooks struct {
	AfterWrite  func(tmp string) error // content written, not synced
	AfterSync   func(tmp string) error // synced, not renamed
	AfterRename func(path string) error
}

// Writer streams one snapshot's content into a temporary file.
type Writer struct {
	dir  string
	f    *os.File
	bw   *bufio.Writer
	crc  hash.Hash32
	h    Header
	err  error
	done bool
}

// Create starts a snapshot of the state at offset in dir.
func Create(dir string, offset uint64, fingerprint string) (*Writer, error) {
	if len(fingerprint) > MaxFingerprint {
		return nil, fmt.Errorf("snapshot fingerprint of %d bytes exceeds %d", len(fingerprint), MaxFingerprint)
	}
	f, err := os.CreateTemp(dir, Name(offset)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create a snapshot file in %s: %w", dir, err)
	}
	w := &Writer{dir: dir, f: f, crc: crc32.New(castagnoli),
		h: Header{Version: Version, Offset: offset, Created: time.Now().UTC(), Fingerprint: fingerprint}}
	w.bw = bufio.NewWriterSize(f, 256<<10)
	if _, err := w.bw.Write(w.h.Encode()); err != nil {
		w.Abort()
		return nil, fmt.Errorf("write snapshot header to %s: %w", f.Name(), err)
	}
	return w, nil
}

// Write appends content. It implements io.Writer.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.bw.Write(p)
	w.crc.Write(p[:n])
	w.h.Size += uint64(n)
	if err != nil {
		w.err = fmt.Errorf("write snapshot %s: %w", w.f.Name(), err)
		return n, w.err
	}
	return n, nil
}

// Header returns the header as it stands: complete once Finish has run.
func (w *Writer) Header() Header { return w.h }

// TempName returns the temporary file's path.
func (w *Writer) TempName() string { return w.f.Name() }

// Flush ends the content: it writes the buffered bytes and the final header
// to the temporary file without syncing. It runs in line with the state
// machine; Commit does the slow, durable part.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("write snapshot %s: %w", w.f.Name(), err)
		return w.err
	}
	w.h.ContentCRC = w.crc.Sum32()
	if _, err := w.f.WriteAt(w.h.Encode(), 0); err != nil {
		w.err = fmt.Errorf("write snapshot header of %s: %w", w.f.Name(), err)
		return w.err
	}
	return nil
}

// Commit makes the flushed snapshot durable under its final name: fsync the
// file, rename it into place, fsync the directory. It returns the final
// path. On any error the temporary file is removed and the snapshot does not
// exist.
func (w *Writer) Commit(hooks Hooks) (string, error) {
	if w.err != nil {
		w.Abort()
		return "", w.err
	}
	tmp := w.f.Name()
	path := filepath.Join(w.dir, Name(w.h.Offset))
	step := func(hook func(string) error, arg string) error {
		if hook == nil {
			return nil
		}
		return hook(arg)
	}
	err := step(hooks.AfterWrite, tmp)
	if err == nil {
		if err = w.f.Sync(); err != nil {
			err = fmt.Errorf("sync snapshot %s: %w", tmp, err)
		}
	}
	if err == nil {
		err = step(hooks.AfterSync, tmp)
	}
	if err != nil {
		w.Abort()
		return "", err
	}
	w.done = true
	if err := w.f.Close(); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("close snapshot %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("rename snapshot %s into place: %w", tmp, err)
	}
	if err := step(hooks.AfterRename, path); err != nil {
		return "", err
	}
	if err := fsutil.SyncDir(w.dir); err != nil {
		return "", err
	}
	return path, nil
}

// Abort drops the snapshot: it closes and removes the temporary file.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	_ = w.f.Close()
	_ = os.Remove(w.f.Name())
}
