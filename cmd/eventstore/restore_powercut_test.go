package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/dump"
	"github.com/durablelog/eventstore/internal/layout"
	"github.com/durablelog/eventstore/internal/lazyfs"
	"github.com/durablelog/eventstore/internal/snapfile"
	"github.com/stretchr/testify/require"
)

// TestRestorePowerCut runs `eventstore restore` into a directory on a lazyfs
// mount (internal/lazyfs: what was not fsynced is dropped at a power cut),
// cuts the power as soon as the command has returned, remounts, and requires
// the restored store to open with every record and every snapshot the
// command reported: a restore that returned is durable, the snapshots
// directory's entry in the store directory included. Both backup methods:
// a pebble checkpoint (copied) and a badger dump (imported).
func TestRestorePowerCut(t *testing.T) {
	if err := lazyfs.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING the FUSE restore test: %v ***\n\n", err)
		t.Skipf("SKIPPING the FUSE restore test: %v", err)
	}
	for _, tc := range []struct{ engine, method string }{
		{"pebble", dump.MethodCheckpoint},
		{"badger", dump.MethodDump},
	} {
		t.Run(tc.engine, func(t *testing.T) {
			tmp := t.TempDir()
			src, bk := filepath.Join(tmp, "src"), filepath.Join(tmp, "backup")
			makeStore(t, src, tc.engine, 80, 20)
			want := readStore(t, src)
			res := decode[backupResult](t, ok(t, "", "backup", "-d", src, "--dest", bk, "--json"))
			require.Equal(t, tc.method, res.Method)
			require.Positive(t, res.Snapshots)

			backing, mnt := filepath.Join(tmp, "backing"), filepath.Join(tmp, "mnt")
			require.NoError(t, os.Mkdir(backing, 0o755))
			require.NoError(t, os.Mkdir(mnt, 0o755))
			srv, err := lazyfs.StartServer(backing, mnt, false)
			require.NoError(t, err)
			t.Cleanup(func() {
				if srv != nil {
					_ = srv.Close()
				}
			})

			dst := filepath.Join(mnt, "restored")
			rr := decode[restoreResult](t, ok(t, "", "restore", "--from", bk, "-d", dst, "--json"))
			require.Equal(t, res.Snapshots, rr.Snapshots)
			st, err := srv.Cut()
			require.NoError(t, err)
			srv = nil
			t.Logf("the cut dropped %d unsynced bytes and %d directory entries", st.DirtyBytes+st.LostBytes, st.PendingEntries)
			srv, err = lazyfs.StartServer(backing, mnt, false)
			require.NoError(t, err)

			snaps, err := snapfile.List(layout.Snapshots(dst))
			require.NoError(t, err, "the restored store's snapshots after the power cut")
			require.Len(t, snaps, rr.Snapshots, "snapshots after the power cut: %v", snaps)
			requireSameRecords(t, want, readStore(t, dst))
			s, err := eventstore.Open(dst, eventstore.WithStateMachine(&countState{}))
			require.NoError(t, err)
			rec := s.LastRecovery()
			require.NoError(t, s.Close())
			require.EqualValues(t, snaps[0].Offset, rec.SnapshotOffset, "recovery starts from the newest restored snapshot")
			require.Zero(t, rec.LostEvents)
			require.NoError(t, srv.Unmount())
			srv = nil
		})
	}
}
