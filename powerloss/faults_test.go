package powerloss

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/pebble"
	"github.com/durablelog/eventstore/conformance"
	"github.com/durablelog/eventstore/internal/faultkv"
	"github.com/durablelog/eventstore/internal/lazyfs"
	"github.com/durablelog/eventstore/internal/torture"
	"github.com/stretchr/testify/require"
)

// The fault-injection tests. Each one runs the torture workload (4
// goroutines, Sync, HashState snapshotted every 50 events), makes a write,
// a sync or a rename fail, and checks:
//
//   - the append whose write or sync failed returns an error wrapping
//     eventstore.ErrFailed and is not acknowledged;
//   - the store fails stop: every later append fails with ErrFailed, naming
//     the cause and telling to reopen, also once the disk works again, and
//     the engine sees no further commit or sync (no retried fsync);
//   - after a power cut (the unsynced state dropped) the reopened store
//     holds every acknowledged append, byte-identical, as a dense prefix,
//     and its recovered state equals the fold over the log.
//
// A snapshot whose write fails does not fail the appends and shows in
// Store.SnapshotStatus.

// faultOutcome is what a workload run with a fault did.
type faultOutcome struct {
	acked     int   // appends acknowledged in the run
	err       error // the workload's error: the first failed append's
	refusedOK bool  // later appends were refused with ErrFailed
}

// runUntilFault runs the workload on s until an append fails (or maxAppends
// were made) and checks the fail-stop behaviour after the failure.
func runUntilFault(t *testing.T, s *eventstore.Store, h *torture.History, epoch uint32, maxAppends int, afterFailure func()) faultOutcome {
	t.Helper()
	sink := &countingSink{h: h}
	_, err := torture.Workload{Shape: h.Shape(), Epoch: epoch, Workers: 4, MaxAppends: maxAppends}.Run(context.Background(), s, sink)
	out := faultOutcome{acked: int(sink.acks.Load()), err: err}
	if err == nil {
		return out
	}
	require.ErrorIs(t, err, eventstore.ErrFailed, "a failed write or sync fails the append with ErrFailed")
	if afterFailure != nil {
		afterFailure() // the disk works again
	}
	for i := range 3 {
		_, err := s.Append(context.Background(), "after-failure", eventstore.Any, eventstore.Event{Type: "T", Data: []byte{byte(i)}})
		require.ErrorIs(t, err, eventstore.ErrFailed, "the store refuses appends after a failed commit, until reopened")
		require.ErrorContains(t, err, "reopen")
	}
	out.refusedOK = true
	return out
}

// TestFaultKV wraps each real engine in internal/faultkv and fails a commit
// (the write) or its sync, on a lazyfs mount: after the failure, the store
// is closed and the power cut, so that a batch whose sync failed is lost,
// and an acknowledgement given for it would show.
func TestFaultKV(t *testing.T) {
	if err := lazyfs.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING the FUSE fault-injection tests: %v ***\n\n", err)
		t.Skipf("SKIPPING the FUSE fault-injection tests: %v", err)
	}
	sd := seed(t)
	for _, engine := range torture.Engines {
		t.Run(engine, func(t *testing.T) {
			if !engineSelected(engine) {
				t.Skip("not selected by -powerloss.engines")
			}
			t.Parallel()
			rng := rand.New(rand.NewPCG(sd, uint64(len(engine))))
			for _, kind := range []string{"write", "sync"} {
				t.Run(kind, func(t *testing.T) {
					inner, err := backend.Lookup(engine)
					require.NoError(t, err)
					m := newMounted(t)
					e := &faultkv.Engine{Inner: inner}
					h := torture.NewHistory(torture.Shape{Seed: rng.Uint64()})
					sm := new(conformance.HashState)
					s, err := torture.Open(m.dir, sm, eventstore.WithEngine(engine, e))
					require.NoError(t, err)
					require.NoError(t, runUntilFault(t, s, h, 1, 40, nil).err)
					k := 1 + rng.Int64N(8)
					switch kind {
					case "write":
						e.Inject(faultkv.Faults{CommitAfter: k})
					case "sync":
						e.Inject(faultkv.Faults{SyncAfter: k})
					}
					var commits, syncs int64
					out := runUntilFault(t, s, h, 2, 1000, func() {
						commits, syncs = e.Commits.Load(), e.Syncs.Load()
						e.Inject(faultkv.Faults{})
					})
					require.Error(t, out.err, "the fault (%s after %d) was never hit", kind, k)
					require.ErrorIs(t, out.err, faultkv.ErrInjected)
					require.Equal(t, commits, e.Commits.Load(), "no commit after the failure")
					require.Equal(t, syncs, e.Syncs.Load(), "no sync after the failure: the store never retries it")
					_ = s.Close()
					rep := m.cutAndCheck(t, engine, h)
					t.Logf("%s %s fault after %d: %d acked before it; after the cut: %d acked appends checked, %d unacknowledged present",
						engine, kind, k, out.acked, rep.AckedAppends, rep.UnackedAppends)
				})
			}
		})
	}
}

