package dump

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"iter"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
)

// DamageError reports a dump that failed a check. It wraps backend.ErrCorrupt
// (eventstore.ErrCorrupt).
type DamageError struct {
	// Pos is the byte position in the dump of the frame that failed.
	Pos int64
	// Offset is the offset of the record concerned, 0 when unknown or when
	// the frame is not a record.
	Offset logstore.Offset
	// After is the offset of the last record that passed its checks, 0 for
	// none: an import of the dump would have held the records up to it.
	After logstore.Offset
	// Err says what is wrong; it wraps backend.ErrCorrupt.
	Err error
}

func (e *DamageError) Error() string {
	switch {
	case e.Offset > 0:
		return fmt.Sprintf("damaged dump at byte %d (record at offset %d): %v", e.Pos, e.Offset, e.Err)
	case e.After > 0:
		return fmt.Sprintf("damaged dump at byte %d (after the record at offset %d): %v", e.Pos, e.After, e.Err)
	}
	return fmt.Sprintf("damaged dump at byte %d: %v", e.Pos, e.Err)
}

// Unwrap returns the cause, which wraps backend.ErrCorrupt.
func (e *DamageError) Unwrap() error { return e.Err }

// Reader reads a dump and checks it as it goes: see the package
// documentation. It is not safe for concurrent use.
type Reader struct {
	br       *bufio.Reader
	pos      int64 // bytes consumed
	header   Header
	trailer  Trailer
	hasher   *Hasher
	last     logstore.Offset
	versions map[string]uint64 // stream -> last version read
	body     bytes.Buffer
	err      error
}

// NewReader reads and checks the magic and the header from r.
func NewReader(r io.Reader) (*Reader, error) {
	dr := &Reader{br: bufio.NewReaderSize(r, 1<<20), hasher: NewHasher(), versions: map[string]uint64{}}
	var magic [len(Magic) + 1]byte
	n, err := io.ReadFull(dr.br, magic[:])
	dr.pos += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		// An input that fails is not a damaged dump.
		return nil, fmt.Errorf("dump: read: %w", err)
	}
	switch {
	case err != nil && n == 0:
		return nil, dr.damage(0, 0, "the input is empty, not a dump")
	case err != nil || string(magic[:len(Magic)]) != Magic:
		return nil, dr.damage(0, 0, "not an eventstore dump (it starts with %q, a dump with %q)", magic[:n], Magic)
	case magic[len(Magic)] != Version:
		return nil, fmt.Errorf("dump: format version %d; this build reads version %d: use the eventstore release that wrote it, or a newer one", magic[len(Magic)], Version)
	}
	pos := dr.pos
	kind, body, err := dr.frame()
	if err != nil {
		return nil, err
	}
	if kind != kindHeader {
		return nil, dr.damage(pos, 0, "frame of kind %q where the header belongs", kind)
	}
	if err := json.Unmarshal(body, &dr.header); err != nil {
		return nil, dr.damage(pos, 0, "the header does not decode: %v", err)
	}
	if dr.header.Version != Version {
		return nil, dr.damage(pos, 0, "the header says format version %d, the magic %d", dr.header.Version, Version)
	}
	return dr, nil
}

// Header returns the dump's header.
func (r *Reader) Header() Header { return r.header }

// Trailer returns the dump's trailer once Next has returned io.EOF.
func (r *Reader) Trailer() Trailer { return r.trailer }

// Pos returns the number of bytes read so far.
func (r *Reader) Pos() int64 { return r.pos }

func (r *Reader) damage(pos int64, off logstore.Offset, format string, args ...any) error {
	return &DamageError{Pos: pos, Offset: off, After: r.last, Err: fmt.Errorf("%w: "+format, append([]any{backend.ErrCorrupt}, args...)...)}
}

// frame reads one frame and checks its checksum. The body is valid until the
// next call.
func (r *Reader) frame() (byte, []byte, error) {
	start := r.pos
	kind, err := r.br.ReadByte()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, r.damage(start, 0, "the dump ends after %d bytes without its trailer: it is truncated; export it again", start)
		}
		return 0, nil, fmt.Errorf("dump: read: %w", err)
	}
	r.pos++
	var hdr [1 + binary.MaxVarintLen64]byte
	hdr[0] = kind
	n := 1
	var length uint64
	for shift := 0; ; shift += 7 {
		c, err := r.br.ReadByte()
		if err != nil {
			return 0, nil, r.readErr(start, err)
		}
		r.pos++
		if n == len(hdr) {
			return 0, nil, r.damage(start, 0, "bad frame length")
		}
		hdr[n] = c
		n++
		length |= uint64(c&0x7f) << shift
		if c < 0x80 {
			break
		}
	}
	if length > MaxFrame {
		return 0, nil, r.damage(start, 0, "frame of %d bytes, more than the %d allowed", length, MaxFrame)
	}
	r.body.Reset()
	m, err := io.CopyN(&r.body, r.br, int64(length))
	r.pos += m
	if err != nil {
		return 0, nil, r.readErr(start, err)
	}
	var crc [4]byte
	k, err := io.ReadFull(r.br, crc[:])
	r.pos += int64(k)
	if err != nil {
		return 0, nil, r.readErr(start, err)
	}
	body := r.body.Bytes()
	want, got := binary.BigEndian.Uint32(crc[:]), crc32.Update(crc32.Checksum(hdr[:n], castagnoli), castagnoli, body)
	if want != got {
		return 0, nil, r.damage(start, 0, "frame checksum mismatch: stored %08x, computed %08x", want, got)
	}
	return kind, body, nil
}

