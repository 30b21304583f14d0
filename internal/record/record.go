package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/logstore"
)

// Version1 is the only record format version so far.
const Version1 = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrFormat is wrapped, together with backend.ErrCorrupt, by every decoding
// error.
var ErrFormat = errors.New("malformed record")

// prefixSize is crc(4) + version(1) + flags(1): what a stored record has
// before its body.
const prefixSize = 4 + 1 + 1

// bodyFixed is offset(8) + sversion(8) + time(8): the body's fixed part.
const bodyFixed = 8 + 8 + 8

// Size returns the exact encoded size of r as a stored record.
func Size(r *logstore.Record) int { return prefixSize + BodySize(r) }

// BodySize returns the exact size of r's body (see AppendBody).
func BodySize(r *logstore.Record) int {
	n := bodyFixed + uvarLen(len(r.Stream)) + len(r.Stream) + uvarLen(len(r.Type)) + len(r.Type) +
		uvarLen(len(r.ID)) + len(r.ID) + uvarLen(len(r.Metadata)) + uvarLen(len(r.Data)) + len(r.Data)
	for k, v := range r.Metadata {
		n += uvarLen(len(k)) + len(k) + uvarLen(len(v)) + len(v)
	}
	return n
}

func uvarLen(n int) int {
	l := 1
	for x := uint64(n); x >= 0x80; x >>= 7 {
		l++
	}
	return l
}

// Append encodes r as a stored record (checksum, version, flags, body),
// appends it to dst and returns the extended slice.
func Append(dst []byte, r *logstore.Record) []byte {
	start := len(dst)
	dst = slices.Grow(dst, Size(r))
	dst = append(dst, 0, 0, 0, 0, Version1, 0)
	dst = AppendBody(dst, r)
	binary.LittleEndian.PutUint32(dst[start:], crc32.Checksum(dst[start+4:], castagnoli))
	return dst
}

// AppendBody appends r's body, the part of a stored record after its
// checksum, version and flags, to dst. The body is the canonical encoding of
// a record: the dump format (package internal/dump) frames and hashes the
// same bytes.
func AppendBody(dst []byte, r *logstore.Record) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.Offset))
	dst = binary.BigEndian.AppendUint64(dst, r.Version)
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.Time.UnixNano()))
	dst = appendString(dst, r.Stream)
	dst = appendString(dst, r.Type)
	dst = appendString(dst, r.ID)
	dst = binary.AppendUvarint(dst, uint64(len(r.Metadata)))
	if len(r.Metadata) > 0 {
		keys := make([]string, 0, len(r.Metadata))
		for k := range r.Metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			dst = appendString(dst, k)
			dst = appendString(dst, r.Metadata[k])
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(r.Data)))
	return append(dst, r.Data...)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %w: "+format, append([]any{backend.ErrCorrupt, ErrFormat}, args...)...)
}

// Decode checks the checksum and the framing of b and returns the record. The
// result shares no memory with b. Every error wraps backend.ErrCorrupt and
// ErrFormat; no field of a record that fails its checksum is returned.
func Decode(b []byte) (logstore.Record, error) {
	var r logstore.Record
	err := decode(b, nil, &r)
	return r, err
}

// DecodeBody decodes a record body (see AppendBody), which carries no
// checksum of its own: the caller checks one around it. It accepts only the
// canonical encoding. The result shares no memory with b, and its Data is
// never nil. Every error wraps backend.ErrCorrupt and ErrFormat.
func DecodeBody(b []byte) (logstore.Record, error) {
	var r logstore.Record
	err := decodeBody(b, nil, &r)
	if err == nil && r.Data == nil {
		r.Data = []byte{}
	}
	return r, err
}

// Decoder decodes many records with fewer allocations: it reuses the
// stream and type strings of the previous record when they repeat, and
// carves small Data slices out of a shared block. A record it returns keeps
// that block (at most arenaSize bytes) alive. The zero value is ready; a
// Decoder is not safe for concurrent use.
type Decoder struct {
	stream, typ string
	arena       []byte
}

