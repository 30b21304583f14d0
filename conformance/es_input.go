package conformance

import (
	"context"
	"strings"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

var inputTests = []storeTest{
	{"BadInputRejected", testBadInput},
	{"UseAfterClose", testUseAfterCloseStore},
}

func testBadInput(t *testing.T, h Harness) {
	s, _ := h.newStore(t, eventstore.WithMaxEventSize(1024))
	ctx := context.Background()
	mustAppend(t, s, "ok", eventstore.NoStream, ev("T", "1"))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	long := strings.Repeat("x", 256)
	cases := []struct {
		name   string
		ctx    context.Context
		stream string
		exp    eventstore.ExpectedVersion
		events []eventstore.Event
		want   error
	}{
		{"empty stream", ctx, "", eventstore.Any, []eventstore.Event{ev("T", "")}, eventstore.ErrInvalidEvent},
		{"long stream", ctx, long, eventstore.Any, []eventstore.Event{ev("T", "")}, eventstore.ErrInvalidEvent},
		{"NUL in stream", ctx, "a\x00b", eventstore.Any, []eventstore.Event{ev("T", "")}, eventstore.ErrInvalidEvent},
		{"empty type", ctx, "s", eventstore.Any, []eventstore.Event{ev("", "x")}, eventstore.ErrInvalidEvent},
		{"long type", ctx, "s", eventstore.Any, []eventstore.Event{ev(long, "x")}, eventstore.ErrInvalidEvent},
		{"long id", ctx, "s", eventstore.Any, []eventstore.Event{evID(long, "T", "x")}, eventstore.ErrInvalidEvent},
		{"data too large", ctx, "s", eventstore.Any, []eventstore.Event{ev("T", "x"), {Type: "T", Data: make([]byte, 1025)}}, eventstore.ErrEventTooLarge},
		{"metadata too large", ctx, "s", eventstore.Any, []eventstore.Event{{Type: "T", Metadata: map[string]string{"k": strings.Repeat("v", 1024)}}}, eventstore.ErrEventTooLarge},
		{"no events", ctx, "s", eventstore.Any, nil, eventstore.ErrInvalidEvent},
		{"expected below -2", ctx, "s", -3, []eventstore.Event{ev("T", "")}, eventstore.ErrInvalidEvent},
		{"cancelled ctx", cancelled, "s", eventstore.Any, []eventstore.Event{ev("T", "")}, context.Canceled},
	}
	for _, c := range cases {
		_, err := s.Append(c.ctx, c.stream, c.exp, c.events...)
		require.ErrorIs(t, err, c.want, c.name)
		require.Equal(t, eventstore.Offset(1), s.Head(), "%s: nothing may be written", c.name)
	}
	for _, name := range []string{"", long, "a\x00b"} {
		_, err := s.ReadStream(ctx, name, 1, 0)
		require.ErrorIs(t, err, eventstore.ErrInvalidEvent)
		_, err = s.StreamVersion(ctx, name)
		require.ErrorIs(t, err, eventstore.ErrInvalidEvent)
	}
	// The store stays usable, and exactly the limit is accepted.
	mustAppend(t, s, "ok", 1, eventstore.Event{Type: strings.Repeat("t", 255), Data: make([]byte, 1024)})
	mustAppend(t, s, strings.Repeat("s", 255), eventstore.NoStream, ev("T", ""))
	checkDense(t, readAll(t, s))
}

func testUseAfterCloseStore(t *testing.T, h Harness) {
	dir := h.dir(t)
	s := h.open(t, dir)
	mustAppend(t, s, "a", eventstore.NoStream, ev("T", "1"))
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	ctx := context.Background()
	_, err := s.Append(ctx, "a", eventstore.Any, ev("T", "2"))
	require.ErrorIs(t, err, eventstore.ErrClosed)
	_, err = s.ReadLog(ctx, 1, 0)
	require.ErrorIs(t, err, eventstore.ErrClosed)
	_, err = s.ReadStream(ctx, "a", 1, 0)
	require.ErrorIs(t, err, eventstore.ErrClosed)
	_, err = s.StreamVersion(ctx, "a")
	require.ErrorIs(t, err, eventstore.ErrClosed)
	_, err = s.Verify(ctx)
	require.ErrorIs(t, err, eventstore.ErrClosed)
	require.ErrorIs(t, s.Snapshot(ctx), eventstore.ErrClosed)
	for _, err := range s.Log(ctx, 1) {
		require.ErrorIs(t, err, eventstore.ErrClosed)
	}
	for _, err := range s.Stream(ctx, "a", 1) {
		require.ErrorIs(t, err, eventstore.ErrClosed)
	}
	for _, err := range s.Subscribe(ctx, 1) {
		require.ErrorIs(t, err, eventstore.ErrClosed)
	}
}
