package dump

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"testing/iotest"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
	"github.com/stretchr/testify/require"
)

// frameBytes returns one frame as a Writer writes it.
func frameBytes(kind byte, body []byte) []byte {
	var buf bytes.Buffer
	w := &Writer{bw: bufio.NewWriter(&buf)}
	w.writeFrame(kind, body)
	_ = w.bw.Flush()
	return buf.Bytes()
}

// magicBytes is the start of every dump.
func magicBytes() []byte { return append([]byte(Magic), Version) }

// headerFrame returns the header frame of a dump of head records.
func headerFrame(t *testing.T, head logstore.Offset) []byte {
	t.Helper()
	b, err := json.Marshal(Header{Version: Version, Head: head})
	require.NoError(t, err)
	return frameBytes(kindHeader, b)
}

// recordFrame returns the frame of r.
func recordFrame(r *Record) []byte { return frameBytes(kindRecord, record.AppendBody(nil, r)) }

// trailerFrame returns the trailer frame that a Writer writes after recs.
func trailerFrame(recs []Record) []byte {
	h := NewHasher()
	var last logstore.Offset
	for i := range recs {
		h.Add(&recs[i])
		last = recs[i].Offset
	}
	return frameBytes(kindTrailer, encodeTrailer(Trailer{Records: h.Count(), Last: last, DataBytes: h.DataBytes(), Hash: h.Sum()}))
}

// concat joins byte slices.
func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestForgedDumps: dumps that a Writer would not write, each with valid
// frame checksums, fail the reader's checks with the error that names
// what is wrong, at the frame that is wrong.
func TestForgedDumps(t *testing.T) {
	recs := sample(3)
	hdr3 := headerFrame(t, 3)
	full := concat(magicBytes(), hdr3, recordFrame(&recs[0]), recordFrame(&recs[1]), recordFrame(&recs[2]), trailerFrame(recs))
	_, _, err := readAll(full)
	require.NoError(t, err, "the forging helpers write a valid dump")

	headerJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return frameBytes(kindHeader, b)
	}
	hugeLength := binary.AppendUvarint([]byte{kindHeader}, MaxFrame+1)
	tooLongVarint := append([]byte{kindHeader}, bytes.Repeat([]byte{0x80}, binary.MaxVarintLen64+1)...)
	gap := recs[1]
	gap.Offset = 1 // stream "b..." at version 1, offset 1: fine; then recs[2] at 2 is stream "c"
	versionJump := recs[0]
	versionJump.Version = 2
	h := NewHasher()
	h.Add(&recs[0])
	wrongCount := Trailer{Records: 2, Last: 1, DataBytes: h.DataBytes(), Hash: h.Sum()}
	wrongBytes := Trailer{Records: 1, Last: 1, DataBytes: h.DataBytes() + 1, Hash: h.Sum()}

	for _, tc := range []struct {
		name   string
		dump   []byte
		msg    string
		pos    int64 // the frame reported; -1: do not check
		offset logstore.Offset
		after  logstore.Offset
	}{
		{"short magic", []byte("ESDU"), `not an eventstore dump (it starts with "ESDU"`, 0, 0, 0},
		{"record before the header", concat(magicBytes(), recordFrame(&recs[0])), `frame of kind 'R' where the header belongs`, 8, 0, 0},
		{"header not JSON", concat(magicBytes(), frameBytes(kindHeader, []byte("{"))), "the header does not decode", 8, 0, 0},
		{"header of another version", concat(magicBytes(), headerJSON(Header{Version: 2})), "the header says format version 2, the magic 1", 8, 0, 0},
		{"header cut in its length", concat(magicBytes(), []byte{kindHeader, 0x80}), "the dump ends inside a frame", 8, 0, 0},
		{"frame too large", concat(magicBytes(), hugeLength), "more than the 1073741824 allowed", 8, 0, 0},
		{"frame length too long", concat(magicBytes(), tooLongVarint), "bad frame length", 8, 0, 0},
		{"unknown frame kind", concat(magicBytes(), hdr3, recordFrame(&recs[0]), frameBytes('X', nil)), `frame of kind 'X' where a record or the trailer belongs`, -1, 0, 1},
		{"record body does not decode", concat(magicBytes(), hdr3, frameBytes(kindRecord, []byte{1, 2, 3})), "", -1, 1, 0},
		{"offset past the head", concat(magicBytes(), headerFrame(t, 0), recordFrame(&recs[0])), "offset 1 is past the head 0 the header announced", -1, 1, 0},
		{"version jump", concat(magicBytes(), hdr3, recordFrame(&versionJump)), `stream "a" goes from version 0 to 2`, -1, 1, 0},
		{"offset repeated", concat(magicBytes(), hdr3, recordFrame(&recs[0]), recordFrame(&gap)), "offset 1 follows offset 1", -1, 1, 1},
		{"short trailer", concat(magicBytes(), hdr3, frameBytes(kindTrailer, []byte{1, 2, 3})), "trailer of 3 bytes, want 56", -1, 0, 0},
		{"trailer counts more records", concat(magicBytes(), headerFrame(t, 1), recordFrame(&recs[0]), frameBytes(kindTrailer, encodeTrailer(wrongCount))), "the trailer counts 2 records up to offset 1, the dump holds 1 up to offset 1", -1, 0, 1},
		{"ends before the head", concat(magicBytes(), hdr3, recordFrame(&recs[0]), trailerFrame(recs[:1])), "the dump ends at offset 1, its header announced 3", -1, 0, 1},
		{"trailer counts other data bytes", concat(magicBytes(), headerFrame(t, 1), recordFrame(&recs[0]), frameBytes(kindTrailer, encodeTrailer(wrongBytes))), "bytes of data, the records hold", -1, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			de := requireDamaged(t, tc.dump, tc.msg)
			if tc.pos >= 0 {
				require.Equal(t, tc.pos, de.Pos)
			}
			require.Equal(t, tc.offset, de.Offset, "the offset concerned")
			require.Equal(t, tc.after, de.After, "the last record that passed")
		})
	}
}

