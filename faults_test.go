package eventstore_test

import (
	"context"
	"io"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/internal/faultkv"
	"github.com/stretchr/testify/require"
)

func openFaulty(t *testing.T, dir string, e *faultkv.Engine, opts ...eventstore.Option) *eventstore.Store {
	t.Helper()
	s, err := eventstore.Open(dir, append([]eventstore.Option{eventstore.WithEngine("memory", e)}, opts...)...)
	require.NoError(t, err)
	return s
}

// TestCommitFailureFailsStop: an append whose write or sync failed is never
// acknowledged, the store refuses appends afterwards, and a reopen recovers
// a consistent prefix.
func TestCommitFailureFailsStop(t *testing.T) {
	for name, f := range map[string]faultkv.Faults{
		"write": {CommitAfter: 1},
		"fsync": {SyncAfter: 1},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			e := &faultkv.Engine{Inner: memory.Engine{}}
			sm := &countingState{}
			s := openFaulty(t, dir, e, eventstore.WithStateMachine(sm))
			appendN(t, s, "a", 3)
			e.Inject(f)
			res, err := s.Append(ctx, "a", 3, eventstore.Event{Type: "T"})
			require.ErrorIs(t, err, eventstore.ErrFailed)
			require.ErrorIs(t, err, faultkv.ErrInjected)
			require.Zero(t, res, "a failed append is not acknowledged")
			require.Equal(t, eventstore.Offset(3), s.Head(), "readers never see an unacknowledged append")
			require.Equal(t, 3, sm.n, "the state machine never applies an unacknowledged append")
			e.Inject(faultkv.Faults{}) // the disk "recovers": the store must not
			_, err = s.Append(ctx, "a", eventstore.Any, eventstore.Event{Type: "T"})
			require.ErrorIs(t, err, eventstore.ErrFailed, "no append after a failed commit until reopen")
			require.ErrorContains(t, err, "reopen")
			require.NoError(t, s.Close())

			s = openFaulty(t, dir, e)
			defer s.Close()
			rep, err := s.Verify(ctx)
			require.NoError(t, err)
			require.Contains(t, []eventstore.Offset{3, 4}, rep.Head, "a prefix: the failed append is wholly there or wholly absent")
			_, err = s.Append(ctx, "a", eventstore.ExpectedVersion(rep.Head), eventstore.Event{Type: "T"})
			require.NoError(t, err)
		})
	}
}

// TestReadErrorsSurface: an engine read error reaches the caller.
func TestReadErrorsSurface(t *testing.T) {
	ctx := context.Background()
	e := &faultkv.Engine{Inner: memory.Engine{}}
	s := openFaulty(t, t.TempDir(), e)
	defer s.Close()
	appendN(t, s, "a", 3)
	e.Inject(faultkv.Faults{IterAfter: 1})
	_, err := s.ReadLog(ctx, 1, 0)
	require.ErrorIs(t, err, faultkv.ErrInjected)
	_, err = s.ReadStream(ctx, "a", 1, 0)
	require.ErrorIs(t, err, faultkv.ErrInjected)
	_, err = s.StreamVersion(ctx, "a")
	require.ErrorIs(t, err, faultkv.ErrInjected)
	_, err = s.Verify(ctx)
	require.ErrorIs(t, err, faultkv.ErrInjected)
	_, err = s.Append(ctx, "new", eventstore.NoStream, eventstore.Event{Type: "T"})
	require.ErrorIs(t, err, faultkv.ErrInjected, "the version lookup of a new stream fails")
	e.Inject(faultkv.Faults{GetAfter: 1})
	_, err = s.ReadStream(ctx, "a", 1, 0)
	require.ErrorIs(t, err, faultkv.ErrInjected)
	_, err = s.Append(ctx, "a", eventstore.Any, eventstore.Event{ID: "x", Type: "T"})
	require.ErrorIs(t, err, faultkv.ErrInjected, "the id lookup fails")
	e.Inject(faultkv.Faults{})
	appendN(t, s, "a", 1)
}

func TestSyncOnCloseFailure(t *testing.T) {
	e := &faultkv.Engine{Inner: memory.Engine{}}
	s := openFaulty(t, t.TempDir(), e, eventstore.WithDurability(eventstore.NoSync))
	appendN(t, s, "a", 2)
	e.Inject(faultkv.Faults{SyncAfter: 1})
	err := s.Close()
	require.ErrorIs(t, err, faultkv.ErrInjected, "Close reports a failed sync of NoSync appends")
}

// countingState counts applied records.
type countingState struct{ n int }

func (c *countingState) Apply(eventstore.Record) error { c.n++; return nil }
func (c *countingState) Snapshot(w io.Writer) error    { _, err := w.Write([]byte{byte(c.n)}); return err }
func (c *countingState) Restore(r io.Reader) error {
	var b [1]byte
	_, err := r.Read(b[:])
	c.n = int(b[0])
	return err
}
