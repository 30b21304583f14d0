package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/internal/pgtest"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain runs the tests, or, in the processes that run starts (this test
// binary again), the example's write and project commands.
func TestMain(m *testing.M) {
	if os.Getenv("MULTIWRITER_CHILD") == "1" {
		main()
		return
	}
	goleak.VerifyTestMain(pgtest.Main(m))
}

// lockedBuffer is run's output, written by the goroutines that copy the
// processes' output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestThreeWritersAndAProjection runs the whole example against the shared
// test server: three writer processes, a projection process run twice, and
// the final read model checked exactly.
func TestThreeWritersAndAProjection(t *testing.T) {
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	c := config{dsn: srv.DSN(db), schema: "payments", dir: t.TempDir(), writers: 3, payments: 30, accounts: 4}
	var out lockedBuffer
	st, err := run(context.Background(), c, &out)
	require.NoError(t, err, out.String())

	// By the plan: writer w's payment i goes to account (w+i)%4 with
	// amount 1+(7w+3i)%50.
	want := State{
		Checkpoint: Checkpoint{Generation: 1, Offset: 90},
		Accounts: map[string]Account{
			"account-0": {Balance: 564, Payments: 22},
			"account-1": {Balance: 588, Payments: 23},
			"account-2": {Balance: 581, Payments: 23},
			"account-3": {Balance: 552, Payments: 22},
		},
	}
	require.Equal(t, want, st, out.String())
	saved, err := os.ReadFile(filepath.Join(c.dir, "projection.json"))
	require.NoError(t, err)
	var onDisk State
	require.NoError(t, json.Unmarshal(saved, &onDisk))
	require.Equal(t, want, onDisk, "the saved read model and checkpoint")

	s := out.String()
	require.Contains(t, s, "projection: no checkpoint: projecting from offset 1\n")
	require.Contains(t, s, "projection: applied 45 events; checkpoint at offset 45 (generation 1)\n")
	require.Contains(t, s, "projection: resuming after the checkpoint at offset 45 (generation 1)\n")
	require.Contains(t, s, "projection: applied 45 events; checkpoint at offset 90 (generation 1)\n")
	for _, w := range []string{"writer-0", "writer-1", "writer-2"} {
		require.Contains(t, s, w+":   captured 30 payments; ")
	}
	require.Contains(t, s, "the projection matches the plan: 90 payments, each applied once, balances exact\n")

	// The log holds each payment once, with dense versions per account.
	store, err := eventstore.Open(t.TempDir(), eventstore.WithBackend(postgres.Name),
		eventstore.WithBackendConfig(postgres.Options{DSN: c.dsn, Schema: c.schema}))
	require.NoError(t, err)
	defer store.Close()
	recs, err := store.ReadLog(context.Background(), 1, 0)
	require.NoError(t, err)
	require.Len(t, recs, 90)
	ids := map[string]bool{}
	for _, r := range recs {
		require.False(t, ids[r.ID], "payment %s twice", r.ID)
		ids[r.ID] = true
	}

	// The example refuses a schema that is not empty.
	_, err = run(context.Background(), c, &out)
	require.ErrorContains(t, err, `schema "payments" of database`)
	require.ErrorContains(t, err, "is not empty (90 events)")
}
