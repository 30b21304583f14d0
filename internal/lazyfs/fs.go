package lazyfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// stageName is the hidden directory in the backing directory's root that
// holds the staging links (see the package documentation). It is not
// visible through the mount.
const stageName = ".lazyfs"

// rootID is the root directory's node id (FUSE's root inode number).
const rootID = 1

// Stats counts what a file system did since it was created.
type Stats struct {
	Writes     uint64 `json:"writes"`      // WRITE requests
	WriteBytes uint64 `json:"write_bytes"` // bytes written
	Fsyncs     uint64 `json:"fsyncs"`      // file fsyncs that succeeded
	DirFsyncs  uint64 `json:"dir_fsyncs"`  // directory fsyncs that succeeded
	Faults     uint64 `json:"faults"`      // operations failed by a Rule

	// DirtyBytes is the number of bytes written and not yet fsynced, now
	// (or at the cut).
	DirtyBytes int64 `json:"dirty_bytes"`
	// LostBytes is the number of bytes whose fsync failed: they stay
	// readable until the cut, and never become durable.
	LostBytes int64 `json:"lost_bytes"`
	// DirtyFiles is the number of files with unsynced data or size.
	DirtyFiles int `json:"dirty_files"`
	// PendingEntries is the number of directory entries created, removed
	// or replaced and not yet made durable by an fsync of their directory.
	PendingEntries int `json:"pending_entries"`
	// EarlyEntries counts names that a directory fsync made durable while
	// their file's data or size was not (yet) synced: after a cut at that
	// point the name exists with the file's last synced content, often
	// empty. Each is logged, with the pid of the process that fsynced the
	// directory.
	EarlyEntries uint64 `json:"early_entries"`
	// Cut is set once the power was cut: the figures above are then what
	// the cut dropped.
	Cut bool `json:"cut"`
	// CutAt names the operation a Cut rule cut the power at ("fsync
	// store/engine/00005.mem"), "" when the cut came from FS.Cut.
	CutAt string `json:"cut_at,omitempty"`
}

// FS is the file system's state: the durable state is the backing
// directory, the volatile state lives here. All methods are safe for
// concurrent use. See the package documentation for the model.
type FS struct {
	backing string
	stage   string
	logf    func(format string, args ...any)
	ordered bool // see Options.Ordered

	mu     sync.Mutex
	root   *node
	nextID uint64
	nodes  map[uint64]*node // every node not freed
	byIno  map[uint64]*node // file nodes by backing inode number
	rules  []*rule
	stats  Stats
	cut    bool
	closed bool
}

// node is a file or a directory.
type node struct {
	id  uint64
	dir bool

	// The name the node was last given, for fault paths and messages. A
	// file with hard links has other names too.
	parent *node
	name   string

	// Files. The backing file is the staging link stage/f<id>, opened as
	// f. size is the volatile size, durSize the backing file's. Backing
	// bytes at or beyond keep are not visible (the file was truncated
	// below them since the last fsync); keep <= durSize. dirty holds the
	// writes since the last fsync; lost holds writes whose fsync failed.
	f        *os.File
	ino      uint64
	size     int64
	durSize  int64
	keep     int64
	dirty    extents
	lost     extents
	nlink    int // volatile names
	durLinks int // durable names (entries in some directory's dur)
	opens    int
	freed    bool

	// Directories. vol is the listing as the mount shows it, dur the
	// listing of the backing directory. A staged directory was created and
	// its parent not fsynced since: it lives at stage/d<id>. Otherwise it
	// lives at durParent's path/durName.
	loaded    bool
	vol, dur  map[string]*node
	staged    bool
	durParent *node
	durName   string
	dead      bool // removed (rmdir) or replaced
	gone      bool // and its backing directory removed
}

