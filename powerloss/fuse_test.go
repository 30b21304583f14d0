package powerloss

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/badger"
	"github.com/durablelog/eventstore/conformance"
	"github.com/durablelog/eventstore/internal/lazyfs"
	"github.com/durablelog/eventstore/internal/torture"
)

// cutFigures are the figures of one engine's power-cut loop.
type cutFigures struct {
	Engine, Profile string
	Seed            uint64
	Cuts            int // power cuts (crash points)
	CutsDuringOpen  int // of them, while the child was still opening (recovering) the store
	// Acknowledged appends and events checked at the last verification,
	// over the whole history, and those lost (must be 0).
	AckedAppends, AckedEvents int
	LostAppends, LostEvents   int
	// Appends in flight at the cuts (at most one per worker: the one after
	// its last reported outcome), split into those found whole after the
	// cut (their fsync completed, the ack did not reach us) and those lost
	// (their fsync had not completed: allowed, they were never
	// acknowledged).
	InFlightAppends, InFlightEvents int
	SurvivedAppends, SurvivedEvents int
	UnackedLostApps, UnackedLostEvs int
	// What the cuts dropped: unsynced bytes and directory entries.
	DroppedBytes   int64
	DroppedEntries int
	// Cuts after which badger's directory held a zero-length .mem or .vlog
	// file, which badger itself refuses to open and the badger engine
	// removes before opening it (TestBadgerPowerCutAfterOpen).
	EmptyLogs int
	// Recoveries that restored a snapshot, and snapshots they skipped.
	SnapshotRestores, SnapshotsSkipped int
	Head                               uint64
	Duration                           time.Duration
}

func (f cutFigures) String() string {
	return fmt.Sprintf("%s (profile %q, seed %d): %d power cuts (%d during open) in %v; acked appends %d / events %d checked, LOST %d / %d; "+
		"in flight at the cuts %d appends / %d events: survived %d / %d, lost %d / %d (unacknowledged); dropped %d unsynced bytes and %d directory entries; "+
		"%d recoveries from a snapshot, %d snapshots skipped; %d cuts left zero-length badger logs (removed by the engine at Open); head %d",
		f.Engine, f.Profile, f.Seed, f.Cuts, f.CutsDuringOpen, f.Duration.Round(time.Second), f.AckedAppends, f.AckedEvents, f.LostAppends, f.LostEvents,
		f.InFlightAppends, f.InFlightEvents, f.SurvivedAppends, f.SurvivedEvents, f.UnackedLostApps, f.UnackedLostEvs,
		f.DroppedBytes, f.DroppedEntries, f.SnapshotRestores, f.SnapshotsSkipped, f.EmptyLogs, f.Head)
}

// TestPowerLossFUSE runs the torture workload of internal/torture in a child
// process on a lazyfs mount, cuts the power at a random moment (kills the
// child and drops every unsynced write and directory change), remounts,
// reopens the store and checks it against everything acknowledged so far,
// and goes on in the same directory. Per engine; the snapshot files are
// covered by every run (the workload snapshots every 50 events).
func TestPowerLossFUSE(t *testing.T) {
	if err := lazyfs.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING the FUSE power-loss tests: %v ***\n\n", err)
		t.Skipf("SKIPPING the FUSE power-loss tests: %v", err)
	}
	s := seed(t)
	for _, engine := range torture.Engines {
		t.Run(engine, func(t *testing.T) {
			if !engineSelected(engine) {
				t.Skipf("not selected by -powerloss.engines")
			}
			t.Parallel()
			fig, err := powerCutLoop(t, engine, *flagProfile, s, cuts(), loopDuration())
			t.Logf("figures: %v", fig)
			if err != nil {
				t.Fatal(err)
			}
			if fig.LostEvents != 0 {
				t.Fatalf("%s lost %d acknowledged events (seed %d)", engine, fig.LostEvents, s)
			}
		})
	}
}

// mountHolder keeps the current server for the cleanup.
type mountHolder struct{ srv *lazyfs.Server }

