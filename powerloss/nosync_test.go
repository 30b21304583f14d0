package powerloss

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/badger"
	"github.com/durablelog/eventstore/backends/sqlite"
	"github.com/durablelog/eventstore/conformance"
	"github.com/durablelog/eventstore/internal/lazyfs"
	"github.com/durablelog/eventstore/internal/torture"
)

// noSyncFigures are the figures of TestBadgerNoSyncPowerCuts.
type noSyncFigures struct {
	Seed   uint64
	Rounds int // fresh stores
	Cuts   int
	// CutsAtFsync are the cuts that a lazyfs rule made as an fsync of a
	// memtable WAL (badger) or of the database's files (sqlite) arrived;
	// the others came at a random moment.
	CutsAtFsync    int
	CutsDuringOpen int
	// Checks that found acknowledged events missing, and how many events.
	AckedLossCuts, AckedLostEvents int
	// Of them, the checks whose Open reported a loss (LostEvents > 0, a new
	// generation) and those where nothing reported it.
	Reported, Unreported int
	// UnderReported are the reported losses whose report counts fewer
	// events than the acknowledged events lost (a snapshot below the
	// acknowledged head was the witness).
	UnderReported int
	// ReportedNoAckLoss counts reports of a loss that took no
	// acknowledged event (an unacknowledged append a snapshot had seen).
	ReportedNoAckLoss int
	// Holes are the Opens that cut the log back at a hole (HoleAt > 0),
	// HoleEvents the events they cut; RefusedHoles the Opens that failed
	// with ErrCorrupt naming a hole instead.
	Holes, HoleEvents, RefusedHoles int
	// Unopenable counts the Opens that failed otherwise (with
	// -powerloss.strict=false; strict fails the test on the first).
	Unopenable                int
	LostSnapshots             int // snapshots set aside as *.lost
	MaxLost                   int // the largest acknowledged loss at one cut, in events
	AckedAppends, AckedEvents int // checked present, summed over the checks
	Duration                  time.Duration
}

func (f noSyncFigures) String() string {
	return fmt.Sprintf("seed %d: %d power cuts (%d at a WAL fsync, %d during open) over %d stores in %v; acknowledged events lost at %d cuts (%d events, at most %d at once): "+
		"reported %d (%d counting fewer events than were lost), UNREPORTED %d; %d reports of a loss of unacknowledged events only; holes cut %d (%d events), holes refused %d; UNOPENABLE %d; %d snapshots set aside as lost; "+
		"%d acknowledged appends / %d events checked present",
		f.Seed, f.Cuts, f.CutsAtFsync, f.CutsDuringOpen, f.Rounds, f.Duration.Round(time.Second), f.AckedLossCuts, f.AckedLostEvents, f.MaxLost,
		f.Reported, f.UnderReported, f.Unreported, f.ReportedNoAckLoss, f.Holes, f.HoleEvents, f.RefusedHoles, f.Unopenable, f.LostSnapshots, f.AckedAppends, f.AckedEvents)
}

