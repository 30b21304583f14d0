package record

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/logstore"
)

// Table prefixes of the key layout (see the package doc).
const (
	PrefixMeta   = 0x00
	PrefixLog    = 0x01
	PrefixStream = 0x02
	PrefixID     = 0x03
)

// FormatKey is the meta key that holds the layout version.
var FormatKey = []byte("\x00format")

// LayoutVersion is the current key-layout version stored under FormatKey.
const LayoutVersion = 1

// Key and value sizes, for the accounting of batch sizes.
const (
	// LogKeyLen is the length of a log key.
	LogKeyLen = 1 + 8
	// IndexValueLen is the length of a stream-index or id-index value.
	IndexValueLen = 8
)

// StreamKeyLen returns the length of a stream-index key of stream.
func StreamKeyLen(stream string) int { return 1 + len(stream) + 1 + 8 }

// IDKeyLen returns the length of the id-index key of id in stream.
func IDKeyLen(stream, id string) int { return 1 + len(stream) + 1 + len(id) }

// LogKey returns the key of the record at offset.
func LogKey(offset logstore.Offset) []byte {
	k := make([]byte, LogKeyLen)
	k[0] = PrefixLog
	binary.BigEndian.PutUint64(k[1:], uint64(offset))
	return k
}

// LogBounds returns the key range [lower, upper) of offsets first..last.
func LogBounds(first, last logstore.Offset) (lower, upper []byte) {
	lower = LogKey(first)
	if last == ^logstore.Offset(0) {
		return lower, []byte{PrefixLog + 1}
	}
	return lower, LogKey(last + 1)
}

// LogTable returns the key range [lower, upper) of the whole log table.
func LogTable() (lower, upper []byte) { return []byte{PrefixLog}, []byte{PrefixLog + 1} }

// ParseLogKey returns the offset of a log key.
func ParseLogKey(k []byte) (logstore.Offset, error) {
	if len(k) != LogKeyLen || k[0] != PrefixLog {
		return 0, fmt.Errorf("%w: %w: malformed log key %x", backend.ErrCorrupt, ErrFormat, k)
	}
	return logstore.Offset(binary.BigEndian.Uint64(k[1:])), nil
}

func streamPrefix(prefix byte, stream string, extra int) []byte {
	k := make([]byte, 0, 1+len(stream)+1+extra)
	k = append(k, prefix)
	k = append(k, stream...)
	return append(k, 0)
}

// AppendLogKey appends the key of the record at offset to dst.
func AppendLogKey(dst []byte, offset logstore.Offset) []byte {
	return binary.BigEndian.AppendUint64(append(dst, PrefixLog), uint64(offset))
}

// AppendStreamKey appends the index key of version of stream to dst.
func AppendStreamKey(dst []byte, stream string, version uint64) []byte {
	dst = append(append(append(dst, PrefixStream), stream...), 0)
	return binary.BigEndian.AppendUint64(dst, version)
}

// AppendIDKey appends the key of event id within stream to dst.
func AppendIDKey(dst []byte, stream, id string) []byte {
	return append(append(append(append(dst, PrefixID), stream...), 0), id...)
}

// StreamKey returns the index key of version of stream.
func StreamKey(stream string, version uint64) []byte {
	return binary.BigEndian.AppendUint64(streamPrefix(PrefixStream, stream, 8), version)
}

// StreamBounds returns the key range [lower, upper) of the index entries of
// stream from version from on.
func StreamBounds(stream string, from uint64) (lower, upper []byte) {
	lower = StreamKey(stream, from)
	upper = streamPrefix(PrefixStream, stream, 0)
	upper[len(upper)-1] = 1
	return lower, upper
}

// ParseStreamKey returns the stream and version of a stream-index key.
func ParseStreamKey(k []byte) (stream string, version uint64, err error) {
	if len(k) < 1+1+8 || k[0] != PrefixStream || k[len(k)-9] != 0 || bytes.IndexByte(k[1:len(k)-9], 0) >= 0 {
		return "", 0, fmt.Errorf("%w: %w: malformed stream index key %x", backend.ErrCorrupt, ErrFormat, k)
	}
	return string(k[1 : len(k)-9]), binary.BigEndian.Uint64(k[len(k)-8:]), nil
}

// IDKey returns the key of event id within stream.
func IDKey(stream, id string) []byte {
	return append(streamPrefix(PrefixID, stream, len(id)), id...)
}

// ParseIDKey returns the stream and id of an id-index key.
func ParseIDKey(k []byte) (stream, id string, err error) {
	if len(k) < 3 || k[0] != PrefixID {
		return "", "", fmt.Errorf("%w: %w: malformed id index key %x", backend.ErrCorrupt, ErrFormat, k)
	}
	i := bytes.IndexByte(k[1:], 0)
	if i < 0 || len(k[1+i+1:]) == 0 {
		return "", "", fmt.Errorf("%w: %w: malformed id index key %x", backend.ErrCorrupt, ErrFormat, k)
	}
	return string(k[1 : 1+i]), string(k[1+i+1:]), nil
}

// Uint64 encodes v as an 8-byte big-endian index value.
func Uint64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// ParseOffset decodes a stream-index value, the offset of the event; what
// names the entry in errors.
func ParseOffset(b []byte, what string) (logstore.Offset, error) {
	v, err := ParseUint64(b, what)
	return logstore.Offset(v), err
}

// OffsetValue encodes an offset as a stream-index value.
func OffsetValue(off logstore.Offset) []byte { return Uint64(uint64(off)) }

// ParseUint64 decodes an 8-byte index value; what names the entry in errors.
func ParseUint64(b []byte, what string) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("%w: %w: %s: index value of %d bytes, want 8", backend.ErrCorrupt, ErrFormat, what, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// Describe renders a key for error messages: the table and its fields.
func Describe(k []byte) string {
	if len(k) == 0 {
		return "empty key"
	}
	switch k[0] {
	case PrefixLog:
		if off, err := ParseLogKey(k); err == nil {
			return fmt.Sprintf("log offset %d", off)
		}
	case PrefixStream:
		if s, v, err := ParseStreamKey(k); err == nil {
			return fmt.Sprintf("stream %q version %d", s, v)
		}
	case PrefixID:
		if s, id, err := ParseIDKey(k); err == nil {
			return fmt.Sprintf("stream %q id %q", s, id)
		}
	case PrefixMeta:
		return fmt.Sprintf("meta key %q", strings.TrimPrefix(string(k), "\x00"))
	}
	return fmt.Sprintf("key %x", k)
}