func (r *Reader) readErr(start int64, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.damage(start, 0, "the dump ends inside a frame, at byte %d: it is truncated; export it again", r.pos)
	}
	return fmt.Errorf("dump: read: %w", err)
}

// Next returns the next record. It returns io.EOF once the trailer has been
// read and every check passed; any other error wraps backend.ErrCorrupt or
// is an I/O error, and every later call returns it again.
func (r *Reader) Next() (logstore.Record, error) {
	if r.err != nil {
		return logstore.Record{}, r.err
	}
	rec, err := r.next()
	if err != nil {
		r.err = err
	}
	return rec, err
}

func (r *Reader) next() (logstore.Record, error) {
	pos := r.pos
	kind, body, err := r.frame()
	if err != nil {
		return logstore.Record{}, err
	}
	switch kind {
	case kindRecord:
	case kindTrailer:
		return logstore.Record{}, r.finish(pos, body)
	default:
		return logstore.Record{}, r.damage(pos, 0, "frame of kind %q where a record or the trailer belongs", kind)
	}
	rec, err := record.DecodeBody(body)
	if err != nil {
		return logstore.Record{}, r.damage(pos, r.last+1, "%v", err)
	}
	switch {
	case rec.Offset != r.last+1:
		return logstore.Record{}, r.damage(pos, rec.Offset, "offset %d follows offset %d: a record is missing or out of place", rec.Offset, r.last)
	case rec.Offset > r.header.Head:
		return logstore.Record{}, r.damage(pos, rec.Offset, "offset %d is past the head %d the header announced", rec.Offset, r.header.Head)
	case rec.Version != r.versions[rec.Stream]+1:
		return logstore.Record{}, r.damage(pos, rec.Offset, "stream %q goes from version %d to %d", rec.Stream, r.versions[rec.Stream], rec.Version)
	}
	r.versions[rec.Stream] = rec.Version
	r.last = rec.Offset
	r.hasher.addBody(body, len(rec.Data))
	return rec, nil
}

// finish checks the trailer and the end of the input.
func (r *Reader) finish(pos int64, body []byte) error {
	if len(body) != trailerLen {
		return r.damage(pos, 0, "trailer of %d bytes, want %d", len(body), trailerLen)
	}
	var t Trailer
	t.Records = binary.BigEndian.Uint64(body)
	t.Last = logstore.Offset(binary.BigEndian.Uint64(body[8:]))
	t.DataBytes = binary.BigEndian.Uint64(body[16:])
	copy(t.Hash[:], body[24:])
	switch {
	case t.Records != r.hasher.Count() || t.Last != r.last:
		return r.damage(pos, 0, "the trailer counts %d records up to offset %d, the dump holds %d up to offset %d", t.Records, t.Last, r.hasher.Count(), r.last)
	case t.Last != r.header.Head:
		return r.damage(pos, 0, "the dump ends at offset %d, its header announced %d", t.Last, r.header.Head)
	case t.DataBytes != r.hasher.DataBytes():
		return r.damage(pos, 0, "the trailer counts %d bytes of data, the records hold %d", t.DataBytes, r.hasher.DataBytes())
	case t.Hash != r.hasher.Sum():
		return r.damage(pos, 0, "content hash mismatch: the trailer says %s, the records give %s", t.Hash, r.hasher.Sum())
	}
	if _, err := r.br.ReadByte(); err == nil {
		return r.damage(r.pos, 0, "bytes follow the trailer")
	} else if !errors.Is(err, io.EOF) {
		return fmt.Errorf("dump: read: %w", err)
	}
	r.trailer = t
	return io.EOF
}

// All iterates the records. The iteration ends without an error after a
// verified trailer, and with the error otherwise.
func (r *Reader) All() iter.Seq2[logstore.Record, error] {
	return func(yield func(logstore.Record, error) bool) {
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if !yield(rec, err) || err != nil {
				return
			}
		}
	}
}
