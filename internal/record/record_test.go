package record

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/logstore"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Record is the one record type, which the codec encodes.
type Record = logstore.Record

func sample() Record {
	return Record{Event: logstore.Event{ID: "id-1", Type: "Paid", Metadata: map[string]string{"b": "2", "a": "1"}, Data: []byte("payload")},
		Offset: 42, Stream: "acct-7", Version: 3, Time: time.Unix(0, 1700000000123456789).UTC()}
}

func TestRoundTrip(t *testing.T) {
	for _, r := range []Record{sample(), {Event: logstore.Event{Type: "T"}, Offset: 1, Stream: "s", Version: 1, Time: time.Unix(0, 0).UTC()}} {
		b := Append(nil, &r)
		require.Len(t, b, Size(&r))
		got, err := Decode(b)
		require.NoError(t, err)
		if len(r.Metadata) == 0 {
			require.Nil(t, got.Metadata)
			got.Metadata = r.Metadata
		}
		if len(r.Data) == 0 {
			got.Data = r.Data
		}
		require.Equal(t, r, got)
	}
}

func TestDecodeSharesNoMemory(t *testing.T) {
	r := sample()
	b := Append(nil, &r)
	got, err := Decode(b)
	require.NoError(t, err)
	for i := range b {
		b[i] = 0
	}
	require.Equal(t, "payload", string(got.Data))
}

func TestEveryBitFlipDetected(t *testing.T) {
	r := sample()
	b := Append(nil, &r)
	for i := range len(b) * 8 {
		c := bytes.Clone(b)
		c[i/8] ^= 1 << (i % 8)
		_, err := Decode(c)
		require.ErrorIs(t, err, backend.ErrCorrupt, "bit %d", i)
		require.ErrorIs(t, err, ErrFormat)
	}
	for n := range len(b) {
		_, err := Decode(b[:n])
		require.ErrorIs(t, err, backend.ErrCorrupt, "truncated to %d", n)
	}
}

// reseal recomputes the checksum, to test the framing checks behind it.
func reseal(b []byte) []byte {
	b = bytes.Clone(b)
	sum := crcOf(b[4:])
	b[0], b[1], b[2], b[3] = byte(sum), byte(sum>>8), byte(sum>>16), byte(sum>>24)
	return b
}

func TestFramingChecks(t *testing.T) {
	r := sample()
	b := Append(nil, &r)
	cases := map[string]func([]byte) []byte{
		"version":  func(b []byte) []byte { b[4] = 9; return b },
		"flags":    func(b []byte) []byte { b[5] = 1; return b },
		"trailing": func(b []byte) []byte { return append(b, 0) },
		"overrun":  func(b []byte) []byte { b[(prefixSize + bodyFixed)] = 0x7f; return b },
		"varint": func(b []byte) []byte {
			return append(b[:(prefixSize+bodyFixed)], 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
		},
	}
	for name, mut := range cases {
		_, err := Decode(reseal(mut(bytes.Clone(b))))
		require.ErrorIs(t, err, backend.ErrCorrupt, name)
	}
	unsorted := Record{Event: logstore.Event{Type: "T", Metadata: map[string]string{"a": "1", "b": "2"}}, Offset: 1, Stream: "s", Version: 1, Time: time.Unix(0, 0).UTC()}
	u := Append(nil, &unsorted)
	i := bytes.Index(u, []byte("\x01a\x011\x01b\x012"))
	require.Positive(t, i)
	copy(u[i:], "\x01b\x012\x01a\x011")
	_, err := Decode(reseal(u))
	require.ErrorContains(t, err, "not sorted")
	many := Record{Event: logstore.Event{Type: "T", Metadata: map[string]string{"k": "v"}}, Offset: 1, Stream: "s", Version: 1, Time: time.Unix(0, 0).UTC()}
	m := Append(nil, &many)
	j := bytes.Index(m, []byte("\x01k\x01v"))
	m[j-1] = 0x40 // a count larger than the bytes left
	_, err = Decode(reseal(m))
	require.ErrorIs(t, err, backend.ErrCorrupt)
}

func TestKeys(t *testing.T) {
	off, err := ParseLogKey(LogKey(77))
	require.NoError(t, err)
	require.Equal(t, logstore.Offset(77), off)
	_, err = ParseLogKey([]byte{PrefixLog, 1})
	require.ErrorIs(t, err, backend.ErrCorrupt)
	lo, hi := LogBounds(1, ^logstore.Offset(0))
	require.Equal(t, LogKey(1), lo)
	require.Equal(t, []byte{PrefixLog + 1}, hi)
	lo, hi = LogBounds(3, 5)
	require.Equal(t, LogKey(3), lo)
	require.Equal(t, LogKey(6), hi)

	s, v, err := ParseStreamKey(StreamKey("acct", 9))
	require.NoError(t, err)
	require.Equal(t, "acct", s)
	require.Equal(t, uint64(9), v)
	for _, bad := range [][]byte{{PrefixStream}, append([]byte{PrefixStream, 'a', 0, 'b', 0}, make([]byte, 8)...), LogKey(1)} {
		_, _, err = ParseStreamKey(bad)
		require.ErrorIs(t, err, backend.ErrCorrupt)
	}
	lo, hi = StreamBounds("a", 2)
	require.Equal(t, StreamKey("a", 2), lo)
	require.Equal(t, []byte{PrefixStream, 'a', 1}, hi)
	require.Negative(t, bytes.Compare(StreamKey("a", ^uint64(0)), hi))
	require.Positive(t, bytes.Compare(StreamKey("a\x01", 0), hi), "a longer name sorts after the bound")

	s, id, err := ParseIDKey(IDKey("acct", "x\x00y"))
	require.NoError(t, err)
	require.Equal(t, "acct", s)
	require.Equal(t, "x\x00y", id)
	for _, bad := range [][]byte{{PrefixID}, {PrefixID, 'a', 'b'}, {PrefixID, 'a', 0}} {
		_, _, err = ParseIDKey(bad)
		require.ErrorIs(t, err, backend.ErrCorrupt)
	}

	v, err = ParseUint64(Uint64(5), "x")
	require.NoError(t, err)
	require.Equal(t, uint64(5), v)
	_, err = ParseUint64([]byte{1}, "x")
	require.True(t, errors.Is(err, backend.ErrCorrupt))

	require.Equal(t, "log offset 77", Describe(LogKey(77)))
	require.Equal(t, `stream "acct" version 9`, Describe(StreamKey("acct", 9)))
	require.Equal(t, `stream "acct" id "x"`, Describe(IDKey("acct", "x")))
	require.Equal(t, `meta key "format"`, Describe(FormatKey))
	require.Equal(t, "empty key", Describe(nil))
	require.Equal(t, "key 09", Describe([]byte{9}))
}