// Options configure a file system.
type Options struct {
	// Logf receives diagnostics (injected faults, unmount trouble). The
	// default discards them.
	Logf func(format string, args ...any)
	// Ordered makes a file's fsync also make every pending directory change
	// of the file system durable (names created, removed or renamed, with
	// the synced data of their files), as the journal commit of ext4 in
	// data=ordered mode does. The default is POSIX's rule, stricter: only
	// an fsync of the directory makes its entries durable.
	Ordered bool
}

// New returns the file system over the backing directory backing, which
// must exist. It removes what a previous power cut left in the staging
// directory: files that were never given a durable name, as fsck removes
// orphaned inodes.
func New(backing string, o Options) (*FS, error) {
	abs, err := filepath.Abs(backing)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("lazyfs: backing directory: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("lazyfs: backing %s is not a directory", abs)
	}
	fs := &FS{backing: abs, stage: filepath.Join(abs, stageName), logf: o.Logf, ordered: o.Ordered,
		nextID: rootID + 1, nodes: map[uint64]*node{}, byIno: map[uint64]*node{}}
	if fs.logf == nil {
		fs.logf = func(string, ...any) {}
	}
	if err := os.RemoveAll(fs.stage); err != nil {
		return nil, fmt.Errorf("lazyfs: remove the staging directory: %w", err)
	}
	if err := os.Mkdir(fs.stage, 0o700); err != nil {
		return nil, fmt.Errorf("lazyfs: create the staging directory: %w", err)
	}
	fs.root = &node{id: rootID, dir: true}
	fs.nodes[rootID] = fs.root
	return fs, nil
}

// Backing returns the backing directory.
func (fs *FS) Backing() string { return fs.backing }

// SetRules replaces the fault-injection rules.
func (fs *FS) SetRules(rules ...Rule) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = fs.rules[:0]
	for _, r := range rules {
		fs.rules = append(fs.rules, &rule{Rule: r})
	}
}

// Stats returns the counters and the unsynced state now.
func (fs *FS) Stats() Stats {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.cut {
		return fs.stats
	}
	return fs.measure()
}

// measure fills the unsynced-state figures; the caller holds mu.
func (fs *FS) measure() Stats {
	st := fs.stats
	st.DirtyBytes, st.LostBytes, st.DirtyFiles, st.PendingEntries = 0, 0, 0, 0
	for _, n := range fs.nodes {
		if n.dir {
			if !n.loaded || n.dead {
				continue
			}
			for name, c := range n.vol {
				if n.dur[name] != c {
					st.PendingEntries++
				}
			}
			for name := range n.dur {
				if _, ok := n.vol[name]; !ok {
					st.PendingEntries++
				}
			}
			continue
		}
		st.DirtyBytes += n.dirty.bytes()
		st.LostBytes += n.lost.bytes()
		if len(n.dirty) > 0 || n.size != n.durSize || n.keep != n.durSize {
			st.DirtyFiles++
		}
	}
	return st
}

// Cut simulates a power cut: every write and directory change not made
// durable by an fsync is dropped, and every later operation fails with EIO.
// The backing directory is left as a machine's disk would be after the cut,
// less the staging directory. It returns what was dropped.
func (fs *FS) Cut() Stats {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.cutLocked()
	return fs.stats
}

// cutLocked cuts the power, once; the caller holds mu.
func (fs *FS) cutLocked() {
	if fs.cut || fs.closed {
		return
	}
	fs.stats = fs.measure()
	fs.stats.Cut = true
	fs.cut = true
	fs.release()
}

