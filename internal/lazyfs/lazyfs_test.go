package lazyfs_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/durablelog/eventstore/internal/lazyfs"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	lazyfs.MaybeRunServer()
	goleak.VerifyTestMain(m)
}

// env is a backing directory and a mount point, with the server mounted.
type env struct {
	t       *testing.T
	backing string
	mnt     string
	srv     *lazyfs.Server
	ordered bool // mount with ServerOptions.Ordered
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if err := lazyfs.Available(); err != nil {
		t.Skipf("SKIPPING the FUSE tests: %v", err)
	}
	base := t.TempDir()
	e := &env{t: t, backing: filepath.Join(base, "backing"), mnt: filepath.Join(base, "mnt")}
	require.NoError(t, os.Mkdir(e.backing, 0o755))
	require.NoError(t, os.Mkdir(e.mnt, 0o755))
	e.mount()
	t.Cleanup(func() {
		if e.srv != nil {
			_ = e.srv.Close()
		}
	})
	return e
}

func (e *env) mount() {
	e.t.Helper()
	srv, err := lazyfs.StartServerWith(e.backing, e.mnt, lazyfs.ServerOptions{Verbose: testing.Verbose(), Ordered: e.ordered})
	require.NoError(e.t, err)
	e.srv = srv
}

// cut cuts the power and remounts.
func (e *env) cut() lazyfs.Stats {
	e.t.Helper()
	st, err := e.srv.Cut()
	require.NoError(e.t, err)
	e.mount()
	return st
}

func (e *env) unmountClean() {
	e.t.Helper()
	require.NoError(e.t, e.srv.Unmount())
	e.mount()
}

func (e *env) p(name string) string { return filepath.Join(e.mnt, name) }

func (e *env) write(name string, data string, sync bool) {
	e.t.Helper()
	f, err := os.OpenFile(e.p(name), os.O_RDWR|os.O_CREATE, 0o644)
	require.NoError(e.t, err)
	_, err = f.Write([]byte(data))
	require.NoError(e.t, err)
	if sync {
		require.NoError(e.t, f.Sync())
	}
	require.NoError(e.t, f.Close())
}

func (e *env) syncDir(name string) {
	e.t.Helper()
	d, err := os.Open(e.p(name))
	require.NoError(e.t, err)
	require.NoError(e.t, d.Sync())
	require.NoError(e.t, d.Close())
}

func (e *env) read(name string) (string, bool) {
	e.t.Helper()
	b, err := os.ReadFile(e.p(name))
	if errors.Is(err, os.ErrNotExist) {
		return "", false
	}
	require.NoError(e.t, err)
	return string(b), true
}

func (e *env) requireContent(name, want string) {
	e.t.Helper()
	got, ok := e.read(name)
	require.True(e.t, ok, "%s is missing", name)
	require.Equal(e.t, want, got, "content of %s", name)
}

func (e *env) requireMissing(name string) {
	e.t.Helper()
	_, err := os.Stat(e.p(name))
	require.ErrorIs(e.t, err, os.ErrNotExist, "%s should not exist", name)
}

func TestUnsyncedWritesAreDropped(t *testing.T) {
	e := newEnv(t)
	e.write("f", "hello", true)
	e.syncDir(".")
	e.write("f", "HELLO, world", false)
	e.requireContent("f", "HELLO, world")
	st := e.cut()
	require.True(t, st.Cut)
	require.EqualValues(t, 12, st.DirtyBytes)
	require.Equal(t, 1, st.DirtyFiles)
	e.requireContent("f", "hello")
	b, err := os.ReadFile(filepath.Join(e.backing, "f"))
	require.NoError(t, err)
	require.Equal(t, "hello", string(b), "the backing file holds the durable state")
	ents, err := os.ReadDir(e.backing)
	require.NoError(t, err)
	var names []string
	for _, d := range ents {
		names = append(names, d.Name())
	}
	require.Equal(t, []string{".lazyfs", "f"}, names, "the staging directory of the new mount, and the file")
}

