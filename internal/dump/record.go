package dump

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"time"
)

// Record is one record of a dump: an event with its place in the log. It
// mirrors eventstore.Record, which this package cannot import.
type Record struct {
	Offset   uint64
	Stream   string
	Version  uint64
	Time     time.Time
	ID       string
	Type     string
	Metadata map[string]string
	Data     []byte
}

// appendBody appends the canonical body of r to dst.
func appendBody(dst []byte, r *Record) []byte {
	dst = binary.BigEndian.AppendUint64(dst, r.Offset)
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

// decodeBody decodes a record body. It accepts only the canonical encoding.
func decodeBody(b []byte) (Record, error) {
	d := decoder{b: b}
	var r Record
	r.Offset = d.uint64()
	r.Version = d.uint64()
	r.Time = time.Unix(0, int64(d.uint64())).UTC()
	r.Stream = string(d.raw())
	r.Type = string(d.raw())
	r.ID = string(d.raw())
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) {
		d.fail("%d metadata entries in %d bytes", n, len(d.b))
	}
	if n > 0 && d.err == nil {
		r.Metadata = make(map[string]string, n)
		prev := ""
		for i := range n {
			k, v := string(d.raw()), string(d.raw())
			if d.err != nil {
				break
			}
			if i > 0 && k <= prev {
				d.fail("metadata keys not sorted and unique (%q after %q)", k, prev)
				break
			}
			r.Metadata[k], prev = v, k
		}
	}
	if data := d.raw(); d.err == nil {
		r.Data = slices.Clone(data)
		if r.Data == nil {
			r.Data = []byte{}
		}
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail("%d bytes after the data", len(d.b))
	}
	if d.err != nil {
		return Record{}, d.err
	}
	return r, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("malformed record: "+format, args...)
	}
}

func (d *decoder) uint64() uint64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.fail("truncated")
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad length")
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
		d.fail("a field of %d bytes in %d", n, len(d.b))
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

// Sum is a content hash: see the package documentation.
type Sum [sha256.Size]byte

// String returns the hash as "sha256:" and lowercase hex.
func (s Sum) String() string { return "sha256:" + hex.EncodeToString(s[:]) }

// Hasher computes the content hash of a sequence of records, fed in offset
// order. The zero value is not usable: call NewHasher.
type Hasher struct {
	h     hash.Hash
	buf   []byte
	n     uint64
	bytes uint64 // data bytes
	body  uint64 // encoded record bytes
}

// NewHasher returns a Hasher of the empty sequence.
func NewHasher() *Hasher { return &Hasher{h: sha256.New()} }

// Add adds r to the sequence.
func (h *Hasher) Add(r *Record) {
	h.buf = appendBody(h.buf[:0], r)
	h.addBody(h.buf, len(r.Data))
}

func (h *Hasher) addBody(body []byte, dataLen int) {
	var l [binary.MaxVarintLen64]byte
	h.h.Write(l[:binary.PutUvarint(l[:], uint64(len(body)))])
	h.h.Write(body)
	h.n++
	h.bytes += uint64(dataLen)
	h.body += uint64(len(body))
}

// Count returns the number of records added.
func (h *Hasher) Count() uint64 { return h.n }

// DataBytes returns the sum of the data lengths of the records added.
func (h *Hasher) DataBytes() uint64 { return h.bytes }

// Bytes returns the size of the records added, in the dump's encoding (record
// bodies): a measure of volume that does not depend on an engine.
func (h *Hasher) Bytes() uint64 { return h.body }

// Sum returns the content hash of the records added so far.
func (h *Hasher) Sum() Sum {
	var s Sum
	h.h.Sum(s[:0])
	return s
}