// SyncAll makes everything durable, as a clean shutdown does: it writes
// every file's unsynced data and applies every directory's pending entries.
// Writes whose fsync failed stay lost.
func (fs *FS) SyncAll() error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.cut || fs.closed {
		return syscall.EIO
	}
	var errs []error
	for _, n := range fs.nodes {
		if !n.dir && !n.freed {
			if err := fs.writeBack(n); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(append(errs, fs.applyAllDirs())...)
}

// applyAllDirs makes every directory's pending entries durable; the caller
// holds mu.
func (fs *FS) applyAllDirs() error {
	var errs []error
	// Directories top down, so that a staged directory is in place before
	// its own entries are applied.
	queue := []*node{fs.root}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if !d.loaded {
			continue
		}
		if err := fs.applyDir(d); err != nil {
			errs = append(errs, err)
		}
		for _, name := range slices.Sorted(mapsKeys(d.vol)) {
			if c := d.vol[name]; c.dir {
				queue = append(queue, c)
			}
		}
	}
	return errors.Join(errs...)
}

// Close releases the backing files after SyncAll or Cut. Later operations
// fail with EIO.
func (fs *FS) Close() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if !fs.closed && !fs.cut {
		fs.release()
	}
	fs.closed = true
}

// release closes the backing files and removes the staging directory; the
// caller holds mu.
func (fs *FS) release() {
	for _, n := range fs.nodes {
		if n.f != nil {
			_ = n.f.Close()
			n.f = nil
		}
	}
	if err := os.RemoveAll(fs.stage); err != nil {
		fs.logf("lazyfs: remove the staging directory: %v", err)
	}
}

func mapsKeys(m map[string]*node) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// live fails when the power was cut or the file system closed.
func (fs *FS) live() syscall.Errno {
	if fs.cut || fs.closed {
		return syscall.EIO
	}
	return 0
}

func (fs *FS) newNode(dir bool) *node {
	n := &node{id: fs.nextID, dir: dir}
	fs.nextID++
	fs.nodes[n.id] = n
	if dir {
		n.vol, n.dur = map[string]*node{}, map[string]*node{}
	}
	return n
}

// dirPath returns the backing path of directory d.
func (fs *FS) dirPath(d *node) string {
	switch {
	case d == fs.root:
		return fs.backing
	case d.staged:
		return filepath.Join(fs.stage, fmt.Sprintf("d%d", d.id))
	default:
		return filepath.Join(fs.dirPath(d.durParent), d.durName)
	}
}

// stagePath returns the backing path of file n's staging link.
func (fs *FS) stagePath(n *node) string {
	return filepath.Join(fs.stage, fmt.Sprintf("f%d", n.id))
}

// backingPath returns the path to stat for n.
func (fs *FS) backingPath(n *node) string {
	if n.dir {
		return fs.dirPath(n)
	}
	return fs.stagePath(n)
}

// path returns n's volatile path relative to the mount point, for rules and
// messages.
func (fs *FS) path(n *node) string {
	var parts []string
	for m := n; m != nil && m != fs.root; m = m.parent {
		parts = append(parts, m.name)
		if len(parts) > 4096 {
			break
		}
	}
	slices.Reverse(parts)
	return strings.Join(parts, "/")
}

func (fs *FS) childPath(d *node, name string) string {
	if p := fs.path(d); p != "" {
		return p + "/" + name
	}
	return name
}

// reserved reports whether name in d is the staging directory's.
func (fs *FS) reserved(d *node, name string) bool { return d == fs.root && name == stageName }

// load reads directory d's backing listing, once.
func (fs *FS) load(d *node) syscall.Errno {
	if d.loaded {
		return 0
	}
	if d.gone {
		return syscall.ENOENT
	}
	p := fs.dirPath(d)
	ents, err := os.ReadDir(p)
	if err != nil {
		fs.logf("lazyfs: read directory %s: %v", p, err)
		return gofs.ToErrno(err)
	}
	if d.vol == nil {
		d.vol, d.dur = map[string]*node{}, map[string]*node{}
	}
	for _, e := range ents {
		name := e.Name()
		if fs.reserved(d, name) {
			continue
		}
		full := filepath.Join(p, name)
		switch t := e.Type(); {
		case t.IsDir():
			c := fs.newNode(true)
			c.durParent, c.durName, c.parent, c.name = d, name, d, name
			d.vol[name], d.dur[name] = c, c
		case t.IsRegular():
			var st syscall.Stat_t
			if err := syscall.Lstat(full, &st); err != nil {
				return gofs.ToErrno(err)
			}
			c := fs.byIno[st.Ino]
			if c == nil {
				c = fs.newNode(false)
				if err := os.Link(full, fs.stagePath(c)); err != nil {
					fs.logf("lazyfs: link %s to its staging path: %v", full, err)
					return gofs.ToErrno(err)
				}
				c.ino, c.size, c.durSize, c.keep = st.Ino, st.Size, st.Size, st.Size
				c.parent, c.name = d, name
				fs.byIno[st.Ino] = c
			}
			c.nlink++
			c.durLinks++
			d.vol[name], d.dur[name] = c, c
		default:
			// Symbolic links, devices, sockets: not modelled, not shown.
		}
	}
	d.loaded = true
	return 0
}

