package dump

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
)

// Magic opens every dump: "ESDUMP", a NUL byte and the format version.
const Magic = "ESDUMP\x00"

// Version is the format version this package writes and reads.
const Version = 1

// MaxFrame is the largest frame body a reader accepts: 1 GiB.
const MaxFrame = 1 << 30

// Frame kinds.
const (
	kindHeader  = 'H'
	kindRecord  = 'R'
	kindTrailer = 'T'
)

const trailerLen = 8 + 8 + 8 + 32

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header describes a dump. It is written first, as JSON.
type Header struct {
	// Version is the format version (Version).
	Version int `json:"version"`
	// Backend is the engine of the store the dump was taken from, for
	// information: a dump imports into any engine.
	Backend string `json:"backend,omitempty"`
	// Head is the offset of the last record the dump holds; the dump holds
	// every record from offset 1 to Head, and none when Head is 0.
	Head logstore.Offset `json:"head"`
	// Created is when the dump was started, in UTC.
	Created time.Time `json:"created"`
}

// Trailer closes a dump: what a reader checks the records against.
type Trailer struct {
	Records   uint64          // number of records
	Last      logstore.Offset // offset of the last record, 0 for none
	DataBytes uint64          // sum of the records' data lengths
	Hash      Sum             // content hash of the records
}

// Writer writes a dump. It is not safe for concurrent use.
type Writer struct {
	bw     *bufio.Writer
	head   logstore.Offset
	hasher *Hasher
	last   logstore.Offset
	frame  []byte
	body   []byte
	n      int64 // bytes written
	err    error
	closed bool
}

// NewWriter writes the magic and the header h to w and returns a Writer for
// the records. h.Version is set to Version and a zero h.Created to now.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	h.Version = Version
	if h.Created.IsZero() {
		h.Created = time.Now()
	}
	h.Created = h.Created.UTC()
	hb, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("dump: encode the header: %w", err)
	}
	dw := &Writer{bw: bufio.NewWriterSize(w, 1<<20), head: h.Head, hasher: NewHasher()}
	dw.write(append([]byte(Magic), Version))
	dw.writeFrame(kindHeader, hb)
	if dw.err != nil {
		return nil, dw.err
	}
	return dw, nil
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	n, err := w.bw.Write(b)
	w.n += int64(n)
	if err != nil {
		w.err = fmt.Errorf("dump: write: %w", err)
	}
}

func (w *Writer) writeFrame(kind byte, body []byte) {
	f := append(w.frame[:0], kind)
	f = binary.AppendUvarint(f, uint64(len(body)))
	crc := crc32.Update(crc32.Checksum(f, castagnoli), castagnoli, body)
	w.write(f)
	w.write(body)
	w.write(binary.BigEndian.AppendUint32(f[:0], crc))
	w.frame = f[:0]
}

// Write appends one record. Records must come in offset order from 1 on,
// and stay within the header's head.
func (w *Writer) Write(r *logstore.Record) error {
	if w.closed {
		return errors.New("dump: Write after Close")
	}
	if w.err != nil {
		return w.err
	}
	if r.Offset != w.last+1 {
		return fmt.Errorf("dump: record at offset %d after offset %d: records must follow each other from offset 1", r.Offset, w.last)
	}
	if r.Offset > w.head {
		return fmt.Errorf("dump: record at offset %d is past the head %d announced in the header", r.Offset, w.head)
	}
	w.body = record.AppendBody(w.body[:0], r)
	if len(w.body) > MaxFrame {
		return fmt.Errorf("dump: record at offset %d is %d bytes, larger than the %d a dump frame holds", r.Offset, len(w.body), MaxFrame)
	}
	w.writeFrame(kindRecord, w.body)
	w.hasher.addBody(w.body, len(r.Data))
	w.last = r.Offset
	return w.err
}

// BytesWritten returns the number of bytes written so far, buffered ones
// included.
func (w *Writer) BytesWritten() int64 { return w.n }

// Close writes the trailer and flushes. It fails when fewer records were
// written than the header announced. It does not close the underlying
// writer.
func (w *Writer) Close() (Trailer, error) {
	tr := Trailer{Records: w.hasher.Count(), Last: w.last, DataBytes: w.hasher.DataBytes(), Hash: w.hasher.Sum()}
	if w.closed {
		return tr, errors.New("dump: Close called twice")
	}
	w.closed = true
	if w.err != nil {
		return tr, w.err
	}
	if w.last != w.head {
		return tr, fmt.Errorf("dump: %d records written, the header announced %d: the dump is incomplete", w.last, w.head)
	}
	w.writeFrame(kindTrailer, encodeTrailer(tr))
	if w.err == nil {
		if err := w.bw.Flush(); err != nil {
			w.err = fmt.Errorf("dump: write: %w", err)
		}
	}
	return tr, w.err
}

func encodeTrailer(t Trailer) []byte {
	b := make([]byte, 0, trailerLen)
	b = binary.BigEndian.AppendUint64(b, t.Records)
	b = binary.BigEndian.AppendUint64(b, uint64(t.Last))
	b = binary.BigEndian.AppendUint64(b, t.DataBytes)
	return append(b, t.Hash[:]...)
}
