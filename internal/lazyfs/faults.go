package lazyfs

import (
	"fmt"
	"path"
	"strings"
	"syscall"
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
}

func (r Rule) String() string {
	s := fmt.Sprintf("%s %q", r.Op, r.Path)
	if r.After > 0 {
		s += fmt.Sprintf(" after %d", r.After)
	}
	if r.Times > 0 {
		s += fmt.Sprintf(" %d times", r.Times)
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
		if !r.matches(op, p) {
			continue
		}
		r.seen++
		if r.seen <= r.After || (r.Times > 0 && r.failed >= r.Times) {
			continue
		}
		r.failed++
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
