package torture

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/durablelog/eventstore"
)

// Metadata keys that tie an event to its append.
const (
	MetaAppend = "torture.append" // the AppendID, as AppendID.String
	MetaIndex  = "torture.index"  // the event's index in its append, from 0
	MetaCount  = "torture.count"  // the number of events of the append
)

// Shape is what the content of the appends depends on, besides their ids.
// The workload and the verifier must use the same Shape.
type Shape struct {
	// Seed salts every append's content.
	Seed uint64
	// Streams is the number of streams appended to, "s00", "s01", ...
	// Default 16.
	Streams int
	// MaxEvents is the largest number of events in one append; each
	// append has 1 to MaxEvents. Default 5.
	MaxEvents int
	// MaxData is the largest Data of an event, in bytes. Most events are
	// much smaller: 3/4 are at most 256 bytes. Default 8192.
	MaxData int
}

func (s Shape) withDefaults() Shape {
	if s.Streams <= 0 {
		s.Streams = 16
	}
	if s.MaxEvents <= 0 {
		s.MaxEvents = 5
	}
	if s.MaxData <= 0 {
		s.MaxData = 8192
	}
	return s
}

// AppendID names one append of a workload: unique across the runs that
// write one directory, as long as each run has its own Epoch.
type AppendID struct {
	Epoch  uint32
	Worker uint16
	Seq    uint32
}

// String returns "e<epoch>.w<worker>.s<seq>".
func (id AppendID) String() string {
	return fmt.Sprintf("e%d.w%d.s%d", id.Epoch, id.Worker, id.Seq)
}

// ParseAppendID parses AppendID.String's form.
func ParseAppendID(s string) (AppendID, error) {
	var id AppendID
	parts := strings.Split(s, ".")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "e") || !strings.HasPrefix(parts[1], "w") || !strings.HasPrefix(parts[2], "s") {
		return id, fmt.Errorf("torture: malformed append id %q", s)
	}
	e, err1 := strconv.ParseUint(parts[0][1:], 10, 32)
	w, err2 := strconv.ParseUint(parts[1][1:], 10, 16)
	q, err3 := strconv.ParseUint(parts[2][1:], 10, 32)
	if err1 != nil || err2 != nil || err3 != nil {
		return id, fmt.Errorf("torture: malformed append id %q", s)
	}
	return AppendID{Epoch: uint32(e), Worker: uint16(w), Seq: uint32(q)}, nil
}

// MarshalText implements encoding.TextMarshaler.
func (id AppendID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *AppendID) UnmarshalText(b []byte) error {
	v, err := ParseAppendID(string(b))
	*id = v
	return err
}

// Planned is the content of one append.
type Planned struct {
	ID     AppendID
	Stream string
	Events []eventstore.Event
}

// Plan returns the content of append id: a pure function of shape and id.
// About half of the appends give their events IDs.
func Plan(shape Shape, id AppendID) Planned {
	shape = shape.withDefaults()
	h := fnv.New64a()
	var b [10]byte
	binary.BigEndian.PutUint32(b[0:], id.Epoch)
	binary.BigEndian.PutUint16(b[4:], id.Worker)
	binary.BigEndian.PutUint32(b[6:], id.Seq)
	h.Write(b[:])
	rng := rand.New(rand.NewPCG(shape.Seed, h.Sum64()))
	p := Planned{ID: id, Stream: StreamName(rng.IntN(shape.Streams))}
	n := 1 + rng.IntN(shape.MaxEvents)
	withIDs := rng.IntN(2) == 0
	types := [...]string{"Opened", "Deposited", "Withdrawn", "Noted", "Closed"}
	ids := id.String()
	p.Events = make([]eventstore.Event, n)
	for i := range p.Events {
		e := eventstore.Event{
			Type: types[rng.IntN(len(types))],
			Metadata: map[string]string{
				MetaAppend: ids,
				MetaIndex:  strconv.Itoa(i),
				MetaCount:  strconv.Itoa(n),
			},
		}
		if withIDs {
			e.ID = ids + "/" + strconv.Itoa(i)
		}
		size := rng.IntN(257)
		if rng.IntN(4) == 0 {
			size = rng.IntN(shape.MaxData + 1)
		}
		e.Data = make([]byte, size)
		for j := 0; j < size; j += 8 {
			var w [8]byte
			binary.LittleEndian.PutUint64(w[:], rng.Uint64())
			copy(e.Data[j:], w[:])
		}
		p.Events[i] = e
	}
	return p
}

// StreamName returns the name of stream i: "s00", "s01", ...
func StreamName(i int) string { return fmt.Sprintf("s%02d", i) }

// Hash returns a hex SHA-256 over the append's stream and its events' ids,
// types, data and metadata: what an Ack carries so that a verifier can check
// that it regenerates the same content.
func (p Planned) Hash() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%d", p.Stream, len(p.Events))
	for _, e := range p.Events {
		fmt.Fprintf(h, "|%q|%q|%x|%v", e.ID, e.Type, e.Data, e.Metadata)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sameEvent reports whether a record holds exactly event e.
func sameEvent(r eventstore.Record, e eventstore.Event) bool {
	return r.ID == e.ID && r.Type == e.Type && string(r.Data) == string(e.Data) && maps.Equal(r.Metadata, e.Metadata)
}
