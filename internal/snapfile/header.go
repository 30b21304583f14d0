package snapfile

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/durablelog/eventstore/backend"
)

// Magic opens every snapshot file.
const Magic = "ESSNAP\x00\x01"

// Version is the file-format version this package writes.
const Version = 1

// MaxFingerprint is the longest fingerprint a header may carry.
const MaxFingerprint = 1024

const fixedHeader = 8 + 1 + 8 + 8 + 8 + 4 + 2

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header describes one snapshot.
type Header struct {
	Version     byte
	Offset      uint64
	Created     time.Time
	Size        uint64
	ContentCRC  uint32
	Fingerprint string
}

// Len returns the encoded length of h.
func (h *Header) Len() int { return fixedHeader + len(h.Fingerprint) + 4 }

// Encode returns h in the file format.
func (h *Header) Encode() []byte {
	b := make([]byte, 0, h.Len())
	b = append(b, Magic...)
	b = append(b, h.Version)
	b = binary.BigEndian.AppendUint64(b, h.Offset)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Created.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, h.Size)
	b = binary.BigEndian.AppendUint32(b, h.ContentCRC)
	b = binary.BigEndian.AppendUint16(b, uint16(len(h.Fingerprint)))
	b = append(b, h.Fingerprint...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// DecodeHeader parses the header at the start of b and returns it with its
// length. Errors wrap backend.ErrCorrupt.
func DecodeHeader(b []byte) (Header, int, error) {
	var h Header
	if len(b) < fixedHeader+4 {
		return h, 0, fmt.Errorf("%w: snapshot header truncated: %d bytes", backend.ErrCorrupt, len(b))
	}
	if string(b[:8]) != Magic {
		return h, 0, fmt.Errorf("%w: not a snapshot file (magic %q)", backend.ErrCorrupt, b[:8])
	}
	fpLen := int(binary.BigEndian.Uint16(b[fixedHeader-2:]))
	if fpLen > MaxFingerprint {
		return h, 0, fmt.Errorf("%w: snapshot fingerprint length %d exceeds %d", backend.ErrCorrupt, fpLen, MaxFingerprint)
	}
	n := fixedHeader + fpLen + 4
	if len(b) < n {
		return h, 0, fmt.Errorf("%w: snapshot header truncated: %d of %d bytes", backend.ErrCorrupt, len(b), n)
	}
	if want, got := binary.BigEndian.Uint32(b[n-4:]), crc32.Checksum(b[:n-4], castagnoli); want != got {
		return h, 0, fmt.Errorf("%w: snapshot header checksum mismatch: stored %08x, computed %08x", backend.ErrCorrupt, want, got)
	}
	h.Version = b[8]
	if h.Version != Version {
		return h, 0, fmt.Errorf("%w: unknown snapshot format version %d", backend.ErrCorrupt, h.Version)
	}
	h.Offset = binary.BigEndian.Uint64(b[9:])
	h.Created = time.Unix(0, int64(binary.BigEndian.Uint64(b[17:]))).UTC()
	h.Size = binary.BigEndian.Uint64(b[25:])
	h.ContentCRC = binary.BigEndian.Uint32(b[33:])
	h.Fingerprint = string(b[fixedHeader : fixedHeader+fpLen])
	return h, n, nil
}