// TestBadgerNoSyncPowerCuts runs the torture workload on badger in NoSync
// mode, with 1 MiB memtables, in a child process on a lazyfs mount, cuts the
// power many times and checks the store after every cut.
//
// Badger rotates its memtable without syncing the old memtable's WAL and
// replays each .mem file on its own; the store's sync (every second in
// NoSync mode) fsyncs the active memtable's WAL first and the older ones
// after it (backends/badger/sync.go). A cut between the two, once the newer
// file's name is durable, keeps the newer WAL and loses the tail of an
// older one: a hole in the middle of the log. Half of the cuts are made by a
// lazyfs rule as the k-th fsync of a memtable WAL arrives, to land in that
// window; the others at a random moment.
//
// After every cut the store must open in NoSync mode with a dense log that
// is a byte-identical prefix of what was acknowledged (Verify, a read of
// the whole log, dense offsets and stream versions, the state equal to the
// fold), or fail with ErrCorrupt naming a hole; never open and then fail. A
// reported loss (LostEvents > 0) moves the store to the next generation and
// an unreported one does not; a hole cut (HoleAt) is reported, with the log
// ending just below it. A store that no longer opens fails the test with
// -powerloss.strict (the default) and is counted otherwise. Acknowledged
// events lost with nothing reported are counted and logged, not failed: in
// NoSync mode the head mark records only what a periodic sync made
// durable, so only a snapshot past the head or a hole tells Open that
// appends acknowledged after the last sync are gone (docs/reliability.md,
// "Lost events").
//
// Two file-system models: "ext4" (lazyfs Ordered: a file's fsync commits
// every name, as ext4's journal does; the fsync of the newer WAL then makes
// its name durable, which opens the hole's window at every sync) and
// "posix" (a name is durable only after its directory's fsync; badger
// fsyncs no directory after it flushes a memtable to a table).
func TestBadgerNoSyncPowerCuts(t *testing.T) {
	if err := lazyfs.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING the FUSE power-loss tests: %v ***\n\n", err)
		t.Skipf("SKIPPING the FUSE power-loss tests: %v", err)
	}
	if !engineSelected(badger.Name) {
		t.Skip("not selected by -powerloss.engines")
	}
	s := seed(t)
	for _, model := range []string{"ext4", "posix"} {
		t.Run(model, func(t *testing.T) {
			t.Parallel()
			fig, err := noSyncLoop(t, badger.Name, torture.ProfileSmall, s, model == "ext4", noSyncCuts(), loopDuration())
			t.Logf("figures (%s): %v", model, fig)
			if err != nil {
				t.Fatal(err)
			}
			if fig.Cuts == 0 {
				t.Fatal("no power cut was made")
			}
			t.Logf("%s: a hole was cut back at %d of %d cuts (%d of them at a memtable WAL fsync)", model, fig.Holes, fig.Cuts, fig.CutsAtFsync)
		})
	}
}

// TestSQLiteNoSyncPowerCuts runs the NoSync power-cut loop of
// TestBadgerNoSyncPowerCuts on the sqlite engine with its defaults (a
// checkpoint, which fsyncs the WAL, every 1000 pages: the small profile's
// 16 pages would checkpoint at nearly every commit of this workload's events
// of up to 16 KiB, and so sync it): half of the cuts at a random moment
// within 2.5 s, half as
// one of the first fsyncs of the database's files arrives (a periodic
// sync's, or a checkpoint's). After every cut the store must open with a
// dense log that is a byte-identical prefix of what was acknowledged, and a
// loss that Open reports moves the generation; acknowledged events lost
// without a report are counted and logged (NoSync promises no more), and a
// store that no longer opens fails the test (-powerloss.strict).
func TestSQLiteNoSyncPowerCuts(t *testing.T) {
	if err := lazyfs.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING the FUSE power-loss tests: %v ***\n\n", err)
		t.Skipf("SKIPPING the FUSE power-loss tests: %v", err)
	}
	if !engineSelected(sqlite.Name) {
		t.Skip("not selected by -powerloss.engines")
	}
	s := seed(t)
	for _, model := range []string{"ext4", "posix"} {
		t.Run(model, func(t *testing.T) {
			t.Parallel()
			fig, err := noSyncLoop(t, sqlite.Name, torture.ProfileDefault, s, model == "ext4", noSyncCuts(), loopDuration())
			t.Logf("figures (%s): %v", model, fig)
			if err != nil {
				t.Fatal(err)
			}
			if fig.Cuts == 0 {
				t.Fatal("no power cut was made")
			}
		})
	}
}

// cutsPerStore bounds the cuts on one store, so that each check (a full
// Verify and read of the log) stays short.
const cutsPerStore = 8