// mounted is a lazyfs mount with a store directory whose layout is durable.
type mounted struct {
	backing, mnt, dir string
	srv               *lazyfs.Server
}

func newMounted(t *testing.T) *mounted {
	t.Helper()
	base := t.TempDir()
	m := &mounted{backing: filepath.Join(base, "backing"), mnt: filepath.Join(base, "mnt")}
	m.dir = filepath.Join(m.mnt, "store")
	require.NoError(t, os.Mkdir(m.backing, 0o755))
	require.NoError(t, os.Mkdir(m.mnt, 0o755))
	m.mount(t)
	t.Cleanup(func() {
		if m.srv != nil {
			_ = m.srv.Close()
		}
	})
	// The store's directories, durable (see TestNewStorePowerCut).
	for _, d := range []string{m.dir, filepath.Join(m.dir, "engine"), filepath.Join(m.dir, "snapshots")} {
		require.NoError(t, os.Mkdir(d, 0o755))
	}
	require.NoError(t, syncDirs(m.mnt, m.dir))
	return m
}

func (m *mounted) mount(t *testing.T) {
	t.Helper()
	srv, err := lazyfs.StartServer(m.backing, m.mnt, *flagVerbose)
	require.NoError(t, err)
	m.srv = srv
}

// cutAndCheck cuts the power, remounts, reopens the store with the engine
// itself and checks it against h.
func (m *mounted) cutAndCheck(t *testing.T, engine string, h *torture.History) *torture.Report {
	t.Helper()
	_, err := m.srv.Cut()
	require.NoError(t, err)
	m.srv = nil
	m.mount(t)
	rep, err := checkStore(context.Background(), m.dir, []eventstore.Option{eventstore.WithBackend(engine)}, h)
	require.NoError(t, err, "after the power cut")
	return rep
}