// file returns n's backing file, opening it when needed.
func (fs *FS) file(n *node) (*os.File, syscall.Errno) {
	if n.f == nil {
		f, err := os.OpenFile(fs.stagePath(n), os.O_RDWR, 0)
		if err != nil {
			return nil, gofs.ToErrno(err)
		}
		n.f = f
	}
	return n.f, 0
}

// maybeFree drops a file that has no name, volatile or durable, and is not
// open.
func (fs *FS) maybeFree(n *node) {
	if n.dir || n.freed || n.nlink > 0 || n.durLinks > 0 || n.opens > 0 {
		return
	}
	if n.f != nil {
		_ = n.f.Close()
		n.f = nil
	}
	_ = os.Remove(fs.stagePath(n))
	if fs.byIno[n.ino] == n {
		delete(fs.byIno, n.ino)
	}
	delete(fs.nodes, n.id)
	n.freed = true
	n.dirty, n.lost = nil, nil
}

// forgetTree accounts for the removal of dead directory d's backing
// directory: the durable names it held are gone.
func (fs *FS) forgetTree(d *node) {
	d.dead, d.gone = true, true
	for _, c := range d.dur {
		if c.dir {
			fs.forgetTree(c)
			continue
		}
		c.durLinks--
		fs.maybeFree(c)
	}
	d.dur, d.vol = nil, nil
	delete(fs.nodes, d.id)
}

// Entry is a directory entry.
type Entry struct {
	Name string
	Ino  uint64
	Dir  bool
}

// Lookup returns the node named name in d.
func (fs *FS) lookup(d *node, name string) (*node, syscall.Errno) {
	if e := fs.live(); e != 0 {
		return nil, e
	}
	if e := fs.load(d); e != 0 {
		return nil, e
	}
	if fs.reserved(d, name) {
		return nil, syscall.ENOENT
	}
	if c := d.vol[name]; c != nil {
		return c, 0
	}
	return nil, syscall.ENOENT
}