// noSyncLoop runs the NoSync power-cut loop of TestBadgerNoSyncPowerCuts
// and TestSQLiteNoSyncPowerCuts on engine (badger or sqlite) with the engine
// configuration of profile.
func noSyncLoop(t *testing.T, engine, profile string, seed uint64, ordered bool, cuts int, bound time.Duration) (noSyncFigures, error) {
	start := time.Now()
	fig := noSyncFigures{Seed: seed}
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
		srv, err := lazyfs.StartServerWith(backing, mnt, lazyfs.ServerOptions{Verbose: *flagVerbose, Ordered: ordered})
		holder.srv = srv
		return err
	}
	if err := mount(); err != nil {
		return fig, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x6e6f73796e63)) // "nosync"
	ctx := context.Background()
	var (
		dir string
		h   *torture.History
		gen uint64
	)
	fail := func(i int, format string, args ...any) (noSyncFigures, error) {
		fig.Duration = time.Since(start)
		return fig, fmt.Errorf("%s NoSync power cuts, seed %d, cut %d (store %s): %s", engine, seed, i, dir, fmt.Sprintf(format, args...))
	}
	for i := 1; i <= cuts; i++ {
		if bound > 0 && time.Since(start) > bound {
			break
		}
		if (i-1)%cutsPerStore == 0 || dir == "" {
			fig.Rounds++
			dir = filepath.Join(mnt, fmt.Sprintf("store-%d", fig.Rounds))
			// Events of up to 16 KiB fill a 1 MiB memtable in a few
			// hundred events; five of them stay within badger's
			// batch limit (15% of the memtable).
			h = torture.NewHistory(torture.Shape{Seed: seed + uint64(fig.Rounds), MaxData: 16 << 10})
			gen = 1
		}
		atFsync := rng.IntN(2) == 0
		var rules []lazyfs.Rule
		switch {
		case atFsync && engine == sqlite.Name:
			// The power is cut as one of the first fsyncs of the WAL or
			// the database file arrives: a periodic sync's, or a
			// checkpoint's.
			rules = append(rules, lazyfs.Rule{Op: lazyfs.OpFsync, Path: "store-*/engine/" + sqlite.FileName + "*", After: rng.IntN(4), Cut: true})
		case atFsync:
			// A slow disk for the tables: a flushed memtable's WAL stays
			// until its table is synced, so that a periodic sync finds
			// older WALs to sync after the active one; the power is cut
			// as one of them is synced.
			rules = append(rules,
				lazyfs.Rule{Op: lazyfs.OpFsync, Path: "store-*/engine/*.sst", Delay: 1500 * time.Millisecond},
				lazyfs.Rule{Op: lazyfs.OpFsync, Path: "store-*/engine/*.mem", Older: true, After: rng.IntN(3), Cut: true})
		}
		if err := holder.srv.SetRules(rules...); err != nil {
			return fail(i, "set the cut rule: %v", err)
		}
		spec := torture.ChildSpec{Dir: dir, Backend: engine, Profile: profile, NoSync: true,
			Workload: torture.Workload{Shape: h.Shape(), Epoch: uint32(i), Workers: 4}}
		c, err := torture.StartWorkloadChild(spec, h)
		if err != nil {
			return fail(i, "%v", err)
		}
		// A cut at a random moment within 2.5 s (the store syncs every
		// second), or by the rule; a rule that has not fired after 4 s
		// gives way to a cut then.
		wait := time.Duration(rng.Int64N(int64(2500 * time.Millisecond)))
		if atFsync {
			wait = 4 * time.Second
		}
		trigger := c.AfterReady(wait)
		if err := awaitCut(c, trigger, holder.srv); err != nil {
			c.Kill()
			return fail(i, "%v: %s; stderr: %s", err, c.Err(), tail(c.Stderr()))
		}
		ready := isClosed(c.Ready())
		c.Kill()
		st, err := holder.srv.Cut()
		holder.srv = nil
		if err != nil {
			return fail(i, "cut: %v", err)
		}
		byRule := st.CutAt != ""
		if !byRule && (c.Err() != "" || strings.Contains(c.Stderr(), "panic:")) {
			return fail(i, "the child failed before the cut: %s; stderr: %s", c.Err(), tail(c.Stderr()))
		}
		if strings.Contains(c.Stderr(), "DATA RACE") {
			return fail(i, "the child's stderr shows a data race: %s", tail(c.Stderr()))
		}
		fig.Cuts++
		if byRule {
			fig.CutsAtFsync++
		}
		if !ready {
			fig.CutsDuringOpen++
		}
		if *flagVerbose && engine == badger.Name {
			t.Logf("cut %d at %q: durable memtable WALs %v", i, st.CutAt, durableWALs(filepath.Join(backing, filepath.Base(dir), "engine")))
		}
		if err := mount(); err != nil {
			return fail(i, "remount: %v", err)
		}
		out, err := checkNoSync(ctx, engine, profile, dir, h, gen)
		if err != nil {
			return fail(i, "%v (cut at %q; durable files:\n%s)", err, st.CutAt, listTree(filepath.Join(backing, filepath.Base(dir))))
		}
		if out.refused != nil {
			fig.RefusedHoles++
			t.Logf("cut %d: Open refused a hole: %v", i, out.refused)
			dir = "" // a new store from the next cut on
			continue
		}
		if out.unopenable != nil {
			fig.Unopenable++
			if *flagStrict {
				return fail(i, "the store no longer opens after the cut (at %q): %v", st.CutAt, out.unopenable)
			}
			t.Logf("cut %d (at %q): UNOPENABLE store: %v", i, st.CutAt, out.unopenable)
			dir = ""
			continue
		}
		rep := out.rep
		rec := rep.Recovery
		fig.AckedAppends += rep.AckedAppends
		fig.AckedEvents += rep.AckedEvents
		fig.LostSnapshots += len(rec.LostSnapshots)
		if rec.HoleAt > 0 {
			fig.Holes++
			fig.HoleEvents += int(rec.LostEvents)
		}
		switch {
		case rep.LostEvents > 0 && rec.LostEvents > 0:
			fig.Reported++
			if rec.LostEvents < uint64(rep.LostEvents) {
				fig.UnderReported++
			}
		case rep.LostEvents > 0:
			fig.Unreported++
			t.Logf("cut %d: UNREPORTED loss of %d acknowledged events (%d appends) after offset %d (cut at %q, head mark %d)",
				i, rep.LostEvents, rep.LostAppends, rep.Head, st.CutAt, rec.HeadMark)
		case rec.LostEvents > 0:
			fig.ReportedNoAckLoss++
		}
		if rep.LostEvents > 0 {
			fig.AckedLossCuts++
			fig.AckedLostEvents += rep.LostEvents
			fig.MaxLost = max(fig.MaxLost, rep.LostEvents)
		}
		if *flagVerbose || rec.HoleAt > 0 {
			t.Logf("cut %d (at %q, ready=%v): head %d, acknowledged lost %d events, report: lost %d, hole at %d, head mark %d, generation %d",
				i, st.CutAt, ready, rep.Head, rep.LostEvents, rec.LostEvents, rec.HoleAt, rec.HeadMark, rep.Generation)
		}
		// The lost appends' offsets go to new appends from now on.
		h.Forget(rep.Head)
		for _, a := range rep.Survivors {
			h.Ack(a)
		}
		gen = rep.Generation
	}
	fig.Duration = time.Since(start)
	return fig, nil
}

