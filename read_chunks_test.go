package eventstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

// TestReadsReuseChunks reads a log of several chunks with Log and with
// Subscribe, which reuse one chunk slice, and checks every record kept from
// the first chunk after the last one is read: reusing the slice must not
// change a record handed out before.
func TestReadsReuseChunks(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, t.TempDir())
	defer s.Close()
	const n = 3*4096 + 17 // three full chunks and a short one
	batch := make([]eventstore.Event, 0, 100)
	for i := 0; i < n; {
		batch = batch[:0]
		for j := 0; j < 100 && i < n; j++ {
			i++
			batch = append(batch, eventstore.Event{Type: "T", Data: fmt.Appendf(nil, "event %d", i)})
		}
		_, err := s.Append(ctx, fmt.Sprintf("s-%d", i%7), eventstore.Any, batch...)
		require.NoError(t, err)
	}
	check := func(name string, got []eventstore.Record) {
		t.Helper()
		require.Len(t, got, n, name)
		for i, r := range got {
			require.Equal(t, eventstore.Offset(i+1), r.Offset, name)
			require.Equal(t, fmt.Sprintf("event %d", i+1), string(r.Data), "%s: offset %d", name, r.Offset)
		}
	}
	var got []eventstore.Record
	for r, err := range s.Log(ctx, 1) {
		require.NoError(t, err)
		got = append(got, r)
	}
	check("Log", got)

	got = got[:0]
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for r, err := range s.Subscribe(sctx, 1) {
		require.NoError(t, err)
		got = append(got, r)
		if r.Offset == n {
			break
		}
	}
	check("Subscribe", got)
}
