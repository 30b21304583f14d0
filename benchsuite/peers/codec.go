package peers

import (
	"encoding/binary"
	"errors"
)

// The peers that store an event as one value (bbolt, tidwall-wal) encode it
// as: version (8 bytes, big-endian), stream length (2 bytes), stream, type
// length (1 byte), type, data.

var errShortEvent = errors.New("peers: event value too short")

// appendEvent appends the encoding of e to dst.
func appendEvent(dst []byte, e Event) []byte {
	dst = binary.BigEndian.AppendUint64(dst, e.Version)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(e.Stream)))
	dst = append(dst, e.Stream...)
	dst = append(dst, byte(len(e.Type)))
	dst = append(dst, e.Type...)
	return append(dst, e.Data...)
}

// decodeEvent decodes b into e, whose Data then points into b.
func decodeEvent(b []byte, e *Event) error {
	if len(b) < 11 {
		return errShortEvent
	}
	e.Version = binary.BigEndian.Uint64(b)
	n := int(binary.BigEndian.Uint16(b[8:]))
	b = b[10:]
	if len(b) < n+1 {
		return errShortEvent
	}
	e.Stream = string(b[:n])
	b = b[n:]
	t := int(b[0])
	b = b[1:]
	if len(b) < t {
		return errShortEvent
	}
	e.Type = string(b[:t])
	e.Data = b[t:]
	return nil
}