func powerCutLoop(t *testing.T, engine, profile string, seed uint64, cuts int, bound time.Duration) (cutFigures, error) {
	start := time.Now()
	fig := cutFigures{Engine: engine, Profile: profile, Seed: seed}
	base := t.TempDir()
	backing, mnt := filepath.Join(base, "backing"), filepath.Join(base, "mnt")
	for _, d := range []string{backing, mnt} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return fig, err
		}
	}
	var holder mountHolder
	t.Cleanup(func() {
		if holder.srv != nil {
			_ = holder.srv.Close()
		}
	})
	mount := func() error {
		srv, err := lazyfs.StartServer(backing, mnt, *flagVerbose)
		holder.srv = srv
		return err
	}
	if err := mount(); err != nil {
		return fig, err
	}
	dir := filepath.Join(mnt, "store")
	opts, err := torture.StoreOptions(engine, profile)
	if err != nil {
		return fig, err
	}
	hsh := fnv.New64a()
	hsh.Write([]byte(engine))
	rng := rand.New(rand.NewPCG(seed, hsh.Sum64()))
	h := torture.NewHistory(torture.Shape{Seed: seed})
	const workers = 4
	lastStartup := 100 * time.Millisecond
	ctx := context.Background()
	fail := func(i int, format string, args ...any) (cutFigures, error) {
		fig.Duration = time.Since(start)
		return fig, fmt.Errorf("power-loss loop of %s (profile %q), seed %d, cut %d: %s", engine, profile, seed, i, fmt.Sprintf(format, args...))
	}
	for i := 1; i <= cuts; i++ {
		if bound > 0 && time.Since(start) > bound {
			break
		}
		spec := torture.ChildSpec{Dir: dir, Backend: engine, Profile: profile,
			Workload: torture.Workload{Shape: h.Shape(), Epoch: uint32(i), Workers: workers}}
		t0 := time.Now()
		c, err := torture.StartWorkloadChild(spec, h)
		if err != nil {
			return fail(i, "%v", err)
		}
		// When to cut: while the child opens (recovers) the store (1 in
		// 10), a random delay after it is ready, or after a random number
		// of acknowledgements.
		var trigger <-chan struct{}
		var timer *time.Timer
		switch mode := rng.IntN(20); {
		case mode < 2:
			ch := make(chan struct{})
			timer = time.AfterFunc(time.Duration(rng.Int64N(int64(lastStartup)+1)), func() { close(ch) })
			trigger = ch
		case mode < 11:
			trigger = c.AfterReady(time.Duration(rng.Int64N(int64(150 * time.Millisecond))))
		default:
			trigger = c.AfterAcks(1 + rng.IntN(150))
		}
		timeout := time.NewTimer(2 * time.Minute)
		exited := false
		select {
		case <-trigger:
		case <-c.Exited():
			exited = true
		case <-timeout.C:
			c.Kill()
			return fail(i, "the child did not get going within 2 minutes: %s; stderr: %s", c.Err(), tail(c.Stderr()))
		}
		timeout.Stop()
		if timer != nil {
			timer.Stop()
		}
		ready := isClosed(c.Ready())
		if ready {
			lastStartup = time.Since(t0)
		}
		// The power cut: the machine stops now. Killing the child first
		// and then dropping the unsynced state is the same as a cut at
		// the moment of the kill: nothing becomes durable in between
		// but an fsync the child had already issued.
		c.Kill()
		st, err := holder.srv.Cut()
		if err != nil {
			return fail(i, "cut: %v", err)
		}
		holder.srv = nil
		durable := listTree(backing)
		if engine == badger.Name && len(emptyLogs(filepath.Join(backing, "store", "engine"))) > 0 {
			// The engine removes them when it opens (see
			// TestBadgerPowerCutAfterOpen); the reopen below checks it.
			fig.EmptyLogs++
		}
		if exited || c.Err() != "" {
			return fail(i, "the child stopped by itself: %s; stderr: %s", c.Err(), tail(c.Stderr()))
		}
		if s := c.Stderr(); strings.Contains(s, "DATA RACE") {
			return fail(i, "the child's stderr shows a data race: %s", tail(s))
		}
		fig.Cuts++
		if !ready {
			fig.CutsDuringOpen++
		}
		fig.DroppedBytes += st.DirtyBytes + st.LostBytes
		fig.DroppedEntries += st.PendingEntries
		inflight := inFlight(h, uint32(i), workers, ready)
		if err := mount(); err != nil {
			return fail(i, "remount: %v", err)
		}
		rep, err := checkStore(ctx, dir, opts, h)
		if rep != nil {
			fig.AckedAppends, fig.AckedEvents = rep.AckedAppends, rep.AckedEvents
			fig.LostAppends, fig.LostEvents = rep.LostAppends, rep.LostEvents
			fig.Head = uint64(rep.Head)
			if rep.Recovery.SnapshotOffset > 0 {
				fig.SnapshotRestores++
			}
			fig.SnapshotsSkipped += len(rep.Recovery.Skipped)
		}
		if err != nil {
			return fail(i, "%v (the cut dropped %d unsynced bytes in %d files and %d directory entries)\ndurable files after the cut:\n%s",
				err, st.DirtyBytes+st.LostBytes, st.DirtyFiles, st.PendingEntries, durable)
		}
		survived := map[torture.AppendID]bool{}
		for _, a := range rep.Survivors {
			survived[a.ID] = true
		}
		for _, id := range inflight {
			n := len(torture.Plan(h.Shape(), id).Events)
			fig.InFlightAppends++
			fig.InFlightEvents += n
			if survived[id] {
				fig.SurvivedAppends++
				fig.SurvivedEvents += n
			} else {
				fig.UnackedLostApps++
				fig.UnackedLostEvs += n
			}
		}
		if *flagVerbose {
			t.Logf("cut %d: after %d acks (ready=%v); dropped %d bytes, %d entries; head %d; %d in flight, %d survived",
				i, c.Acks(), ready, st.DirtyBytes+st.LostBytes, st.PendingEntries, rep.Head, len(inflight), len(rep.Survivors))
		}
	}
	fig.Duration = time.Since(start)
	return fig, nil
}

