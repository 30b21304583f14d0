package benchsuite

import (
	"encoding/binary"
	"io"

	"github.com/durablelog/eventstore"
)

// countState is the cheapest honest state machine: it counts events and
// bytes, so that restart figures measure the store, not the state.
type countState struct {
	events, bytes uint64
}

func (c *countState) Apply(r eventstore.Record) error {
	c.events++
	c.bytes += uint64(len(r.Data))
	return nil
}

func (c *countState) Snapshot(w io.Writer) error {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:], c.events)
	binary.BigEndian.PutUint64(b[8:], c.bytes)
	_, err := w.Write(b[:])
	return err
}

func (c *countState) Restore(r io.Reader) error {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return err
	}
	c.events, c.bytes = binary.BigEndian.Uint64(b[:]), binary.BigEndian.Uint64(b[8:])
	_, err := io.Copy(io.Discard, r)
	return err
}