func syncDirs(dirs ...string) error {
	for _, d := range dirs {
		f, err := os.Open(d)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// walGlob names each engine's write-ahead log files, relative to the mount.
var walGlob = map[string]string{
	"rocksdb": "store/engine/*.log",
	"pebble":  "store/engine/*.log",
	"badger":  "store/engine/*.mem",
}

// TestLazyFSFaults injects EIO through lazyfs on every engine: on the
// write-ahead log's writes, on its fsync once (a retried fsync would then
// succeed without the data: Linux's behaviour after a failed writeback) or
// for good, on renames during Open, and on the snapshot files' fsync,
// rename and directory fsync.
func TestLazyFSFaults(t *testing.T) {
	if err := lazyfs.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING the FUSE fault-injection tests: %v ***\n\n", err)
		t.Skipf("SKIPPING the FUSE fault-injection tests: %v", err)
	}
	sd := seed(t)
	for _, engine := range torture.Engines {
		t.Run(engine, func(t *testing.T) {
			if !engineSelected(engine) {
				t.Skip("not selected by -powerloss.engines")
			}
			t.Parallel()
			rng := rand.New(rand.NewPCG(sd, uint64(len(engine))+100))
			wal := walGlob[engine]
			cases := []struct {
				name string
				rule lazyfs.Rule
			}{
				{"wal-write", lazyfs.Rule{Op: lazyfs.OpWrite, Path: wal}},
				{"wal-fsync-once", lazyfs.Rule{Op: lazyfs.OpFsync, Path: wal, Times: 1}},
				{"wal-fsync-dead", lazyfs.Rule{Op: lazyfs.OpFsync, Path: wal}},
			}
			if engine == "sqlite" {
				// The database file is fsynced only by checkpoints, which
				// SQLite's automatic checkpoint would do, ignoring the error.
				cases = append(cases, struct {
					name string
					rule lazyfs.Rule
				}{"checkpoint-fsync-once", lazyfs.Rule{Op: lazyfs.OpFsync, Path: "store/engine/kv.sqlite", Times: 1}})
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					// The store runs in a child: see faultChildEnv.
					m := newMounted(t)
					h := torture.NewHistory(torture.Shape{Seed: rng.Uint64()})
					p, err := startFaultChild(faultSpec{Dir: m.dir, Backend: engine, Shape: h.Shape(), Epoch: 1, Close: true}, h)
					require.NoError(t, err)
					require.NoError(t, p.waitAcks(10+rng.IntN(40), 2*time.Minute))
					r := c.rule
					r.After = rng.IntN(6)
					require.NoError(t, m.srv.SetRules(r))
					msgs, err := p.wait(2 * time.Minute)
					require.NoError(t, err, "the fault child: %s", p.describe())
					failed := msgs["failed"]
					require.NotEmpty(t, failed.Err, "rule %v never fired", r)
					require.True(t, failed.OK, "a failed write or sync fails the append with ErrFailed: %s", failed.Err)
					// RocksDB's errors are C strings: they name the
					// error but do not wrap the errno.
					require.Contains(t, strings.ToLower(failed.Err), "input/output error", "the error names the I/O error")
					require.True(t, msgs["refused"].OK, "the store refuses appends after the failure, until reopened: %s", msgs["refused"].Err)
					rep := m.cutAndCheck(t, engine, h)
					t.Logf("%s %s (%v): failed with %s; after the cut: %d acked appends checked, %d unacknowledged present",
						engine, c.name, r, firstLineS(failed.Err), rep.AckedAppends, rep.UnackedAppends)
				})
			}
			t.Run("rename-during-open", func(t *testing.T) {
				m := newMounted(t)
				require.NoError(t, m.srv.SetRules(lazyfs.Rule{Op: lazyfs.OpRename, Path: "store/engine/"}))
				sm := new(conformance.HashState)
				s, err := torture.Open(m.dir, sm, eventstore.WithBackend(engine))
				st, serr := m.srv.Stats()
				require.NoError(t, serr)
				if err != nil {
					t.Logf("%s: Open failed on the injected rename error (%d injected): %v", engine, st.Faults, firstLine(err))
					require.NotZero(t, st.Faults)
				} else {
					t.Logf("%s: Open renames nothing in its directory (%d faults injected); the store opened", engine, st.Faults)
					require.Zero(t, st.Faults, "a rename failed, yet Open succeeded")
					require.NoError(t, s.Close())
				}
				require.NoError(t, m.srv.SetRules())
				h := torture.NewHistory(torture.Shape{Seed: rng.Uint64()})
				s, err = torture.Open(m.dir, new(conformance.HashState), eventstore.WithBackend(engine))
				require.NoError(t, err, "Open after the disk recovered")
				out := runUntilFault(t, s, h, 1, 60, nil)
				require.NoError(t, out.err)
				require.NoError(t, s.Close())
				m.cutAndCheck(t, engine, h)
			})
			for _, c := range []struct {
				name string
				rule lazyfs.Rule
			}{
				{"snapshot-fsync", lazyfs.Rule{Op: lazyfs.OpFsync, Path: "store/snapshots/"}},
				{"snapshot-rename", lazyfs.Rule{Op: lazyfs.OpRename, Path: "store/snapshots/"}},
				{"snapshot-dir-fsync", lazyfs.Rule{Op: lazyfs.OpFsyncDir, Path: "store/snapshots"}},
				{"snapshot-write", lazyfs.Rule{Op: lazyfs.OpWrite, Path: "store/snapshots/"}},
			} {
				t.Run(c.name, func(t *testing.T) { snapshotFault(t, engine, c.rule, rng.Uint64()) })
			}
		})
	}
}

