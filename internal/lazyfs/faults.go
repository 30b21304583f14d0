package lazyfs

import (
	"fmt"
	"path"
	"strings"
	"syscall"
	"time"
)

// Op is a kind of file-system operation, for fault injection.
type Op string

// The operations a Rule can fail.
const (
	OpWrite    Op = "write"    // WRITE to a file (write(2), or the kernel writing back mmap'd pages)
	OpFsync    Op = "fsync"    // fsync(2) or fdatasync(2) of a file (also msync(MS_SYNC))
	OpFsyncDir Op = "fsyncdir" // fsync(2) of a directory
	OpRename   Op = "rename"   // rename(2); the path is the source's
	OpCreate   Op = "create"   // creation of a file
	OpMkdir    Op = "mkdir"
	OpUnlink   Op = "unlink"
	OpRmdir    Op = "rmdir"
	OpLink     Op = "link" // link(2); the path is the new name's
	OpTruncate Op = "truncate"
	OpRead     Op = "read"
)

// Rule fails matching operations with an errno. A Rule is plain data, so a
// test can send it to a lazyfs server process.
type Rule struct {
	// Op is the operation to fail.
	Op Op `json:"op"`
	// Path selects the files by their path relative to the mount point,
	// with slashes and no leading slash ("engine/000004.log"). It is a
	// path.Match pattern, matched against the whole path and, when it has
	// no slash, also against the base name; "" matches every path. A
	// pattern ending in "/" matches everything under that directory
	// ("snapshots/").
	Path string `json:"path,omitempty"`
	// After skips that many matching operations before the first failure.
	After int `json:"after,omitempty"`
	// Times bounds the number of failures: 0 fails every matching
	// operation from then on, as a dead disk would; 1 fails one, as a
	// transient error would.
	Times int `json:"times,omitempty"`
	// Errno is the error, syscall.EIO when zero.
	Errno syscall.Errno `json:"errno,omitempty"`
	// Cut, instead of failing the operation, cuts the power as it
	// arrives, before it takes effect: the volatile state is dropped as by
	// FS.Cut, and this and every later operation fails with EIO. A crash
	// point at a chosen operation (the third fsync of a write-ahead log,
	// say) rather than at a moment. The mount stays up, failing, until
	// the test's own Cut or Close takes it down.
	Cut bool `json:"cut,omitempty"`
	// Delay, instead of failing the operation, holds it that long before
	// it takes effect, as a slow disk would; the rest of the file system
	// goes on meanwhile. It applies to the operations on an open file
	// (fsync, fsyncdir, write, read), and a rule that delays is the last
	// one checked for the operation.
	Delay time.Duration `json:"delay,omitempty"`
	// Older matches only a file that has a newer sibling: another name in
	// the same directory that Path matches too and that sorts after it,
	// as an older one of numbered, zero-padded logs does ("engine/*.mem").
	Older bool `json:"older,omitempty"`
}

func (r Rule) String() string {
	s := fmt.Sprintf("%s %q", r.Op, r.Path)
	if r.After > 0 {
		s += fmt.Sprintf(" after %d", r.After)
	}
	if r.Times > 0 {
		s += fmt.Sprintf(" %d times", r.Times)
	}
	if r.Older {
		s += " (an older file)"
	}
	if r.Delay > 0 {
		s += fmt.Sprintf(": delay %v", r.Delay)
	}
	if r.Cut {
		s += ": cut the power"
	}
	return s
}

func (r *Rule) matches(op Op, p string) bool {
	if r.Op != op {
		return false
	}
	switch {
	case r.Path == "":
		return true
	case strings.HasSuffix(r.Path, "/"):
		return strings.HasPrefix(p, r.Path)
	}
	if ok, _ := path.Match(r.Path, p); ok {
		return true
	}
	if !strings.Contains(r.Path, "/") {
		ok, _ := path.Match(r.Path, path.Base(p))
		return ok
	}
	return false
}

// rule is an active Rule with its counters.
type rule struct {
	Rule
	seen, failed int
}

// check returns the errno the rules give op on p, or 0. The caller holds
// the file system's lock.
func (fs *FS) check(op Op, p string) syscall.Errno {
	for _, r := range fs.rules {
		if !r.matches(op, p) || (r.Older && !fs.hasNewerSibling(&r.Rule, p)) {
			continue
		}
		r.seen++
		if r.seen <= r.After || (r.Times > 0 && r.failed >= r.Times) {
			continue
		}
		r.failed++
		if r.Delay > 0 && (op == OpFsync || op == OpFsyncDir || op == OpWrite || op == OpRead) {
			// The rules may be replaced while the lock is released:
			// stop here.
			fs.mu.Unlock()
			time.Sleep(r.Delay)
			fs.mu.Lock()
			return fs.live()
		}
		if r.Cut {
			fs.logf("lazyfs: power cut at %s %s (rule %v)", op, p, r.Rule)
			fs.cutLocked()
			fs.stats.CutAt = fmt.Sprintf("%s %s", op, p)
			return syscall.EIO
		}
		fs.stats.Faults++
		fs.logf("lazyfs: injected %v on %s %s (rule %v)", r.errno(), op, p, r.Rule)
		return r.errno()
	}
	return 0
}

func (r *Rule) errno() syscall.Errno {
	if r.Errno == 0 {
		return syscall.EIO
	}
	return r.Errno
}

// hasNewerSibling reports whether the directory of the file at p holds
// another name that matches r and sorts after p's; the caller holds mu.
func (fs *FS) hasNewerSibling(r *Rule, p string) bool {
	dir, base := path.Split(p)
	d := fs.root
	for _, name := range strings.Split(strings.Trim(dir, "/"), "/") {
		if name == "" {
			continue
		}
		if d = d.vol[name]; d == nil || !d.dir {
			return false
		}
	}
	for name := range d.vol {
		if name > base && r.matches(r.Op, dir+name) {
			return true
		}
	}
	return false
}
