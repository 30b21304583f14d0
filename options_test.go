package eventstore_test

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/memory"
	"github.com/stretchr/testify/require"
)

func TestOptionValidation(t *testing.T) {
	bad := map[string]eventstore.Option{
		"WithBackend empty":        eventstore.WithBackend(""),
		"WithEngine nil":           eventstore.WithEngine("x", nil),
		"WithEngine no name":       eventstore.WithEngine("", memory.Engine{}),
		"WithStateMachine nil":     eventstore.WithStateMachine(nil),
		"WithSnapshotPolicy nil":   eventstore.WithSnapshotPolicy(nil),
		"WithDurability 7":         eventstore.WithDurability(eventstore.Durability(7)),
		"WithMaxEventSize 0":       eventstore.WithMaxEventSize(0),
		"WithGroupCommit negative": eventstore.WithGroupCommit(-1, 0),
		"WithSnapshotRetention 0":  eventstore.WithSnapshotRetention(0),
	}
	for name, opt := range bad {
		dir := t.TempDir()
		_, err := eventstore.Open(dir, eventstore.WithBackend(memory.Name), opt)
		require.Error(t, err, name)
		_, statErr := os.Stat(filepath.Join(dir, "STORE"))
		require.True(t, errors.Is(statErr, os.ErrNotExist), "%s: a rejected Open must not create the store", name)
	}
	require.ErrorIs(t, func() error {
		_, err := eventstore.Open(t.TempDir(), eventstore.WithBackend(""))
		return err
	}(), eventstore.ErrUnknownBackend)
}

func TestGoodOptions(t *testing.T) {
	var buf safeBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := openMem(t, t.TempDir(),
		eventstore.WithLogger(logger),
		eventstore.WithGroupCommit(10, 1<<20),
		eventstore.WithMaxEventSize(10),
		eventstore.WithEngine("memory", memory.Engine{}),
		eventstore.WithDurability(eventstore.NoSync),
	)
	appendN(t, s, "a", 25)
	require.NoError(t, s.Close())
	require.Contains(t, buf.String(), "eventstore: recovered")
}

func TestStrings(t *testing.T) {
	require.Equal(t, "Sync", eventstore.Sync.String())
	require.Equal(t, "NoSync", eventstore.NoSync.String())
	require.Equal(t, "Durability(9)", eventstore.Durability(9).String())
	require.Equal(t, "EveryN(5)", fmt.Sprint(eventstore.EveryN(5)))
	require.Equal(t, "Adaptive(1s)", fmt.Sprint(eventstore.Adaptive(time.Second)))
	require.Equal(t, "AnyOf(Never(), OnClose())", fmt.Sprint(eventstore.AnyOf(eventstore.Never(), eventstore.OnClose())))
	e := &eventstore.WrongExpectedVersionError{Stream: "s", Expected: eventstore.StreamExists, Actual: 0}
	require.Equal(t, `eventstore: wrong expected version for stream "s": expected an existing stream, stream is at 0`, e.Error())
	e = &eventstore.WrongExpectedVersionError{Stream: "s", Expected: eventstore.NoStream, Actual: 3}
	require.Contains(t, e.Error(), "expected no stream (0), stream is at 3")
	e = &eventstore.WrongExpectedVersionError{Stream: "s", Expected: eventstore.Any}
	require.Contains(t, e.Error(), "expected any")
}

func TestPolicies(t *testing.T) {
	st := eventstore.SnapshotStats{EventsSince: 10, EstimatedReplay: 50 * time.Millisecond}
	require.True(t, eventstore.EveryN(10).ShouldSnapshot(st))
	require.False(t, eventstore.EveryN(11).ShouldSnapshot(st))
	require.False(t, eventstore.EveryN(0).ShouldSnapshot(st))
	require.True(t, eventstore.Adaptive(50*time.Millisecond).ShouldSnapshot(st))
	require.False(t, eventstore.Adaptive(60*time.Millisecond).ShouldSnapshot(st))
	require.False(t, eventstore.Adaptive(time.Nanosecond).ShouldSnapshot(eventstore.SnapshotStats{EstimatedReplay: time.Hour}), "nothing to snapshot")
	require.False(t, eventstore.OnClose().ShouldSnapshot(st))
	require.True(t, eventstore.OnClose().ShouldSnapshot(eventstore.SnapshotStats{EventsSince: 1, Closing: true}))
	require.False(t, eventstore.Never().ShouldSnapshot(eventstore.SnapshotStats{EventsSince: 1e9, Closing: true}))
	require.True(t, eventstore.AnyOf(nil, eventstore.Never(), eventstore.EveryN(5)).ShouldSnapshot(st))
	require.False(t, eventstore.AnyOf().ShouldSnapshot(st))
}

func TestStoreFile(t *testing.T) {
	dir := t.TempDir()
	s := openMem(t, dir)
	require.Equal(t, dir, s.Dir())
	require.NoError(t, s.Close())
	path := filepath.Join(dir, "STORE")

	require.NoError(t, os.WriteFile(path, []byte("{not json"), 0o644))
	_, err := eventstore.Open(dir)
	require.ErrorIs(t, err, eventstore.ErrCorrupt)
	require.Contains(t, err.Error(), "STORE")

	require.NoError(t, os.WriteFile(path, []byte(`{"format":99,"backend":"memory"}`), 0o644))
	_, err = eventstore.Open(dir)
	require.ErrorContains(t, err, "upgrade eventstore")

	require.NoError(t, os.WriteFile(path, []byte(`{"format":1,"backend":"memory"}`), 0o644))
	s, err = eventstore.Open(dir)
	require.NoError(t, err)
	require.Equal(t, "memory", s.Backend())
	require.NoError(t, s.Close())
}

func TestOpenCreatesNestedDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b", "events")
	s := openMem(t, dir)
	require.NoError(t, s.Close())
	require.FileExists(t, filepath.Join(dir, "STORE"))
}

// TestWithExistingStore: Open fails with ErrNoStore, creating nothing, when
// the directory holds no store, and opens a store that exists.
func TestWithExistingStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	_, err := eventstore.Open(dir, eventstore.WithBackend("memory"), eventstore.WithExistingStore())
	require.ErrorIs(t, err, eventstore.ErrNoStore)
	require.ErrorContains(t, err, dir)
	require.NoDirExists(t, dir, "a refused Open creates nothing")

	empty := t.TempDir()
	_, err = eventstore.Open(empty, eventstore.WithBackend("memory"), eventstore.WithExistingStore())
	require.ErrorIs(t, err, eventstore.ErrNoStore)
	require.NoFileExists(t, filepath.Join(empty, "STORE"))

	s := openMem(t, empty)
	require.NoError(t, s.Close())
	s, err = eventstore.Open(empty, eventstore.WithExistingStore())
	require.NoError(t, err)
	require.NoError(t, s.Close())
}