func TestNewFileNeedsDirectoryFsync(t *testing.T) {
	e := newEnv(t)
	e.write("synced-file-only", "a", true)
	e.write("unsynced", "b", false)
	st := e.cut()
	require.Equal(t, 2, st.PendingEntries)
	e.requireMissing("synced-file-only")
	e.requireMissing("unsynced")

	e.write("both", "c", true)
	e.write("dir-only", "d", false)
	e.syncDir(".")
	st, err := e.srv.Stats()
	require.NoError(t, err)
	require.EqualValues(t, 1, st.EarlyEntries, "dir-only's name became durable before its data")
	e.cut()
	e.requireContent("both", "c")
	// The name is durable, the data is not.
	e.requireContent("dir-only", "")
}

// TestOrderedFsyncCommitsDirectories: with Ordered, as on ext4, a file's
// fsync also makes every pending name durable, with only the synced data of
// its file, and every removal.
func TestOrderedFsyncCommitsDirectories(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.srv.Unmount())
	e.ordered = true
	e.mount()
	e.write("gone", "g", true)
	e.syncDir(".")
	require.NoError(t, os.Mkdir(e.p("d"), 0o755))
	e.write("d/unsynced", "u", false)
	require.NoError(t, os.Remove(e.p("gone")))
	e.write("synced", "s", true) // commits every name above
	e.write("later", "l", true)
	require.NoError(t, os.Remove(e.p("later"))) // after the last fsync: pending
	e.cut()
	e.requireContent("synced", "s")
	e.requireContent("d/unsynced", "")
	e.requireMissing("gone")
	e.requireContent("later", "l")
}

func TestRenameNeedsDirectoryFsync(t *testing.T) {
	e := newEnv(t)
	e.write("CURRENT", "v1", true)
	e.syncDir(".")
	// The atomic-replace pattern without the final directory fsync.
	e.write("CURRENT.tmp", "v2", true)
	require.NoError(t, os.Rename(e.p("CURRENT.tmp"), e.p("CURRENT")))
	e.requireContent("CURRENT", "v2")
	e.cut()
	e.requireContent("CURRENT", "v1")
	e.requireMissing("CURRENT.tmp")

	// With it.
	e.write("CURRENT.tmp", "v2", true)
	require.NoError(t, os.Rename(e.p("CURRENT.tmp"), e.p("CURRENT")))
	e.syncDir(".")
	e.cut()
	e.requireContent("CURRENT", "v2")
	e.requireMissing("CURRENT.tmp")
}

func TestUnlinkNeedsDirectoryFsync(t *testing.T) {
	e := newEnv(t)
	e.write("f", "data", true)
	e.syncDir(".")
	require.NoError(t, os.Remove(e.p("f")))
	e.requireMissing("f")
	e.cut()
	e.requireContent("f", "data")
	require.NoError(t, os.Remove(e.p("f")))
	e.syncDir(".")
	e.cut()
	e.requireMissing("f")
}

func TestMkdirNeedsParentFsync(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, os.Mkdir(e.p("d"), 0o755))
	require.NoError(t, os.Mkdir(e.p("d/e"), 0o755))
	e.write("d/e/f", "x", true)
	e.syncDir("d/e")
	e.syncDir("d")
	e.cut()
	e.requireMissing("d")

	require.NoError(t, os.Mkdir(e.p("d"), 0o755))
	require.NoError(t, os.Mkdir(e.p("d/e"), 0o755))
	e.write("d/e/f", "x", true)
	e.syncDir("d/e")
	e.syncDir("d")
	e.syncDir(".")
	e.cut()
	e.requireContent("d/e/f", "x")

	// rmdir is pending too.
	require.NoError(t, os.Remove(e.p("d/e/f")))
	require.NoError(t, os.Remove(e.p("d/e")))
	e.requireMissing("d/e")
	e.cut()
	e.requireContent("d/e/f", "x")
	require.NoError(t, os.Remove(e.p("d/e/f")))
	require.NoError(t, os.Remove(e.p("d/e")))
	e.syncDir("d")
	e.cut()
	e.requireMissing("d/e")
	ents, err := os.ReadDir(e.p("d"))
	require.NoError(t, err)
	require.Empty(t, ents)
}

func TestDirectoryRenameIsImmediate(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, os.Mkdir(e.p("a"), 0o755))
	e.write("a/f", "x", true)
	e.syncDir("a")
	e.syncDir(".")
	require.NoError(t, os.Rename(e.p("a"), e.p("b")))
	e.requireContent("b/f", "x")
	e.cut()
	e.requireMissing("a")
	e.requireContent("b/f", "x")
}

