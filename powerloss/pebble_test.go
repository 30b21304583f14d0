package powerloss

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/pebble"
	"github.com/durablelog/eventstore/conformance"
	"github.com/durablelog/eventstore/internal/torture"
)

// pebbleMemTable is small, so that the workload flushes and compacts while
// the crash points are taken.
const pebbleMemTable = 256 << 10

// crashPointsPerRound bounds the log each crash point verifies: every round
// starts a fresh store.
const crashPointsPerRound = 25

// appendsPerPoint sizes a round: its workload makes that many appends per
// crash point.
const appendsPerPoint = 4

// unsyncedPercents are the CrashCloneCfg.UnsyncedDataPercent values the
// crash points use: only what was synced survives (0), each unsynced 4 KiB
// block and directory entry survives with that probability, or everything
// survives (100, a process crash).
var unsyncedPercents = []int{0, 0, 10, 50, 90, 100}

// crashFigures are the figures of TestPebbleCrashPoints.
type crashFigures struct {
	Seed                      uint64
	Rounds, Points            int
	ByPercent                 map[int]int
	AckedAppends, AckedEvents int // acknowledged before the crash point, checked, summed over the points
	LostAppends, LostEvents   int // of them missing: must be 0
	// Appends in flight at the crash points (acknowledged after it, at
	// most one per worker), found whole in the clone or lost.
	InFlight, Survived, UnackedLost int
	SnapshotRestores                int
	Duration                        time.Duration
}

func (f crashFigures) String() string {
	return fmt.Sprintf("pebble in process (seed %d): %d crash points in %d rounds in %v (by unsynced-data percent: %v); acked appends %d / events %d checked, LOST %d / %d; in flight at the crash points %d appends: survived %d, lost %d (unacknowledged); %d recoveries from a snapshot",
		f.Seed, f.Points, f.Rounds, f.Duration.Round(time.Second), f.ByPercent, f.AckedAppends, f.AckedEvents, f.LostAppends, f.LostEvents, f.InFlight, f.Survived, f.UnackedLost, f.SnapshotRestores)
}

// TestPebbleCrashPoints drives the event store on pebble over
// vfs.NewCrashableMem with the torture workload (4 goroutines, Sync, a
// HashState snapshotted every 50 events) and, while it appends, takes crash
// clones of the file system at many points (after a random number of
// acknowledgements). Each clone is reopened as a store and checked: every
// append acknowledged before the clone is present and byte-identical,
// offsets and versions are dense, no append is present in part, and the
// recovered state equals a fold over the log.
//
// Only the engine's files are in the MemFS; the store's STORE file and
// snapshots live on the real disk. A snapshot is complete before the clone
// is taken (it is copied first) and covers only committed, synced events,
// so copying the snapshots that exist at the crash point is what a crash
// would leave of them.
func TestPebbleCrashPoints(t *testing.T) {
	s := seed(t)
	points := crashPoints()
	rng := rand.New(rand.NewPCG(s, 0x70656262)) // "pebb"
	fig := crashFigures{Seed: s, ByPercent: map[int]int{}}
	start := time.Now()
	for round := 1; fig.Points < points; round++ {
		n := min(crashPointsPerRound, points-fig.Points)
		if round > 2*points {
			t.Fatalf("seed %d: %d rounds took only %d crash points", s, round, fig.Points)
		}
		if err := pebbleRound(t, rng, round, n, &fig); err != nil {
			t.Logf("figures: %v", fig)
			t.Fatalf("seed %d, round %d: %v", s, round, err)
		}
		fig.Rounds = round
	}
	fig.Duration = time.Since(start)
	t.Logf("figures: %v", fig)
	if fig.LostEvents != 0 {
		t.Fatalf("pebble lost %d acknowledged events (seed %d)", fig.LostEvents, s)
	}
}

// countingSink forwards to a History and counts the acknowledgements.
type countingSink struct {
	h    *torture.History
	acks atomic.Int64
}

func (c *countingSink) Ack(a torture.Ack) {
	c.h.Ack(a)
	c.acks.Add(1)
}

func (c *countingSink) Reject(id torture.AppendID) { c.h.Reject(id) }

// crashSafeMemFS works around a deadlock in pebble v2.1.7's crashable MemFS:
// MemFS.ReuseForWrite holds cloneMu.RLock and calls MemFS.Rename, which takes
// cloneMu.RLock again; when CrashClone's cloneMu.Lock is queued between the
// two, the second RLock waits for the writer, which waits for the first
// RLock (vfs/mem_fs.go:458-477). Pebble reuses WAL files, so a crash clone
// taken during a WAL rotation hangs. Here ReuseForWrite is a Rename and an
// OpenReadWrite in two steps; a clone between them sees the renamed file, a
// state a crash can leave.
type crashSafeMemFS struct{ *vfs.MemFS }

func (fs crashSafeMemFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	if err := fs.MemFS.Rename(oldname, newname); err != nil {
		return nil, err
	}
	return fs.MemFS.OpenReadWrite(newname, category)
}

// crashPoint is one crash clone, waiting to be verified.
type crashPoint struct {
	n      int
	pct    int
	hist   *torture.History // acknowledged before the clone
	snaps  map[string][]byte
	clone  *vfs.MemFS
	epoch  uint32
	frozen []torture.AppendID // the in-flight appends at the clone
}

