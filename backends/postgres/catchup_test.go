package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/logstore"
	"github.com/stretchr/testify/require"
)

// TestCatchUpBoundedBatches: a log that was cut off from the server while
// another process appended large events catches up, when it reconnects, in
// batches of about MaxBatchBytes, not all at once: memory stays bounded
// however far behind it fell. Every record is published once, in order.
func TestCatchUpBoundedBatches(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	proxy := startProxy(t, env)
	ctx := context.Background()
	writer := openStore(t, env.options())

	const maxBytes, eventSize, events = 2 << 20, 256 << 10, 40 // 10 MiB in all
	var mu sync.Mutex
	var batches []int
	var next logstore.Offset
	var orderErr error
	o := env.options()
	o.DSN = proxy.dsn(env)
	follower, err := postgres.Open(ctx, o, logstore.Config{Sync: true, MaxBatchBytes: maxBytes, OnCommit: func(recs []logstore.Record) {
		mu.Lock()
		defer mu.Unlock()
		size := 0
		for _, r := range recs {
			if next != 0 && r.Offset != next && orderErr == nil {
				orderErr = fmt.Errorf("published offset %d when %d was next", r.Offset, next)
			}
			next = r.Offset + 1
			size += len(r.Data)
		}
		batches = append(batches, size)
	}}, nil)
	require.NoError(t, err)
	defer follower.Close()

	proxy.cut()
	data := bytes.Repeat([]byte("x"), eventSize)
	var last eventstore.AppendResult
	for i := range events {
		last, err = writer.Append(ctx, "big", eventstore.Any, eventstore.Event{Type: "Big", Data: append(append([]byte(nil), data...), fmt.Sprint(i)...)})
		require.NoError(t, err)
	}
	proxy.restore()
	waitFor(t, time.Minute, "the follower to catch up", func() bool { return follower.Head() >= last.Last })
	mu.Lock()
	defer mu.Unlock()
	require.NoError(t, orderErr)
	require.Equal(t, last.Last+1, next)
	for _, b := range batches {
		require.LessOrEqual(t, b, maxBytes+eventSize, "a catch-up published %d bytes at once (MaxBatchBytes %d): %v", b, maxBytes, batches)
	}
	t.Logf("published in batches of %v bytes", batches)
}