func TestReaddirShowsPendingEntries(t *testing.T) {
	e := newEnv(t)
	e.write("keep", "k", true)
	e.syncDir(".")
	e.write("new", "n", false)
	require.NoError(t, os.Rename(e.p("keep"), e.p("moved")))
	names := func() []string {
		ents, err := os.ReadDir(e.mnt)
		require.NoError(t, err)
		var out []string
		for _, d := range ents {
			out = append(out, d.Name())
		}
		return out
	}
	require.Equal(t, []string{"moved", "new"}, names())
	e.cut()
	require.Equal(t, []string{"keep"}, names())
}

func TestHardLink(t *testing.T) {
	e := newEnv(t)
	e.write("a", "one", true)
	e.syncDir(".")
	require.NoError(t, os.Link(e.p("a"), e.p("b")))
	e.write("b", "ONE", true) // the same file
	e.requireContent("a", "ONE")
	e.cut()
	e.requireContent("a", "ONE")
	e.requireMissing("b")
}

func TestTruncateHidesOldBytes(t *testing.T) {
	e := newEnv(t)
	e.write("f", "abcdef", true)
	e.syncDir(".")
	require.NoError(t, os.Truncate(e.p("f"), 2))
	require.NoError(t, os.Truncate(e.p("f"), 6))
	e.requireContent("f", "ab\x00\x00\x00\x00")
	e.cut()
	e.requireContent("f", "abcdef")

	f, err := os.OpenFile(e.p("f"), os.O_RDWR|os.O_TRUNC, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte("Z"), 3)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	e.cut()
	e.requireContent("f", "\x00\x00\x00Z")
}

// TestFailedFsyncLosesTheData: after an fsync fails, the data stays readable
// but a later, successful fsync does not write it (as Linux after a failed
// writeback), and the cut drops it.
func TestFailedFsyncLosesTheData(t *testing.T) {
	e := newEnv(t)
	e.write("wal", "good;", true)
	e.syncDir(".")
	require.NoError(t, e.srv.SetRules(lazyfs.Rule{Op: lazyfs.OpFsync, Path: "wal", Times: 1}))
	f, err := os.OpenFile(e.p("wal"), os.O_RDWR|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte("lost;"))
	require.NoError(t, err)
	require.ErrorIs(t, f.Sync(), syscall.EIO)
	require.NoError(t, f.Sync(), "a retried fsync succeeds, as on Linux")
	_, err = f.Write([]byte("later;"))
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	e.requireContent("wal", "good;lost;later;")
	st, err := e.srv.Stats()
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Faults)
	require.EqualValues(t, 5, st.LostBytes)
	e.cut()
	e.requireContent("wal", "good;\x00\x00\x00\x00\x00later;")
}

// TestCutAtOperation: a Cut rule cuts the power as the chosen fsync
// arrives: the first file's synced data stays, the second's fsync never
// happens, and everything fails from then on until the remount.
func TestCutAtOperation(t *testing.T) {
	e := newEnv(t)
	e.write("old", "durable;", true)
	e.write("new", "durable;", true)
	e.syncDir(".")
	require.NoError(t, e.srv.SetRules(lazyfs.Rule{Op: lazyfs.OpFsync, Path: "old", After: 1, Cut: true}))
	appendSync := func(name, data string) error {
		f, err := os.OpenFile(e.p(name), os.O_RDWR|os.O_APPEND, 0)
		require.NoError(t, err)
		defer f.Close()
		_, err = f.Write([]byte(data))
		require.NoError(t, err)
		return f.Sync()
	}
	require.NoError(t, appendSync("old", "tail;"), "the first matching fsync is skipped (After)")
	require.NoError(t, appendSync("new", "synced;"))
	require.ErrorIs(t, appendSync("old", "lost;"), syscall.EIO, "the power is cut as this fsync arrives")
	_, err := os.ReadFile(e.p("new"))
	require.Error(t, err, "nothing works after the cut")
	st := e.cut()
	require.True(t, st.Cut)
	require.Equal(t, "fsync old", st.CutAt)
	e.requireContent("old", "durable;tail;")
	e.requireContent("new", "durable;synced;")
}