func (fs *FS) readdir(d *node) ([]Entry, syscall.Errno) {
	if e := fs.live(); e != 0 {
		return nil, e
	}
	if e := fs.load(d); e != 0 {
		return nil, e
	}
	out := make([]Entry, 0, len(d.vol))
	for name, c := range d.vol {
		out = append(out, Entry{Name: name, Ino: c.id, Dir: c.dir})
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return out, 0
}

// create creates file name in d, or opens it when it exists and excl is
// not set. The file counts as open.
func (fs *FS) create(d *node, name string, excl bool, mode uint32) (*node, syscall.Errno) {
	if e := fs.live(); e != 0 {
		return nil, e
	}
	if e := fs.load(d); e != 0 {
		return nil, e
	}
	if d.dead {
		return nil, syscall.ENOENT
	}
	if fs.reserved(d, name) {
		return nil, syscall.EPERM
	}
	if c := d.vol[name]; c != nil {
		switch {
		case excl:
			return nil, syscall.EEXIST
		case c.dir:
			return nil, syscall.EISDIR
		}
		c.opens++
		return c, 0
	}
	if e := fs.check(OpCreate, fs.childPath(d, name)); e != 0 {
		return nil, e
	}
	n := fs.newNode(false)
	f, err := os.OpenFile(fs.stagePath(n), os.O_RDWR|os.O_CREATE|os.O_EXCL, os.FileMode(mode&0o7777))
	if err != nil {
		delete(fs.nodes, n.id)
		return nil, gofs.ToErrno(err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err == nil {
		n.ino = st.Ino
		fs.byIno[st.Ino] = n
	}
	n.f, n.parent, n.name, n.nlink, n.opens = f, d, name, 1, 1
	d.vol[name] = n
	return n, 0
}

func (fs *FS) mkdir(d *node, name string, mode uint32) (*node, syscall.Errno) {
	if e := fs.live(); e != 0 {
		return nil, e
	}
	if e := fs.load(d); e != 0 {
		return nil, e
	}
	if d.dead {
		return nil, syscall.ENOENT
	}
	if fs.reserved(d, name) {
		return nil, syscall.EPERM
	}
	if d.vol[name] != nil {
		return nil, syscall.EEXIST
	}
	if e := fs.check(OpMkdir, fs.childPath(d, name)); e != 0 {
		return nil, e
	}
	n := fs.newNode(true)
	n.staged, n.loaded, n.parent, n.name = true, true, d, name
	if err := os.Mkdir(fs.dirPath(n), os.FileMode(mode&0o7777)); err != nil {
		delete(fs.nodes, n.id)
		return nil, gofs.ToErrno(err)
	}
	d.vol[name] = n
	return n, 0
}

func (fs *FS) unlink(d *node, name string) syscall.Errno {
	if e := fs.live(); e != 0 {
		return e
	}
	if e := fs.load(d); e != 0 {
		return e
	}
	c := d.vol[name]
	switch {
	case c == nil:
		return syscall.ENOENT
	case c.dir:
		return syscall.EISDIR
	}
	if e := fs.check(OpUnlink, fs.childPath(d, name)); e != 0 {
		return e
	}
	delete(d.vol, name)
	c.nlink--
	fs.maybeFree(c)
	return 0
}

func (fs *FS) rmdir(d *node, name string) syscall.Errno {
	if e := fs.live(); e != 0 {
		return e
	}
	if e := fs.load(d); e != 0 {
		return e
	}
	c := d.vol[name]
	switch {
	case c == nil:
		return syscall.ENOENT
	case !c.dir:
		return syscall.ENOTDIR
	}
	if e := fs.load(c); e != 0 {
		return e
	}
	if len(c.vol) > 0 {
		return syscall.ENOTEMPTY
	}
	if e := fs.check(OpRmdir, fs.childPath(d, name)); e != 0 {
		return e
	}
	delete(d.vol, name)
	fs.killDir(c)
	return 0
}

// killDir marks directory c removed. A staged directory goes at once; a
// durable one stays on the backing until its parent is fsynced.
func (fs *FS) killDir(c *node) {
	c.dead = true
	if c.staged {
		if err := os.RemoveAll(fs.dirPath(c)); err != nil {
			fs.logf("lazyfs: remove staged directory: %v", err)
		}
		fs.forgetTree(c)
	}
}

// rename moves name in d to name2 in d2. Flags RENAME_NOREPLACE is
// supported, RENAME_EXCHANGE is not.
func (fs *FS) rename(d *node, name string, d2 *node, name2 string, flags uint32) syscall.Errno {
	if e := fs.live(); e != 0 {
		return e
	}
	if e := fs.load(d); e != 0 {
		return e
	}
	if e := fs.load(d2); e != 0 {
		return e
	}
	n := d.vol[name]
	switch {
	case n == nil:
		return syscall.ENOENT
	case fs.reserved(d2, name2):
		return syscall.EPERM
	case d2.dead:
		return syscall.ENOENT
	case flags&^uint32(renameNoReplace) != 0:
		return syscall.EINVAL
	}
	if e := fs.check(OpRename, fs.childPath(d, name)); e != 0 {
		return e
	}
	t := d2.vol[name2]
	if t == n {
		return 0
	}
	if t != nil && flags&renameNoReplace != 0 {
		return syscall.EEXIST
	}
	if n.dir {
		for p := d2; p != nil; p = p.parent {
			if p == n {
				return syscall.EINVAL
			}
		}
		if t != nil {
			if !t.dir {
				return syscall.ENOTDIR
			}
			if e := fs.load(t); e != 0 {
				return e
			}
			if len(t.vol) > 0 {
				return syscall.ENOTEMPTY
			}
		}
		if !n.staged {
			// A durable directory moves on the backing at once (see
			// the package documentation).
			if _, busy := d2.dur[name2]; busy {
				return syscall.EXDEV
			}
			if err := os.Rename(fs.dirPath(n), filepath.Join(fs.dirPath(d2), name2)); err != nil {
				return gofs.ToErrno(err)
			}
			delete(n.durParent.dur, n.durName)
			d2.dur[name2] = n
			n.durParent, n.durName = d2, name2
		}
		if t != nil {
			fs.killDir(t)
		}
	} else if t != nil {
		if t.dir {
			return syscall.EISDIR
		}
		t.nlink--
		defer fs.maybeFree(t)
	}
	delete(d.vol, name)
	d2.vol[name2] = n
	n.parent, n.name = d2, name2
	return 0
}

const renameNoReplace = 1 // RENAME_NOREPLACE

// link gives file n the name name2 in d2.
func (fs *FS) link(n *node, d2 *node, name2 string) syscall.Errno {
	if e := fs.live(); e != 0 {
		return e
	}
	if e := fs.load(d2); e != 0 {
		return e
	}
	switch {
	case n.dir:
		return syscall.EPERM
	case fs.reserved(d2, name2):
		return syscall.EPERM
	case d2.dead:
		return syscall.ENOENT
	case d2.vol[name2] != nil:
		return syscall.EEXIST
	}
	if e := fs.check(OpLink, fs.childPath(d2, name2)); e != 0 {
		return e
	}
	d2.vol[name2] = n
	n.nlink++
	return 0
}

func (fs *FS) open(n *node) syscall.Errno {
	if e := fs.live(); e != 0 {
		return e
	}
	if !n.dir {
		n.opens++
	}
	return 0
}

func (fs *FS) closeFile(n *node) {
	if n.dir || n.opens == 0 {
		return
	}
	n.opens--
	fs.maybeFree(n)
}

// read reads file n at off into dest and returns the bytes read.
func (fs *FS) read(n *node, dest []byte, off int64) ([]byte, syscall.Errno) {
	if e := fs.live(); e != 0 {
		return nil, e
	}
	if e := fs.check(OpRead, fs.path(n)); e != 0 {
		return nil, e
	}
	if off >= n.size || len(dest) == 0 {
		return dest[:0], 0
	}
	end := min(off+int64(len(dest)), n.size)
	buf := dest[:end-off]
	clear(buf)
	if off < n.keep {
		f, e := fs.file(n)
		if e != 0 {
			return nil, e
		}
		if _, err := f.ReadAt(buf[:min(end, n.keep)-off], off); err != nil && err != io.EOF {
			return nil, gofs.ToErrno(err)
		}
	}
	n.lost.overlay(buf, off)
	n.dirty.overlay(buf, off)
	return buf, 0
}

func (fs *FS) write(n *node, data []byte, off int64) syscall.Errno {
	if e := fs.live(); e != 0 {
		return e
	}
	if e := fs.check(OpWrite, fs.path(n)); e != 0 {
		return e
	}
	n.dirty.write(off, data)
	n.size = max(n.size, off+int64(len(data)))
	fs.stats.Writes++
	fs.stats.WriteBytes += uint64(len(data))
	return 0
}

// truncate sets file n's volatile size.
func (fs *FS) truncate(n *node, size int64) syscall.Errno {
	if e := fs.live(); e != 0 {
		return e
	}
	if e := fs.check(OpTruncate, fs.path(n)); e != 0 {
		return e
	}
	if size < n.size {
		n.keep = min(n.keep, size)
		n.dirty.truncate(size)
		n.lost.truncate(size)
	}
	n.size = size
	return 0
}

// Fallocate modes (linux/falloc.h).
const fallocKeepSize = 0x1

func (fs *FS) allocate(n *node, off, length uint64, mode uint32) syscall.Errno {
	if e := fs.live(); e != 0 {
		return e
	}
	if mode&^fallocKeepSize != 0 {
		return syscall.EOPNOTSUPP
	}
	if mode == 0 && int64(off+length) > n.size {
		n.size = int64(off + length)
	}
	return 0
}

// fsync makes file n's writes durable, or, for a directory, its entries.
func (fs *FS) fsync(n *node, pid uint32) syscall.Errno {
	if e := fs.live(); e != 0 {
		return e
	}
	if n.dir {
		if e := fs.check(OpFsyncDir, fs.path(n)); e != 0 {
			return e
		}
		if err := fs.applyDirBy(n, pid); err != nil {
			fs.logf("lazyfs: fsync directory %s: %v", fs.path(n), err)
			return gofs.ToErrno(err)
		}
		fs.stats.DirFsyncs++
		return 0
	}
	if e := fs.check(OpFsync, fs.path(n)); e != 0 {
		// As Linux does after a failed writeback: the pages stay in the
		// cache, marked clean; they are not written by a later fsync and
		// vanish at the cut.
		n.lost.merge(n.dirty)
		n.dirty = nil
		return e
	}
	if err := fs.writeBack(n); err != nil {
		fs.logf("lazyfs: fsync %s: %v", fs.path(n), err)
		return gofs.ToErrno(err)
	}
	if fs.ordered {
		if err := fs.applyAllDirs(); err != nil {
			fs.logf("lazyfs: fsync %s: commit the directory changes: %v", fs.path(n), err)
			return gofs.ToErrno(err)
		}
	}
	fs.stats.Fsyncs++
	return 0
}

// writeBack writes file n's unsynced state to its backing file.
func (fs *FS) writeBack(n *node) error {
	if len(n.dirty) == 0 && n.size == n.durSize && n.keep == n.durSize {
		return nil
	}
	f, e := fs.file(n)
	if e != 0 {
		return e
	}
	if n.keep < n.durSize {
		if err := f.Truncate(n.keep); err != nil {
			return err
		}
	}
	for _, x := range n.dirty {
		if _, err := f.WriteAt(x.data, x.off); err != nil {
			return err
		}
	}
	if err := f.Truncate(n.size); err != nil {
		return err
	}
	n.durSize, n.keep, n.dirty = n.size, n.size, nil
	return nil
}

// applyDir makes directory d's backing listing match its volatile one.
func (fs *FS) applyDir(d *node) error { return fs.applyDirBy(d, 0) }

// applyDirBy is applyDir on behalf of process pid, for diagnostics.
func (fs *FS) applyDirBy(d *node, pid uint32) error {
	if !d.loaded || d.gone {
		return nil
	}
	p := fs.dirPath(d)
	for _, name := range slices.Sorted(mapsKeys(d.dur)) {
		old := d.dur[name]
		if d.vol[name] == old {
			continue
		}
		full := filepath.Join(p, name)
		if old.dir {
			// A durable directory leaves its place only when removed
			// (rename moves it at once).
			if err := os.RemoveAll(full); err != nil {
				return err
			}
			delete(d.dur, name)
			fs.forgetTree(old)
			continue
		}
		if err := os.Remove(full); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		delete(d.dur, name)
		old.durLinks--
		fs.maybeFree(old)
	}
	for _, name := range slices.Sorted(mapsKeys(d.vol)) {
		c := d.vol[name]
		if d.dur[name] == c {
			continue
		}
		full := filepath.Join(p, name)
		if c.dir {
			if !c.staged {
				return fmt.Errorf("lazyfs: internal error: durable directory %s not at its place", fs.path(c))
			}
			if err := os.Rename(fs.dirPath(c), full); err != nil {
				return err
			}
			c.staged, c.durParent, c.durName = false, d, name
		} else {
			if err := os.Link(fs.stagePath(c), full); err != nil {
				return err
			}
			c.durLinks++
			if c.durSize != c.size || len(c.dirty) > 0 {
				fs.stats.EarlyEntries++
				fs.logf("lazyfs: fsync of directory %q by pid %d makes %q durable before its data: %d of %d bytes synced",
					fs.path(d), pid, name, c.durSize, c.size)
			}
		}
		d.dur[name] = c
	}
	return nil
}

// attr fills out with n's attributes.
func (fs *FS) attr(n *node, out *fuse.Attr) syscall.Errno {
	if e := fs.live(); e != 0 {
		return e
	}
	if n.gone || n.freed {
		return syscall.ENOENT
	}
	var st syscall.Stat_t
	var err error
	if !n.dir && n.f != nil {
		err = syscall.Fstat(int(n.f.Fd()), &st)
	} else {
		err = syscall.Lstat(fs.backingPath(n), &st)
	}
	if err != nil {
		return gofs.ToErrno(err)
	}
	out.FromStat(&st)
	out.Ino = n.id
	if !n.dir {
		out.Size = uint64(n.size)
		out.Blocks = (out.Size + 511) / 512
		out.Nlink = uint32(max(n.nlink, 0))
	}
	return 0
}

// setattr changes n's size (volatile, as a write), and mode, owner and times
// (durable at once).
func (fs *FS) setattr(n *node, in *fuse.SetAttrIn) syscall.Errno {
	if e := fs.live(); e != 0 {
		return e
	}
	p := fs.backingPath(n)
	if sz, ok := in.GetSize(); ok {
		if n.dir {
			return syscall.EISDIR
		}
		if e := fs.truncate(n, int64(sz)); e != 0 {
			return e
		}
	}
	if m, ok := in.GetMode(); ok {
		if err := os.Chmod(p, os.FileMode(m&0o777)|modeBits(m)); err != nil {
			return gofs.ToErrno(err)
		}
	}
	uid, uok := in.GetUID()
	gid, gok := in.GetGID()
	if uok || gok {
		u, g := -1, -1
		if uok {
			u = int(uid)
		}
		if gok {
			g = int(gid)
		}
		if err := os.Lchown(p, u, g); err != nil {
			return gofs.ToErrno(err)
		}
	}
	at, aok := in.GetATime()
	mt, mok := in.GetMTime()
	if aok || mok {
		ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
		if aok {
			ts[0] = unix.NsecToTimespec(at.UnixNano())
		}
		if mok {
			ts[1] = unix.NsecToTimespec(mt.UnixNano())
		}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return gofs.ToErrno(err)
		}
	}
	return 0
}

func modeBits(m uint32) os.FileMode {
	var fm os.FileMode
	if m&syscall.S_ISUID != 0 {
		fm |= os.ModeSetuid
	}
	if m&syscall.S_ISGID != 0 {
		fm |= os.ModeSetgid
	}
	if m&syscall.S_ISVTX != 0 {
		fm |= os.ModeSticky
	}
	return fm
}

func (fs *FS) statfs(out *fuse.StatfsOut) syscall.Errno {
	var st syscall.Statfs_t
	if err := syscall.Statfs(fs.backing, &st); err != nil {
		return gofs.ToErrno(err)
	}
	out.FromStatfsT(&st)
	return 0
}