// awaitCut waits for the moment of the cut: trigger, the child's exit, or a
// cut rule that fired while the child opened the store. A child whose disk
// died under it may never finish opening: badger's Close, after a failed
// Open, retries the flush of its memtable for ever (badger v4.9.6,
// db.go:1159-1165) and waits for it. It fails when the child neither opened
// the store nor was cut within 2 minutes.
func awaitCut(c *torture.Child, trigger <-chan struct{}, srv *lazyfs.Server) error {
	deadline := time.Now().Add(2 * time.Minute)
	check := time.NewTicker(5 * time.Second)
	defer check.Stop()
	for {
		select {
		case <-trigger:
			return nil
		case <-c.Exited():
			return nil
		case <-check.C:
			if isClosed(c.Ready()) {
				continue // trigger comes
			}
			if st, err := srv.Stats(); err == nil && st.CutAt != "" {
				return nil
			}
			if time.Now().After(deadline) {
				return errors.New("the child did not open the store within 2 minutes")
			}
		}
	}
}

// durableWALs lists badger's memtable WALs in dir with their sizes.
func durableWALs(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && strings.HasSuffix(e.Name(), ".mem") {
			out = append(out, fmt.Sprintf("%s (%d bytes)", e.Name(), fi.Size()))
		}
	}
	return out
}