// TestCutAtOlderFile: an Older rule skips the newest of the matching files
// and cuts at the fsync of an older one.
func TestCutAtOlderFile(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, os.Mkdir(e.p("wal"), 0o755))
	e.write("wal/001.log", "a;", true)
	e.write("wal/002.log", "b;", true)
	e.write("wal/other", "c;", true)
	e.syncDir("wal")
	e.syncDir(".")
	require.NoError(t, e.srv.SetRules(lazyfs.Rule{Op: lazyfs.OpFsync, Path: "wal/*.log", Older: true, Cut: true}))
	f, err := os.OpenFile(e.p("wal/002.log"), os.O_RDWR|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte("new;"))
	require.NoError(t, err)
	require.NoError(t, f.Sync(), "the newest log is not matched")
	require.NoError(t, f.Close())
	f, err = os.OpenFile(e.p("wal/001.log"), os.O_RDWR|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte("old;"))
	require.NoError(t, err)
	require.ErrorIs(t, f.Sync(), syscall.EIO)
	_ = f.Close()
	st := e.cut()
	require.Equal(t, "fsync wal/001.log", st.CutAt)
	e.requireContent("wal/001.log", "a;")
	e.requireContent("wal/002.log", "b;new;")
}

// TestDelayedFsync: a Delay rule holds the fsync, not the file system.
func TestDelayedFsync(t *testing.T) {
	e := newEnv(t)
	e.write("slow", "s", true)
	e.syncDir(".")
	require.NoError(t, e.srv.SetRules(lazyfs.Rule{Op: lazyfs.OpFsync, Path: "slow", Delay: time.Second}))
	start := time.Now()
	e.write("fast", "f", true)
	require.Less(t, time.Since(start), time.Second, "other files are not delayed")
	e.write("slow", "t", true)
	require.GreaterOrEqual(t, time.Since(start), time.Second)
	e.cut()
	e.requireContent("slow", "t")
}

func TestRulesFailWritesRenamesAndDirFsyncs(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, os.Mkdir(e.p("snapshots"), 0o755))
	e.write("snapshots/a.tmp", "x", true)
	require.NoError(t, e.srv.SetRules(
		lazyfs.Rule{Op: lazyfs.OpWrite, Path: "*.log"},
		lazyfs.Rule{Op: lazyfs.OpRename, Path: "snapshots/"},
		lazyfs.Rule{Op: lazyfs.OpFsyncDir, Path: "snapshots", Errno: syscall.ENOSPC},
		lazyfs.Rule{Op: lazyfs.OpCreate, Path: "engine/*", After: 1},
	))
	f, err := os.Create(e.p("000001.log"))
	require.NoError(t, err)
	_, err = f.Write([]byte("x"))
	require.ErrorIs(t, err, syscall.EIO)
	require.NoError(t, f.Close())
	require.ErrorIs(t, os.Rename(e.p("snapshots/a.tmp"), e.p("snapshots/a")), syscall.EIO)
	d, err := os.Open(e.p("snapshots"))
	require.NoError(t, err)
	require.ErrorIs(t, d.Sync(), syscall.ENOSPC)
	require.NoError(t, d.Close())
	require.NoError(t, os.Mkdir(e.p("engine"), 0o755))
	e.write("engine/first", "", false)
	_, err = os.Create(e.p("engine/second"))
	require.ErrorIs(t, err, syscall.EIO, "After skips the first match")
	require.NoError(t, e.srv.SetRules())
	require.NoError(t, os.Rename(e.p("snapshots/a.tmp"), e.p("snapshots/a")))
	st, err := e.srv.Stats()
	require.NoError(t, err)
	require.EqualValues(t, 4, st.Faults)
}