const arenaSize = 64 << 10

// Decode is Decode with reuse.
func (dc *Decoder) Decode(b []byte) (logstore.Record, error) {
	var r logstore.Record
	err := decode(b, dc, &r)
	return r, err
}

// DecodeInto is Decode into *r, which it overwrites: a caller that decodes
// into a slice of records it reuses saves the copies of the result. On an
// error *r is the zero Record: no field of a record that fails its checksum
// is returned.
func (dc *Decoder) DecodeInto(b []byte, r *logstore.Record) error { return decode(b, dc, r) }

func (dc *Decoder) intern(prev *string, b []byte) string {
	if string(b) == *prev { // no allocation: the compiler compares in place
		return *prev
	}
	*prev = string(b)
	return *prev
}

func (dc *Decoder) clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	if len(b) > arenaSize/8 {
		return slices.Clone(b)
	}
	if len(dc.arena) < len(b) {
		dc.arena = make([]byte, arenaSize)
	}
	v := dc.arena[:len(b):len(b)]
	copy(v, b)
	dc.arena = dc.arena[len(b):]
	return v
}

func decode(b []byte, dc *Decoder, r *logstore.Record) error {
	*r = logstore.Record{}
	if len(b) < prefixSize+bodyFixed {
		return corrupt("%d bytes, shorter than the %d-byte header", len(b), prefixSize+bodyFixed)
	}
	want := binary.LittleEndian.Uint32(b)
	if got := crc32.Checksum(b[4:], castagnoli); got != want {
		return corrupt("checksum mismatch: stored %08x, computed %08x", want, got)
	}
	if b[4] != Version1 {
		return corrupt("unknown format version %d", b[4])
	}
	if b[5] != 0 {
		return corrupt("unknown flags %#x", b[5])
	}
	return decodeBody(b[prefixSize:], dc, r)
}

// decodeBody decodes b into *r, which must be the zero Record, and leaves
// it zero on an error.
func decodeBody(b []byte, dc *Decoder, r *logstore.Record) (err error) {
	defer func() {
		if err != nil {
			*r = logstore.Record{}
		}
	}()
	if len(b) < bodyFixed {
		return corrupt("%d bytes, shorter than the %d-byte fixed part of a record", len(b), bodyFixed)
	}
	r.Offset = logstore.Offset(binary.BigEndian.Uint64(b))
	r.Version = binary.BigEndian.Uint64(b[8:])
	r.Time = time.Unix(0, int64(binary.BigEndian.Uint64(b[16:]))).UTC()
	d := decoder{b: b[bodyFixed:]}
	if dc != nil {
		r.Stream = dc.intern(&dc.stream, d.raw())
		r.Type = dc.intern(&dc.typ, d.raw())
	} else {
		r.Stream = d.string()
		r.Type = d.string()
	}
	r.ID = d.string()
	if n := d.uvarint(); n > 0 && d.err == nil {
		if n > uint64(len(d.b))/2 {
			return corrupt("metadata count %d exceeds the record", n)
		}
		r.Metadata = make(map[string]string, n)
		prev := ""
		for i := range n {
			k, v := d.string(), d.string()
			if d.err != nil {
				break
			}
			if i > 0 && k <= prev {
				return corrupt("metadata keys not sorted and unique at %q", k)
			}
			prev = k
			r.Metadata[k] = v
		}
	}
	if dc != nil {
		r.Data = dc.clone(d.raw())
	} else {
		r.Data = d.bytes()
	}
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return corrupt("%d trailing bytes", len(d.b))
	}
	return nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = corrupt("bad length field")
		return 0
	}
	if n > 1 && d.b[n-1] == 0 {
		// binary.Uvarint accepts a padded encoding; the format has one
		// encoding of each record.
		d.err = corrupt("length field of %d bytes not in its shortest form", n)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) raw() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = corrupt("field of %d bytes overruns the record", n)
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string { return string(d.raw()) }

func (d *decoder) bytes() []byte {
	v := d.raw()
	if v == nil {
		return nil
	}
	return slices.Clone(v)
}