func pebbleRound(t *testing.T, rng *rand.Rand, round, points int, fig *crashFigures) error {
	base := t.TempDir()
	dir := filepath.Join(base, "store")
	memFS := vfs.NewCrashableMem()
	// Small events keep each crash point's check cheap; the FUSE loop
	// covers the large ones.
	shape := torture.Shape{Seed: rng.Uint64(), MaxData: 1024}
	h := torture.NewHistory(shape)
	sink := &countingSink{h: h}
	sm := new(conformance.HashState)
	st, err := torture.Open(dir, sm, eventstore.WithBackend(pebble.Name),
		eventstore.WithBackendConfig(pebble.Options{FS: crashSafeMemFS{memFS}, MemTableSize: pebbleMemTable}))
	if err != nil {
		return err
	}
	const workers = 4
	epoch := uint32(round)
	// The crash points: after random numbers of acknowledgements, within a
	// round of appendsPerPoint appends per point.
	maxAppends := appendsPerPoint * points
	targets := make([]int64, points)
	for k := range targets {
		targets[k] = 1 + rng.Int64N(int64(maxAppends)*9/10)
	}
	slices.Sort(targets)
	var runErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, runErr = torture.Workload{Shape: shape, Epoch: epoch, Workers: workers, MaxAppends: maxAppends}.Run(context.Background(), st, sink)
	}()
	cloneRNG := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
	var cps []crashPoint
	for k, target := range targets {
		for sink.acks.Load() < target && !isClosed(done) {
			time.Sleep(20 * time.Microsecond)
		}
		if isClosed(done) {
			break
		}
		if rng.IntN(4) == 0 {
			time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
		}
		cp := crashPoint{n: k + 1, pct: unsyncedPercents[rng.IntN(len(unsyncedPercents))], epoch: epoch}
		cp.hist = h.Clone()
		cp.frozen = inFlight(cp.hist, epoch, workers, true)
		if cp.snaps, err = readSnapshots(filepath.Join(dir, "snapshots")); err != nil {
			break
		}
		cp.clone = memFS.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: cp.pct, RNG: cloneRNG})
		cps = append(cps, cp)
	}
	<-done
	cerr := st.Close()
	switch {
	case err != nil:
		return err
	case runErr != nil:
		return fmt.Errorf("the workload: %w", runErr)
	case cerr != nil:
		return fmt.Errorf("close: %w", cerr)
	}
	// Verify on a few goroutines: a reopen mostly waits for the flush its
	// WAL replay started.
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		next = make(chan crashPoint)
	)
	for range verifiers {
		wg.Go(func() {
			for cp := range next {
				if err := verifyCrashPoint(base, dir, cp, fig, &mu); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("crash point %d (unsynced %d%%): %w", cp.n, cp.pct, err))
					mu.Unlock()
				}
			}
		})
	}
	for _, cp := range cps {
		next <- cp
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// verifiers is the number of crash points verified at once.
const verifiers = 2

// readSnapshots reads the complete snapshot files in dir.
func readSnapshots(dir string) (map[string][]byte, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, "snap-") || !strings.HasSuffix(name, ".snap") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue // pruned meanwhile
		}
		if err != nil {
			return nil, err
		}
		out[name] = b
	}
	return out, nil
}

// verifyCrashPoint reopens the clone as a store in a new directory and
// checks it against the history of the crash point.
func verifyCrashPoint(base, orig string, cp crashPoint, fig *crashFigures, mu *sync.Mutex) error {
	cdir := filepath.Join(base, fmt.Sprintf("clone-%d", cp.n))
	defer os.RemoveAll(cdir)
	if err := os.MkdirAll(filepath.Join(cdir, "snapshots"), 0o755); err != nil {
		return err
	}
	sf, err := os.ReadFile(filepath.Join(orig, "STORE"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(cdir, "STORE"), sf, 0o644); err != nil {
		return err
	}
	for name, b := range cp.snaps {
		if err := os.WriteFile(filepath.Join(cdir, "snapshots", name), b, 0o644); err != nil {
			return err
		}
	}
	// The engine's directory, moved to the new store's path in the clone.
	if err := cp.clone.MkdirAll(cdir, 0o755); err != nil {
		return err
	}
	if err := cp.clone.Rename(filepath.Join(orig, "engine"), filepath.Join(cdir, "engine")); err != nil {
		return fmt.Errorf("the clone has no engine directory: %w", err)
	}
	sm := new(conformance.HashState)
	// Recovery restores the snapshots whatever the policy; Never spares
	// the closing snapshot and its fsync on the real disk. The default
	// memtable spares a flush during the WAL replay, which waits for
	// pebble's compaction scheduler.
	s, err := torture.Open(cdir, sm, eventstore.WithBackend(pebble.Name),
		eventstore.WithBackendConfig(pebble.Options{FS: crashSafeMemFS{cp.clone}}),
		eventstore.WithSnapshotPolicy(eventstore.Never()))
	if err != nil {
		return fmt.Errorf("reopen the clone: %w", err)
	}
	rep, cerr := torture.Check(context.Background(), s, sm, cp.hist)
	if err := s.Close(); err != nil {
		cerr = errors.Join(cerr, fmt.Errorf("close the clone: %w", err))
	}
	mu.Lock()
	defer mu.Unlock()
	fig.Points++
	fig.ByPercent[cp.pct]++
	if rep != nil {
		fig.AckedAppends += rep.AckedAppends
		fig.AckedEvents += rep.AckedEvents
		fig.LostAppends += rep.LostAppends
		fig.LostEvents += rep.LostEvents
		if rep.Recovery.SnapshotOffset > 0 {
			fig.SnapshotRestores++
		}
		survived := map[torture.AppendID]bool{}
		for _, a := range rep.Survivors {
			survived[a.ID] = true
		}
		for _, id := range cp.frozen {
			fig.InFlight++
			if survived[id] {
				fig.Survived++
			} else {
				fig.UnackedLost++
			}
		}
	}
	return cerr
}
