package torture_test

import (
	"testing"

	"github.com/durablelog/eventstore/internal/torture"
	"github.com/stretchr/testify/require"
)

// TestInFlightErr: after the kill of the child of epoch 2, an unacknowledged
// append present in the log may only be the one after the last append its
// worker reported (acknowledged or rejected), in that epoch.
func TestInFlightErr(t *testing.T) {
	h := torture.NewHistory(torture.Shape{Seed: 1})
	id := func(epoch uint32, worker uint16, seq uint32) torture.AppendID {
		return torture.AppendID{Epoch: epoch, Worker: worker, Seq: seq}
	}
	h.Ack(torture.Ack{ID: id(1, 0, 7)})
	h.Ack(torture.Ack{ID: id(2, 0, 1)})
	h.Ack(torture.Ack{ID: id(2, 0, 2)})
	h.Reject(id(2, 1, 1))
	survivor := func(id torture.AppendID) torture.Ack { return torture.Ack{ID: id, First: 10, Last: 11} }

	require.NoError(t, h.InFlightErr(2, nil))
	require.NoError(t, h.InFlightErr(2, []torture.Ack{survivor(id(2, 0, 3)), survivor(id(2, 1, 2)), survivor(id(2, 2, 1))}))
	// Adopted already (History.Ack of the survivors) is the same.
	h.Ack(survivor(id(2, 0, 3)))
	require.NoError(t, h.InFlightErr(2, []torture.Ack{survivor(id(2, 0, 3))}))

	for _, bad := range []torture.AppendID{
		id(2, 0, 5), // a gap after the last reported
		id(2, 1, 1), // the rejected append itself
		id(2, 3, 2), // worker 3 reported nothing: its first is in flight
		id(1, 0, 8), // an earlier epoch
	} {
		err := h.InFlightErr(2, []torture.Ack{survivor(bad)})
		require.ErrorContains(t, err, bad.String(), "survivor %s", bad)
		require.ErrorContains(t, err, "not in flight")
	}
}
