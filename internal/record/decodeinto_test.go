package record

import (
	"bytes"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/stretchr/testify/require"
)

// TestDecodeInto checks that DecodeInto overwrites a record that holds
// another one, and leaves the zero Record when the checksum or the framing
// fails, whatever the record held before.
func TestDecodeInto(t *testing.T) {
	r := sample()
	b := Append(nil, &r)
	var dc Decoder
	other := Record{Stream: "other", Offset: 9}
	other.Metadata = map[string]string{"x": "y"}
	other.ID = "stale"
	require.NoError(t, dc.DecodeInto(b, &other))
	require.Equal(t, r, other)

	for i := range len(b) * 8 {
		c := bytes.Clone(b)
		c[i/8] ^= 1 << (i % 8)
		got := sample()
		require.ErrorIs(t, dc.DecodeInto(c, &got), backend.ErrCorrupt, "bit %d", i)
		require.Equal(t, Record{}, got, "bit %d", i)
	}
	// A sealed record whose body is damaged (trailing bytes): the
	// framing check fails after fields were filled in.
	c := reseal(append(bytes.Clone(b), 0))
	got := sample()
	require.ErrorIs(t, dc.DecodeInto(c, &got), ErrFormat)
	require.Equal(t, Record{}, got)
}
