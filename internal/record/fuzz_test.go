package record

import (
	"bytes"
	"errors"
	"hash/crc32"
	"testing"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/logstore"
)

func crcOf(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// FuzzDecode: Decode never panics, fails only with ErrCorrupt, and what it
// accepts re-encodes to the same bytes.
func FuzzDecode(f *testing.F) {
	r := sample()
	f.Add(Append(nil, &r))
	f.Add(Append(nil, &logstore.Record{Event: logstore.Event{Type: "T"}, Offset: 1, Stream: "s", Version: 1, Time: time.Unix(0, 0).UTC()}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Decode(b)
		if err != nil {
			if !errors.Is(err, backend.ErrCorrupt) {
				t.Fatalf("error without ErrCorrupt: %v", err)
			}
			return
		}
		if again := Append(nil, &got); !bytes.Equal(again, b) {
			t.Fatalf("accepted bytes do not re-encode: %x vs %x", b, again)
		}
	})
}

// FuzzDecodeResealed fuzzes the framing behind a valid checksum.
func FuzzDecodeResealed(f *testing.F) {
	r := sample()
	f.Add(Append(nil, &r)[4:])
	f.Fuzz(func(t *testing.T, body []byte) {
		b := make([]byte, 4, 4+len(body))
		b = append(b, body...)
		sum := crcOf(body)
		b[0], b[1], b[2], b[3] = byte(sum), byte(sum>>8), byte(sum>>16), byte(sum>>24)
		got, err := Decode(b)
		if err != nil {
			if !errors.Is(err, backend.ErrCorrupt) {
				t.Fatalf("error without ErrCorrupt: %v", err)
			}
			return
		}
		if again := Append(nil, &got); !bytes.Equal(again, b) {
			t.Fatalf("accepted bytes do not re-encode")
		}
	})
}

// FuzzKeys: key parsers never panic and round-trip what they accept.
func FuzzKeys(f *testing.F) {
	f.Add(LogKey(5))
	f.Add(StreamKey("acct", 3))
	f.Add(IDKey("acct", "id"))
	f.Fuzz(func(t *testing.T, k []byte) {
		if off, err := ParseLogKey(k); err == nil && !bytes.Equal(LogKey(off), k) {
			t.Fatalf("log key %x does not round-trip", k)
		}
		if s, v, err := ParseStreamKey(k); err == nil && !bytes.Equal(StreamKey(s, v), k) {
			t.Fatalf("stream key %x does not round-trip", k)
		}
		if s, id, err := ParseIDKey(k); err == nil && !bytes.Equal(IDKey(s, id), k) {
			t.Fatalf("id key %x does not round-trip", k)
		}
		_ = Describe(k)
	})
}
