package powerloss

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/durablelog/eventstore/internal/fsutil"
	"github.com/durablelog/eventstore/internal/lazyfs"
	"github.com/durablelog/eventstore/internal/torture"
	"github.com/stretchr/testify/require"
)

var flagStrict = flag.Bool("powerloss.strict", true, "fail TestNewStorePowerCut, TestCloseAfterFailedCommit and TestBadgerNoSyncPowerCuts on what they find (false: report it loudly and skip, or count it)")

// TestNewStorePowerCut: a store that Open has just created must keep its
// acknowledged appends through a power cut. Two cases per engine: Open
// creates the store's directory, or the application created it (and
// fsynced its parent) before Open. In both, the test cuts the power after
// the first acknowledgements and reports which directory entries were not
// durable.
//
// This test found a bug, since fixed: eventstore.Open created dir and
// dir/engine with os.MkdirAll and fsynced neither dir's parent nor dir, so a
// power cut soon after the first Sync appends could lose the whole store.
// Open now creates its directories with fsutil.MkdirAllSync, which fsyncs
// the parent of every directory it creates.
func TestNewStorePowerCut(t *testing.T) {
	if err := lazyfs.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING the FUSE power-loss tests: %v ***\n\n", err)
		t.Skipf("SKIPPING the FUSE power-loss tests: %v", err)
	}
	s := seed(t)
	var findings []string
	for _, engine := range torture.Engines {
		for _, precreated := range []bool{false, true} {
			name := fmt.Sprintf("%s/new-dir", engine)
			if precreated {
				name = fmt.Sprintf("%s/existing-dir", engine)
			}
			t.Run(name, func(t *testing.T) {
				if !engineSelected(engine) {
					t.Skip("not selected by -powerloss.engines")
				}
				if f := newStoreCut(t, engine, s, precreated); f != "" {
					findings = append(findings, name+": "+f)
				}
			})
		}
	}
	if len(findings) == 0 {
		return
	}
	msg := "eventstore.Open does not make a new store's directories durable; acknowledged appends were lost after a power cut:\n\t" +
		strings.Join(findings, "\n\t") +
		"\nfix: in Open, fsync the parent of dir when MkdirAll created it (and of every directory it created), and fsync dir after creating dir/engine and dir/snapshots"
	if *flagStrict {
		t.Fatalf("seed %d: %s", s, msg)
	}
	fmt.Fprintf(os.Stderr, "\n*** KNOWN BUG (TestNewStorePowerCut, seed %d): %s ***\n\n", s, msg)
	t.Skipf("KNOWN BUG, skipped (run with -powerloss.strict to fail): %s", msg)
}

// newStoreCut runs one case and returns a description of what was lost, ""
// when nothing acknowledged was.
func newStoreCut(t *testing.T, engine string, seed uint64, precreated bool) string {
	base := t.TempDir()
	backing, mnt := filepath.Join(base, "backing"), filepath.Join(base, "mnt")
	require.NoError(t, os.Mkdir(backing, 0o755))
	require.NoError(t, os.Mkdir(mnt, 0o755))
	srv, err := lazyfs.StartServer(backing, mnt, *flagVerbose)
	require.NoError(t, err)
	defer func() { _ = srv.Close() }()
	dir := filepath.Join(mnt, "store")
	if precreated {
		require.NoError(t, os.Mkdir(dir, 0o755))
		require.NoError(t, fsutil.SyncDir(mnt))
	}
	h := torture.NewHistory(torture.Shape{Seed: seed})
	c, err := torture.StartWorkloadChild(torture.ChildSpec{Dir: dir, Backend: engine, Profile: torture.ProfileSmall,
		Workload: torture.Workload{Shape: h.Shape(), Epoch: 1, Workers: 4}}, h)
	require.NoError(t, err)
	select {
	case <-c.AfterAcks(60):
	case <-c.Exited():
		t.Fatalf("the child stopped: %s; stderr: %s", c.Err(), tail(c.Stderr()))
	case <-time.After(2 * time.Minute):
		c.Kill()
		t.Fatalf("no acknowledgement within 2 minutes")
	}
	c.Kill()
	_, err = srv.Cut()
	require.NoError(t, err)
	var missing []string
	for _, p := range []string{"store", "store/STORE", "store/engine"} {
		if _, err := os.Stat(filepath.Join(backing, p)); errors.Is(err, os.ErrNotExist) {
			missing = append(missing, p)
		}
	}
	durable := listTree(backing)
	srv, err = lazyfs.StartServer(backing, mnt, *flagVerbose)
	require.NoError(t, err)
	opts, err := torture.StoreOptions(engine, torture.ProfileSmall)
	require.NoError(t, err)
	rep, err := checkStore(context.Background(), dir, opts, h)
	acked, _ := h.Len()
	if err == nil {
		t.Logf("%s: nothing lost: %d acknowledged appends checked", engine, acked)
		require.Empty(t, missing)
		return ""
	}
	require.NotNil(t, rep, "the reopen failed: %v", err)
	require.Zero(t, rep.Counts[torture.KindMismatch]+rep.Counts[torture.KindPartial], "no damage other than loss: %v", err)
	why := "?"
	switch {
	case len(missing) > 0 && missing[0] == "store":
		why = "the store directory's entry in its parent was never fsynced"
	case len(missing) > 0:
		why = "the entries " + strings.Join(missing, ", ") + " were never fsynced in the store directory"
	}
	t.Logf("%s: %d of %d acknowledged appends (%d events) lost after the cut; missing: %v (%s); durable files after the cut:\n%s",
		engine, rep.LostAppends, acked, rep.LostEvents, missing, why, durable)
	return fmt.Sprintf("%d of %d acknowledged appends lost; not durable: %s (%s)", rep.LostAppends, acked, strings.Join(missing, ", "), why)
}
