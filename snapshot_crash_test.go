package eventstore_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/conformance"
	"github.com/durablelog/eventstore/internal/snapfile"
	"github.com/stretchr/testify/require"
)

var errCrash = errors.New("simulated crash")

// TestCrashDuringSnapshot stops a snapshot write between its steps (write,
// fsync, rename, directory fsync), leaves on disk what a crash at that point
// leaves, and reopens: recovery uses the last complete snapshot and the
// state equals a fold over the log.
func TestCrashDuringSnapshot(t *testing.T) {
	steps := map[string]func(saved string) snapfile.Hooks{
		"after write": func(saved string) snapfile.Hooks {
			return snapfile.Hooks{AfterWrite: func(tmp string) error { return keep(tmp, saved) }}
		},
		"after fsync": func(saved string) snapfile.Hooks {
			return snapfile.Hooks{AfterSync: func(tmp string) error { return keep(tmp, saved) }}
		},
		"after rename": func(string) snapfile.Hooks {
			return snapfile.Hooks{AfterRename: func(string) error { return errCrash }}
		},
	}
	for name, hooks := range steps {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			saved := filepath.Join(t.TempDir(), "tmp-at-crash")
			s := openMem(t, dir, eventstore.WithStateMachine(&conformance.HashState{}), eventstore.WithSnapshotPolicy(eventstore.Never()))
			appendN(t, s, "a", 10)
			require.NoError(t, s.Snapshot(ctx))
			require.NoError(t, s.Close())

			s = openMem(t, dir, eventstore.WithStateMachine(&conformance.HashState{}), eventstore.WithSnapshotPolicy(eventstore.Never()),
				eventstore.WithSnapshotHooks(hooks(saved)))
			appendN(t, s, "a", 5)
			err := s.Snapshot(ctx)
			require.ErrorIs(t, err, errCrash)
			require.Equal(t, uint64(1), s.SnapshotStatus().Failed)
			appendN(t, s, "a", 1) // appends go on
			require.NoError(t, s.Close())
			if _, err := os.Stat(saved); err == nil {
				// What the crash left: the temporary file.
				require.NoError(t, os.Rename(saved, filepath.Join(dir, "snapshots", snapfile.Name(15)+".tmp-crash")))
			}

			sm := &conformance.HashState{}
			s = openMem(t, dir, eventstore.WithStateMachine(sm))
			defer s.Close()
			rep := s.LastRecovery()
			want := eventstore.Offset(10)
			if name == "after rename" {
				want = 15 // the file was complete and synced before the rename
			}
			require.Equal(t, want, rep.SnapshotOffset)
			require.Empty(t, rep.Skipped)
			recs, err := s.ReadLog(ctx, 1, 0)
			require.NoError(t, err)
			c, l, h, err := conformance.Fold(recs)
			require.NoError(t, err)
			gc, gl, gh := sm.Sum()
			require.Equal(t, []any{c, l, h}, []any{gc, gl, gh})
			matches, _ := filepath.Glob(filepath.Join(dir, "snapshots", "*.tmp-*"))
			require.Empty(t, matches, "recovery removes unfinished snapshots")
		})
	}
}

// keep copies the temporary file aside, as the disk holds it at the crash,
// and fails the step.
func keep(tmp, saved string) error {
	b, err := os.ReadFile(tmp)
	if err != nil {
		return err
	}
	if err := os.WriteFile(saved, b, 0o644); err != nil {
		return err
	}
	return errCrash
}

// TestRestoreFailure: a snapshot whose Restore fails is skipped; when none
// restores, Open refuses rather than replay onto a partial state.
func TestRestoreFailure(t *testing.T) {
	dir := t.TempDir()
	s := openMem(t, dir, eventstore.WithStateMachine(&conformance.HashState{}), eventstore.WithSnapshotPolicy(eventstore.EveryN(5)))
	appendN(t, s, "a", 12)
	require.NoError(t, s.Close())
	_, err := eventstore.Open(dir, eventstore.WithStateMachine(&failingRestore{}))
	require.ErrorIs(t, err, eventstore.ErrStateMachine)
	require.ErrorContains(t, err, "partial state")
}

type failingRestore struct{ conformance.HashState }

func (*failingRestore) Restore(io.Reader) error { return errCrash }