// noSyncCheck is what checkNoSync found.
type noSyncCheck struct {
	rep        *torture.Report
	refused    error // Open failed with ErrCorrupt naming a hole
	unopenable error // Open failed otherwise
}

// checkNoSync opens the store of engine (with the configuration of profile)
// in dir in NoSync mode and checks it against h after a power cut, as
// TestBadgerNoSyncPowerCuts describes; gen is the store's generation before
// the cut.
func checkNoSync(ctx context.Context, engine, profile, dir string, h *torture.History, gen uint64) (noSyncCheck, error) {
	var out noSyncCheck
	opts, err := torture.StoreOptions(engine, profile)
	if err != nil {
		return out, err
	}
	sm := new(conformance.HashState)
	s, err := torture.Open(dir, sm, append(opts, eventstore.WithDurability(eventstore.NoSync))...)
	if err != nil {
		if errors.Is(err, eventstore.ErrCorrupt) && strings.Contains(err.Error(), "the log has a hole") {
			out.refused = err
		} else {
			out.unopenable = err
		}
		return out, nil
	}
	rep, err := torture.Inspect(ctx, s, sm, h)
	if err == nil {
		// The whole log in one read, as an application would.
		var recs []eventstore.Record
		if recs, err = s.ReadLog(ctx, 1, 0); err == nil && eventstore.Offset(len(recs)) != s.Head() {
			err = fmt.Errorf("ReadLog returned %d records, the head is %d", len(recs), s.Head())
		}
	}
	if cerr := s.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close after the check: %w", cerr)
	}
	if err != nil {
		return out, fmt.Errorf("the store opened, then failed: %w", err)
	}
	out.rep = rep
	for k := range rep.Counts {
		switch k {
		case torture.KindLost, torture.KindRecovery, torture.KindGeneration:
			// Allowed in NoSync mode; checked below.
		default:
			return out, fmt.Errorf("the log is not a dense prefix of what was acknowledged: %w", rep.Err())
		}
	}
	if rep.LostAppends > 0 && uint64(rep.MinLostFirst) <= rep.Records {
		return out, fmt.Errorf("acknowledged events are missing below the head %d, from offset %d: %w", rep.Head, rep.MinLostFirst, rep.Err())
	}
	rec := rep.Recovery
	want := gen
	if rec.LostEvents > 0 {
		want = gen + 1
	}
	if rep.Generation != want || rec.Generation != rep.Generation {
		return out, fmt.Errorf("the store is at generation %d (report %d) after a cut that lost %d events (report), from generation %d: want %d",
			rep.Generation, rec.Generation, rec.LostEvents, gen, want)
	}
	if rec.HoleAt > 0 && (rec.LostEvents == 0 || rec.Head != rec.HoleAt-1) {
		return out, fmt.Errorf("a hole at offset %d was cut, but the report says %d events lost and head %d", rec.HoleAt, rec.LostEvents, rec.Head)
	}
	return out, nil
}