func TestDamageErrorMessage(t *testing.T) {
	cause := errors.New("cause")
	require.Equal(t, "damaged dump at byte 7 (record at offset 3): cause", (&DamageError{Pos: 7, Offset: 3, After: 2, Err: cause}).Error())
	require.Equal(t, "damaged dump at byte 7 (after the record at offset 2): cause", (&DamageError{Pos: 7, After: 2, Err: cause}).Error())
	require.Equal(t, "damaged dump at byte 7: cause", (&DamageError{Pos: 7, Err: cause}).Error())
	require.ErrorIs(t, &DamageError{Err: cause}, cause)
}

// TestReadErrors: an error of the input is returned as it is, wrapped, and
// is not taken for damage, wherever it happens, the magic included.
func TestReadErrors(t *testing.T) {
	good := write(t, sample(5))
	boom := errors.New("boom")
	for cut := 0; cut <= len(good); cut++ {
		in := io.MultiReader(bytes.NewReader(good[:cut]), iotest.ErrReader(boom))
		r, err := NewReader(in)
		if err == nil {
			for {
				if _, err = r.Next(); err != nil {
					break
				}
			}
		}
		require.ErrorIs(t, err, boom, "cut at %d", cut)
		require.False(t, errors.Is(err, backend.ErrCorrupt), "cut at %d: %v", cut, err)
		require.ErrorContains(t, err, "dump: read: boom")
	}
}

// TestNextIsSticky: after an error, Next returns it again and reads
// nothing more.
func TestNextIsSticky(t *testing.T) {
	good := write(t, sample(4))
	bad := bytes.Clone(good)
	bad[len(bad)-70] ^= 1 // inside the last record or the trailer
	r, err := NewReader(bytes.NewReader(bad))
	require.NoError(t, err)
	var first error
	for first == nil {
		_, first = r.Next()
	}
	require.ErrorIs(t, first, backend.ErrCorrupt)
	pos := r.Pos()
	_, again := r.Next()
	require.Same(t, first, again)
	require.Equal(t, pos, r.Pos(), "nothing more is read")
}