// snapshotFault makes the snapshots fail while appends go on: the appends
// succeed, SnapshotStatus reports the failures, a snapshot succeeds once the
// disk works again, and recovery after a power cut is consistent.
func snapshotFault(t *testing.T, engine string, rule lazyfs.Rule, seed uint64) {
	m := newMounted(t)
	h := torture.NewHistory(torture.Shape{Seed: seed})
	sm := new(conformance.HashState)
	s, err := torture.Open(m.dir, sm, eventstore.WithBackend(engine))
	require.NoError(t, err)
	require.NoError(t, m.srv.SetRules(rule))
	out := runUntilFault(t, s, h, 1, 150, nil)
	require.NoError(t, out.err, "a failing snapshot must not fail the appends")
	require.NotZero(t, out.acked)
	var st eventstore.SnapshotStatus
	require.Eventually(t, func() bool {
		st = s.SnapshotStatus()
		return st.Failed > 0
	}, 30*time.Second, 10*time.Millisecond, "SnapshotStatus reports the failed snapshots")
	require.Error(t, st.LastError)
	t.Logf("%s %v: %d appends acknowledged; SnapshotStatus: taken %d, failed %d, last error: %v", engine, rule, out.acked, st.Taken, st.Failed, st.LastError)
	require.NoError(t, m.srv.SetRules())
	// Appends go on; a snapshot now succeeds.
	out = runUntilFault(t, s, h, 2, 20, nil)
	require.NoError(t, out.err)
	require.NoError(t, s.Snapshot(context.Background()))
	st2 := s.SnapshotStatus()
	require.Greater(t, st2.Taken, st.Taken)
	require.NoError(t, st2.LastError)
	require.NoError(t, s.Close())
	m.cutAndCheck(t, engine, h)
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// TestPebbleErrorFS fails pebble's WAL writes and syncs through pebble's
// errorfs, over a crashable MemFS: the store fails stop, and a crash clone
// taken after the failure (only what was synced) reopens to a consistent
// store holding every acknowledged append.
func TestPebbleErrorFS(t *testing.T) {
	sd := seed(t)
	rng := rand.New(rand.NewPCG(sd, 0xe770))
	for _, c := range []struct {
		name  string
		kinds []errorfs.OpKind
	}{
		{"wal-write", []errorfs.OpKind{errorfs.OpFileWrite, errorfs.OpFileWriteAt}},
		{"wal-sync", []errorfs.OpKind{errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo}},
	} {
		for trial := range 3 {
			t.Run(fmt.Sprintf("%s/%d", c.name, trial), func(t *testing.T) {
				memFS := vfs.NewCrashableMem()
				var armed atomic.Bool
				var skip atomic.Int64
				skip.Store(rng.Int64N(20))
				var injected atomic.Int64
				inj := errorfs.InjectorFunc(func(op errorfs.Op) error {
					if !armed.Load() || !strings.HasSuffix(op.Path, ".log") {
						return nil
					}
					for _, k := range c.kinds {
						if op.Kind == k {
							if skip.Add(-1) >= 0 {
								return nil
							}
							injected.Add(1)
							return errorfs.ErrInjected
						}
					}
					return nil
				})
				fsys := errorfs.Wrap(crashSafeMemFS{memFS}, inj)
				dir := filepath.Join(t.TempDir(), "store")
				h := torture.NewHistory(torture.Shape{Seed: rng.Uint64(), MaxData: 1024})
				sm := new(conformance.HashState)
				s, err := torture.Open(dir, sm, eventstore.WithBackend(pebble.Name),
					eventstore.WithBackendConfig(pebble.Options{FS: fsys}))
				require.NoError(t, err)
				require.NoError(t, runUntilFault(t, s, h, 1, 40, nil).err)
				armed.Store(true)
				out := runUntilFault(t, s, h, 2, 2000, func() { armed.Store(false) })
				require.Error(t, out.err, "the fault was never hit")
				require.ErrorIs(t, out.err, errorfs.ErrInjected)
				require.NotZero(t, injected.Load())
				// The power cut: only what was synced survives. Cloned
				// before Close, which pebble may refuse after the failure.
				clone := memFS.CrashClone(vfs.CrashCloneCfg{})
				snaps, err := readSnapshots(filepath.Join(dir, "snapshots"))
				require.NoError(t, err)
				cerr := s.Close()
				cp := crashPoint{n: trial, hist: h.Clone(), snaps: snaps, clone: clone}
				var fig crashFigures
				fig.ByPercent = map[int]int{}
				var mu sync.Mutex
				require.NoError(t, verifyCrashPoint(t.TempDir(), dir, cp, &fig, &mu))
				require.Zero(t, fig.LostEvents)
				t.Logf("pebble %s: failed with %v after %d acks; Close: %v; after the crash: %d acked appends checked",
					c.name, firstLine(out.err), out.acked, cerr, fig.AckedAppends)
			})
		}
	}
}