// TestMmapWrites: pages written through a shared mapping reach the file
// system when the kernel writes them back, and msync(MS_SYNC) makes them
// durable; without it, the cut drops them.
func TestMmapWrites(t *testing.T) {
	e := newEnv(t)
	const size = 3 * 4096
	for _, msync := range []bool{false, true} {
		name := fmt.Sprintf("mem-%v", msync)
		f, err := os.OpenFile(e.p(name), os.O_RDWR|os.O_CREATE, 0o644)
		require.NoError(t, err)
		require.NoError(t, f.Truncate(size))
		require.NoError(t, f.Sync())
		e.syncDir(".")
		m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
		require.NoError(t, err)
		copy(m[4096:], "through the mapping")
		if msync {
			_, _, errno := syscall.Syscall(syscall.SYS_MSYNC, uintptr(unsafePointer(m)), uintptr(len(m)), syscall.MS_SYNC)
			require.Zero(t, errno)
		}
		require.NoError(t, syscall.Munmap(m))
		require.NoError(t, f.Close())
	}
	e.cut()
	for _, msync := range []bool{false, true} {
		b, err := os.ReadFile(e.p(fmt.Sprintf("mem-%v", msync)))
		require.NoError(t, err)
		require.Len(t, b, size)
		want := make([]byte, size)
		if msync {
			copy(want[4096:], "through the mapping")
		}
		require.Equal(t, want, b, "msync=%v", msync)
	}
}

func TestCleanUnmountMakesEverythingDurable(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, os.Mkdir(e.p("d"), 0o755))
	e.write("d/f", "data", false)
	e.write("g", "more", false)
	e.unmountClean()
	e.requireContent("d/f", "data")
	e.requireContent("g", "more")
	b, err := os.ReadFile(filepath.Join(e.backing, "d", "f"))
	require.NoError(t, err)
	require.Equal(t, "data", string(b))
}

// TestRandomFileOps checks a file's content through the mount, and its
// durable content after a cut, against a reference, over random writes,
// truncations and fsyncs.
func TestRandomFileOps(t *testing.T) {
	e := newEnv(t)
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	e.write("f", "", true)
	e.syncDir(".")
	var vol, dur []byte
	for round := range 4 {
		f, err := os.OpenFile(e.p("f"), os.O_RDWR, 0)
		require.NoError(t, err)
		for range 200 {
			switch op := rng.IntN(10); {
			case op < 6:
				off := rng.IntN(1 << 16)
				p := make([]byte, 1+rng.IntN(9000))
				for i := range p {
					p[i] = byte(rng.Uint32())
				}
				_, err := f.WriteAt(p, int64(off))
				require.NoError(t, err)
				if len(vol) < off+len(p) {
					vol = append(vol, make([]byte, off+len(p)-len(vol))...)
				}
				copy(vol[off:], p)
			case op < 8:
				n := rng.IntN(1 << 16)
				require.NoError(t, f.Truncate(int64(n)))
				if n < len(vol) {
					vol = vol[:n]
				} else {
					vol = append(vol, make([]byte, n-len(vol))...)
				}
			default:
				require.NoError(t, f.Sync())
				dur = slices.Clone(vol)
			}
		}
		got := make([]byte, len(vol)+10)
		n, err := f.ReadAt(got, 0)
		if err != nil {
			require.ErrorIs(t, err, errEOF)
		}
		require.NoError(t, f.Close())
		require.True(t, bytes.Equal(vol, got[:n]), "round %d: the mount shows other bytes than written (seed %d)", round, seed)
		e.cut()
		b, _ := e.read("f")
		require.True(t, bytes.Equal(dur, []byte(b)), "round %d: the durable content differs (seed %d): %d bytes, want %d", round, seed, len(b), len(dur))
		vol = slices.Clone(dur)
	}
}

// TestInProcessMount: a Mount served by this process, for plain file I/O.
func TestInProcessMount(t *testing.T) {
	if err := lazyfs.Available(); err != nil {
		t.Skipf("SKIPPING the FUSE tests: %v", err)
	}
	base := t.TempDir()
	backing, mnt := filepath.Join(base, "b"), filepath.Join(base, "m")
	require.NoError(t, os.Mkdir(backing, 0o755))
	require.NoError(t, os.Mkdir(mnt, 0o755))
	m, err := lazyfs.NewMount(backing, mnt, lazyfs.Options{Logf: t.Logf})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(mnt, "f"), []byte("x"), 0o644))
	mounted, err := lazyfs.IsMounted(mnt)
	require.NoError(t, err)
	require.True(t, mounted)
	st, err := m.Cut()
	require.NoError(t, err)
	require.Equal(t, 1, st.PendingEntries)
	mounted, err = lazyfs.IsMounted(mnt)
	require.NoError(t, err)
	require.False(t, mounted)
	_, err = os.Stat(filepath.Join(backing, "f"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