// TestAllStopsEarly: a loop that breaks out of All leaves the reader at the
// next record.
func TestAllStopsEarly(t *testing.T) {
	good := write(t, sample(5))
	r, err := NewReader(bytes.NewReader(good))
	require.NoError(t, err)
	for rec, err := range r.All() {
		require.NoError(t, err)
		require.Equal(t, logstore.Offset(1), rec.Offset)
		break
	}
	rec, err := r.Next()
	require.NoError(t, err)
	require.Equal(t, logstore.Offset(2), rec.Offset)
}

func TestPosAndBytes(t *testing.T) {
	recs := sample(20)
	good := write(t, recs)
	r, err := NewReader(bytes.NewReader(good))
	require.NoError(t, err)
	headerEnd := r.Pos()
	hb, err := json.Marshal(r.Header())
	require.NoError(t, err)
	require.Equal(t, int64(len(magicBytes())+len(frameBytes(kindHeader, hb))), headerEnd, "the magic and the header frame are read")
	for {
		if _, err := r.Next(); err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
	}
	require.Equal(t, int64(len(good)), r.Pos(), "every byte is read")

	h := NewHasher()
	var want uint64
	for i := range recs {
		h.Add(&recs[i])
		want += uint64(len(record.AppendBody(nil, &recs[i])))
	}
	require.Equal(t, want, h.Bytes())
	require.Equal(t, uint64(20), h.Count())
}

// failingWriter fails every write.
type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// TestWriterErrors: a failed write of the output is returned by Write or
// Close, and again by every later call; Write after Close and a second
// Close fail.
func TestWriterErrors(t *testing.T) {
	boom := errors.New("boom")
	recs := sample(2)
	w, err := NewWriter(failingWriter{boom}, Header{Head: 2})
	require.NoError(t, err, "the header stays in the buffer")
	require.NoError(t, w.Write(&recs[0]))
	require.NoError(t, w.Write(&recs[1]))
	_, err = w.Close()
	require.ErrorIs(t, err, boom)
	require.ErrorContains(t, err, "dump: write: boom")
	_, err = w.Close()
	require.ErrorContains(t, err, "Close called twice")
	require.ErrorContains(t, w.Write(&recs[0]), "Write after Close")

	// A record larger than the buffer is written through at once: its
	// error comes from Write, and stays.
	big := sample(2)
	big[0].Data = bytes.Repeat([]byte{7}, 2<<20)
	w, err = NewWriter(failingWriter{boom}, Header{Head: 2})
	require.NoError(t, err)
	require.ErrorIs(t, w.Write(&big[0]), boom)
	require.ErrorIs(t, w.Write(&big[1]), boom, "the error stays")
	_, err = w.Close()
	require.ErrorIs(t, err, boom)
}

func TestHeaderCreated(t *testing.T) {
	// A zero Created is the time of the writing, in UTC.
	before := time.Now()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Backend: "badger"})
	require.NoError(t, err)
	_, err = w.Close()
	require.NoError(t, err)
	r, err := NewReader(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	require.Equal(t, time.UTC, r.Header().Created.Location())
	require.False(t, r.Header().Created.Before(before.Truncate(time.Second)))
	require.Equal(t, Version, r.Header().Version)
	_, err = r.Next()
	require.ErrorIs(t, err, io.EOF, "an empty log's dump")

	// A given Created is kept, in UTC.
	at := time.Date(2024, 2, 29, 12, 0, 0, 0, time.FixedZone("X", 3600))
	buf.Reset()
	w, err = NewWriter(&buf, Header{Created: at})
	require.NoError(t, err)
	_, err = w.Close()
	require.NoError(t, err)
	r, err = NewReader(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	require.True(t, at.Equal(r.Header().Created))
	require.Equal(t, time.UTC, r.Header().Created.Location())
}
