package dump

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Record is the one record type, which dumps hold.
type Record = logstore.Record

func sample(n int) []Record {
	t0 := time.Date(2025, 11, 29, 3, 57, 0, 123456789, time.UTC)
	versions := map[string]uint64{}
	out := make([]Record, n)
	for i := range out {
		stream := []string{"a", "b\xff\x01binary", "c"}[i%3]
		versions[stream]++
		r := Record{
			Event:  logstore.Event{Type: "T", Data: []byte(fmt.Sprintf("data-%d", i))},
			Offset: logstore.Offset(i + 1), Stream: stream, Version: versions[stream],
			Time: t0.Add(time.Duration(i) * time.Millisecond),
		}
		if i%2 == 0 {
			r.ID = fmt.Sprintf("id-%d", i)
			r.Metadata = map[string]string{"z": "last", "a": "first", "\x00k": "\xffv"}
		}
		out[i] = r
	}
	return out
}

func write(t *testing.T, recs []Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Backend: "pebble", Head: logstore.Offset(len(recs))})
	require.NoError(t, err)
	for i := range recs {
		require.NoError(t, w.Write(&recs[i]))
	}
	tr, err := w.Close()
	require.NoError(t, err)
	require.Equal(t, uint64(len(recs)), tr.Records)
	require.Equal(t, int64(buf.Len()), w.BytesWritten())
	return buf.Bytes()
}

func readAll(b []byte) ([]Record, *Reader, error) {
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, nil, err
	}
	var out []Record
	for rec, err := range r.All() {
		if err != nil {
			return out, r, err
		}
		out = append(out, rec)
	}
	return out, r, nil
}

func TestRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			recs := sample(n)
			b := write(t, recs)
			got, r, err := readAll(b)
			require.NoError(t, err)
			require.Equal(t, "pebble", r.Header().Backend)
			require.Equal(t, logstore.Offset(n), r.Header().Head)
			require.Len(t, got, n)
			h := NewHasher()
			for i := range recs {
				require.Equal(t, recs[i].Offset, got[i].Offset)
				require.Equal(t, recs[i].Stream, got[i].Stream)
				require.Equal(t, recs[i].Version, got[i].Version)
				require.True(t, recs[i].Time.Equal(got[i].Time))
				require.Equal(t, recs[i].ID, got[i].ID)
				require.Equal(t, recs[i].Type, got[i].Type)
				require.Equal(t, len(recs[i].Metadata), len(got[i].Metadata))
				for k, v := range recs[i].Metadata {
					require.Equal(t, v, got[i].Metadata[k])
				}
				require.Equal(t, recs[i].Data, got[i].Data)
				h.Add(&got[i])
			}
			require.Equal(t, r.Trailer().Hash, h.Sum(), "the content hash of the decoded records is the trailer's")
			require.Equal(t, uint64(n), r.Trailer().Records)
			_, err = r.Next()
			require.ErrorIs(t, err, io.EOF, "EOF again after the end")
		})
	}
}

func TestHashDependsOnContent(t *testing.T) {
	a, b := sample(10), sample(10)
	b[4].Data = []byte("other")
	ha, hb := NewHasher(), NewHasher()
	for i := range a {
		ha.Add(&a[i])
		hb.Add(&b[i])
	}
	require.NotEqual(t, ha.Sum(), hb.Sum())
	require.True(t, strings.HasPrefix(ha.Sum().String(), "sha256:"))
	require.Len(t, ha.Sum().String(), len("sha256:")+64)
}

func requireDamaged(t *testing.T, b []byte, msg string) *DamageError {
	t.Helper()
	_, _, err := readAll(b)
	require.Error(t, err)
	require.ErrorIs(t, err, backend.ErrCorrupt)
	var de *DamageError
	require.True(t, errors.As(err, &de), "a *DamageError: %v", err)
	require.Contains(t, err.Error(), msg)
	return de
}

