package benchsuite

import (
	"context"

	"github.com/durablelog/eventstore"
)

// fill appends n events of EventSize bytes over streams streams, in appends
// of 100, in NoSync mode (a clean Close syncs), with the given extra options.
func fill(ctx context.Context, t Target, dir string, n, streams int, extra ...eventstore.Option) error {
	s, err := eventstore.Open(dir, t.options(dir, append([]eventstore.Option{eventstore.WithDurability(eventstore.NoSync)}, extra...)...)...)
	if err != nil {
		return err
	}
	data := Payload(EventSize, 7)
	batch := make([]eventstore.Event, 0, 100)
	for i := 0; i < n; {
		k := min(100, n-i)
		batch = batch[:0]
		for range k {
			batch = append(batch, eventstore.Event{Type: "Bench", Data: data})
		}
		if _, err := s.Append(ctx, StreamName((i/100)%streams), eventstore.Any, batch...); err != nil {
			_ = s.Close()
			return err
		}
		i += k
	}
	return s.Close()
}
