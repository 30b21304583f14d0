package dump

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"

	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
)

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
func (h *Hasher) Add(r *logstore.Record) {
	h.buf = record.AppendBody(h.buf[:0], r)
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