func TestDamageIsDetected(t *testing.T) {
	good := write(t, sample(50))
	hdrEnd := bytes.Index(good, []byte("}")) + 1 + 4 // the header's JSON, then its CRC

	t.Run("FlippedByteInEveryRecordFrame", func(t *testing.T) {
		// Flip one byte at many places after the header: every flip is
		// caught, and none yields a record past the damage.
		for pos := hdrEnd; pos < len(good); pos += 7 {
			b := bytes.Clone(good)
			b[pos] ^= 0x40
			recs, _, err := readAll(b)
			require.Error(t, err, "flip at %d", pos)
			require.ErrorIs(t, err, backend.ErrCorrupt)
			var de *DamageError
			require.True(t, errors.As(err, &de))
			require.LessOrEqual(t, de.Pos, int64(pos), "the damage is reported at or before the flipped byte")
			for i, r := range recs {
				require.Equal(t, logstore.Offset(i+1), r.Offset)
			}
		}
	})
	t.Run("Truncated", func(t *testing.T) {
		for _, cut := range []int{len(good) - 1, len(good) - 30, len(good) / 2, hdrEnd} {
			requireDamaged(t, good[:cut], "truncated")
		}
	})
	t.Run("NoTrailer", func(t *testing.T) {
		// Cut exactly before the trailer frame.
		trailer := 1 + 1 + trailerLen + 4
		requireDamaged(t, good[:len(good)-trailer], "without its trailer")
	})
	t.Run("TrailingBytes", func(t *testing.T) {
		requireDamaged(t, append(bytes.Clone(good), 0), "bytes follow the trailer")
	})
	t.Run("MissingRecord", func(t *testing.T) {
		recs := sample(5)
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Header{Head: 5})
		require.NoError(t, err)
		for i := range recs {
			if i == 2 {
				// Write a forged frame sequence: skip offset 3.
				continue
			}
			if i > 2 {
				w.body = record.AppendBody(w.body[:0], &recs[i])
				w.writeFrame(kindRecord, w.body)
				continue
			}
			require.NoError(t, w.Write(&recs[i]))
		}
		require.NoError(t, w.bw.Flush())
		de := requireDamaged(t, buf.Bytes(), "offset 4 follows offset 2")
		require.Equal(t, logstore.Offset(4), de.Offset)
	})
	t.Run("HashMismatch", func(t *testing.T) {
		recs := sample(3)
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Header{Head: 3})
		require.NoError(t, err)
		for i := range recs {
			require.NoError(t, w.Write(&recs[i]))
		}
		tr := Trailer{Records: 3, Last: 3, DataBytes: w.hasher.DataBytes()}
		w.writeFrame(kindTrailer, encodeTrailer(tr))
		require.NoError(t, w.bw.Flush())
		requireDamaged(t, buf.Bytes(), "content hash mismatch")
	})
	t.Run("NotADump", func(t *testing.T) {
		requireDamaged(t, []byte(`{"offset":1}`+"\n"), "not an eventstore dump")
		requireDamaged(t, nil, "empty")
	})
	t.Run("NewerVersion", func(t *testing.T) {
		b := bytes.Clone(good)
		b[len(Magic)] = 9
		_, err := NewReader(bytes.NewReader(b))
		require.ErrorContains(t, err, "format version 9")
	})
}

func TestWriterChecks(t *testing.T) {
	recs := sample(3)
	w, err := NewWriter(io.Discard, Header{Head: 2})
	require.NoError(t, err)
	require.ErrorContains(t, w.Write(&recs[1]), "must follow each other")
	require.NoError(t, w.Write(&recs[0]))
	_, err = w.Close()
	require.ErrorContains(t, err, "incomplete")
	w, err = NewWriter(io.Discard, Header{Head: 2})
	require.NoError(t, err)
	require.NoError(t, w.Write(&recs[0]))
	require.NoError(t, w.Write(&recs[1]))
	require.ErrorContains(t, w.Write(&recs[2]), "past the head")
}

func TestDecodeRejectsNonCanonical(t *testing.T) {
	r := sample(1)[0]
	body := record.AppendBody(nil, &r)
	_, err := record.DecodeBody(append(bytes.Clone(body), 0))
	require.ErrorContains(t, err, "trailing bytes")
	require.ErrorIs(t, err, backend.ErrCorrupt)
	_, err = record.DecodeBody(body[:len(body)-1])
	require.Error(t, err)
}

func FuzzReader(f *testing.F) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, Header{Head: 3})
	for _, r := range sample(3) {
		_ = w.Write(&r)
	}
	_, _ = w.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		for {
			_, err := r.Next()
			if err != nil {
				return
			}
		}
	})
}