// checkStore opens the store in dir with a fresh HashState, checks it
// against h, closes it, and adopts the unacknowledged appends it found
// whole, which must stay from now on.
func checkStore(ctx context.Context, dir string, opts []eventstore.Option, h *torture.History) (*torture.Report, error) {
	sm := new(conformance.HashState)
	s, err := torture.Open(dir, sm, opts...)
	if err != nil {
		return nil, fmt.Errorf("reopen: %w", err)
	}
	rep, cerr := torture.Check(ctx, s, sm, h)
	if err := s.Close(); err != nil {
		cerr = errors.Join(cerr, fmt.Errorf("close after the check: %w", err))
	}
	if cerr == nil {
		for _, a := range rep.Survivors {
			h.Ack(a)
		}
	}
	return rep, cerr
}

// inFlight returns the appends of epoch that were in flight when the child
// died: for each worker, the one after its last reported outcome. A worker
// reports an outcome before it starts its next append, so there is at most
// one per worker; none when the child had not opened the store.
func inFlight(h *torture.History, epoch uint32, workers int, ready bool) []torture.AppendID {
	if !ready {
		return nil
	}
	last := make([]uint32, workers)
	note := func(id torture.AppendID) {
		if id.Epoch == epoch && int(id.Worker) < workers {
			last[id.Worker] = max(last[id.Worker], id.Seq)
		}
	}
	for _, a := range h.Acks() {
		note(a.ID)
	}
	for _, id := range h.Rejected() {
		note(id)
	}
	out := make([]torture.AppendID, workers)
	for w := range out {
		out[w] = torture.AppendID{Epoch: epoch, Worker: uint16(w), Seq: last[w] + 1}
	}
	return out
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func tail(s string) string {
	if len(s) > 3000 {
		return "..." + s[len(s)-3000:]
	}
	return s
}

// listTree lists the files under root, with their sizes, for failure
// messages.
func listTree(root string) string {
	var b strings.Builder
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(&b, "\t%s: %v\n", p, err)
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			fmt.Fprintf(&b, "\t%s/\n", rel)
			return nil
		}
		if fi, err := d.Info(); err == nil {
			fmt.Fprintf(&b, "\t%s %d\n", rel, fi.Size())
		}
		return nil
	})
	return b.String()
}
