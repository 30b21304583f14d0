package lazyfs

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Available reports whether this machine can mount a lazyfs: /dev/fuse must
// exist and open, and fusermount3 (or fusermount) must be on PATH. The error
// names the missing piece and how to get it.
func Available() error {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("lazyfs: /dev/fuse is missing (%v): load the fuse kernel module (modprobe fuse), or give the container the device (docker run --device /dev/fuse --cap-add SYS_ADMIN)", err)
	}
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("lazyfs: /dev/fuse exists but cannot be opened (%v): run as root, or make it accessible", err)
	}
	_ = f.Close()
	if _, err := exec.LookPath("fusermount3"); err != nil {
		if _, err2 := exec.LookPath("fusermount"); err2 != nil {
			return fmt.Errorf("lazyfs: fusermount3 is missing (%v): install fuse3 (apt-get install fuse3, or make deps)", err)
		}
	}
	return nil
}

// Mount is a lazyfs mounted in this process.
//
// Do not access a Mount through mmap from the process that serves it: a
// goroutine that faults on a page of the mount cannot be preempted, the Go
// runtime's stop-the-world then waits for it while the serving goroutines
// wait for the stop-the-world, and the process hangs. Engines that mmap their
// files (badger) must use a Server, which serves from another process.
type Mount struct {
	FS  *FS
	Dir string // the mount point

	server *fuse.Server
	done   bool
}

// Timeouts of the kernel's caches of names and attributes. This process is
// the only writer, so caching is safe; the kernel drops the caches with the
// mount at the cut.
var cacheTimeout = time.Second

// NewMount mounts a lazyfs over backing at mountpoint, which must be an
// empty directory.
func NewMount(backing, mountpoint string, o Options) (*Mount, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	fsys, err := New(backing, o)
	if err != nil {
		return nil, err
	}
	mp, err := filepath.Abs(mountpoint)
	if err != nil {
		return nil, err
	}
	root := &fnode{fs: fsys, n: fsys.root}
	server, err := gofs.Mount(mp, root, &gofs.Options{
		MountOptions: fuse.MountOptions{
			FsName:        "lazyfs:" + fsys.backing,
			Name:          "lazyfs",
			DisableXAttrs: true,
			// Writes reach the file system at write(2) (no writeback
			// cache); mmap'd pages when the kernel writes them back,
			// at the latest at msync or fsync.
			MaxWrite: 1 << 20,
		},
		EntryTimeout:    &cacheTimeout,
		AttrTimeout:     &cacheTimeout,
		NegativeTimeout: &cacheTimeout,
		RootStableAttr:  &gofs.StableAttr{Ino: rootID},
	})
	if err != nil {
		fsys.Close()
		return nil, fmt.Errorf("lazyfs: mount %s at %s: %w", fsys.backing, mp, err)
	}
	return &Mount{FS: fsys, Dir: mp, server: server}, nil
}

// Cut simulates a power cut (FS.Cut) and unmounts. Every process using the
// mount must be dead or must not touch it again.
func (m *Mount) Cut() (Stats, error) {
	st := m.FS.Cut()
	return st, m.unmount()
}

// Unmount is a clean shutdown: it makes everything durable (FS.SyncAll) and
// unmounts.
func (m *Mount) Unmount() error {
	err := m.FS.SyncAll()
	m.FS.Close()
	return errors.Join(err, m.unmount())
}

func (m *Mount) unmount() error {
	if m.done {
		return nil
	}
	m.done = true
	errc := make(chan error, 1)
	go func() { errc <- m.server.Unmount() }()
	select {
	case err := <-errc:
		if err == nil {
			return nil
		}
		m.FS.logf("lazyfs: unmount %s: %v; detaching it", m.Dir, err)
	case <-time.After(10 * time.Second):
		m.FS.logf("lazyfs: unmount %s hangs; detaching it", m.Dir)
	}
	return Detach(m.Dir)
}

// Detach lazily unmounts whatever is mounted at dir, if anything: the mount
// disappears from the namespace at once and the kernel drops it when the
// last user is gone. It is the cleanup for a mount whose server died.
func Detach(dir string) error {
	mounted, err := IsMounted(dir)
	if err != nil || !mounted {
		return err
	}
	if err := syscall.Unmount(dir, syscall.MNT_DETACH); err == nil {
		return nil
	}
	out, err := exec.Command("fusermount3", "-u", "-z", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("lazyfs: fusermount3 -u -z %s: %v: %s", dir, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// IsMounted reports whether a file system is mounted at dir.
func IsMounted(dir string) (bool, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false, err
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && unescapeMountPath(fields[4]) == abs {
			return true, nil
		}
	}
	return false, sc.Err()
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &v); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
