package eventstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/memory"
	"github.com/durablelog/eventstore/conformance"
	"github.com/stretchr/testify/require"
)

// TestOpenRelativeDirSurvivesChdir: a store opened with a relative path
// keeps writing in that directory after the process changes its working
// directory, and is found again under its absolute path.
func TestOpenRelativeDirSurvivesChdir(t *testing.T) {
	base, elsewhere := t.TempDir(), t.TempDir()
	t.Chdir(base)
	ctx := context.Background()
	s, err := eventstore.Open(filepath.Join("data", "orders"), eventstore.WithBackend(memory.Name), eventstore.WithStateMachine(&conformance.HashState{}))
	require.NoError(t, err)
	want := filepath.Join(base, "data", "orders")
	require.Equal(t, want, s.Dir())
	_, err = s.Append(ctx, "o-1", eventstore.NoStream, eventstore.Event{Type: "Placed", Data: []byte("1")})
	require.NoError(t, err)

	t.Chdir(elsewhere)
	_, err = s.Append(ctx, "o-1", 1, eventstore.Event{Type: "Paid", Data: []byte("2")})
	require.NoError(t, err)
	require.NoError(t, s.Snapshot(ctx))
	require.NoError(t, s.Close())
	_, err = os.Stat(filepath.Join(elsewhere, "data"))
	require.ErrorIs(t, err, os.ErrNotExist, "the store wrote into the new working directory")
	snaps, err := os.ReadDir(filepath.Join(want, "snapshots"))
	require.NoError(t, err)
	require.NotEmpty(t, snaps, "the snapshot is in the store's directory")

	s, err = eventstore.Open(want, eventstore.WithBackend(memory.Name), eventstore.WithStateMachine(&conformance.HashState{}))
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, eventstore.Offset(2), s.Head())
	require.Equal(t, eventstore.Offset(2), s.LastRecovery().SnapshotOffset)
}

func TestOpenNoDirectory(t *testing.T) {
	_, err := eventstore.Open("")
	require.ErrorContains(t, err, "no directory given")
}
