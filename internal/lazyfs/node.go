package lazyfs

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// fnode is the go-fuse face of a node. go-fuse may hold several fnodes of
// one node (it keeps the first, by inode number); all state is in the node.
type fnode struct {
	gofs.Inode
	fs *FS
	n  *node
}

// handle is the file handle of an open file.
type handle struct{}

var (
	_ gofs.NodeLookuper  = (*fnode)(nil)
	_ gofs.NodeReaddirer = (*fnode)(nil)
	_ gofs.NodeCreater   = (*fnode)(nil)
	_ gofs.NodeMkdirer   = (*fnode)(nil)
	_ gofs.NodeUnlinker  = (*fnode)(nil)
	_ gofs.NodeRmdirer   = (*fnode)(nil)
	_ gofs.NodeRenamer   = (*fnode)(nil)
	_ gofs.NodeLinker    = (*fnode)(nil)
	_ gofs.NodeOpener    = (*fnode)(nil)
	_ gofs.NodeReleaser  = (*fnode)(nil)
	_ gofs.NodeReader    = (*fnode)(nil)
	_ gofs.NodeWriter    = (*fnode)(nil)
	_ gofs.NodeFsyncer   = (*fnode)(nil)
	_ gofs.NodeFlusher   = (*fnode)(nil)
	_ gofs.NodeGetattrer = (*fnode)(nil)
	_ gofs.NodeSetattrer = (*fnode)(nil)
	_ gofs.NodeAllocater = (*fnode)(nil)
	_ gofs.NodeStatfser  = (*fnode)(nil)
)

func (f *fnode) child(ctx context.Context, c *node, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	f.fs.mu.Lock()
	e := f.fs.attr(c, &out.Attr)
	f.fs.mu.Unlock()
	if e != 0 {
		return nil, e
	}
	mode := uint32(syscall.S_IFREG)
	if c.dir {
		mode = syscall.S_IFDIR
	}
	return f.NewInode(ctx, &fnode{fs: f.fs, n: c}, gofs.StableAttr{Mode: mode, Ino: c.id}), 0
}

func (f *fnode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	f.fs.mu.Lock()
	c, e := f.fs.lookup(f.n, name)
	f.fs.mu.Unlock()
	if e != 0 {
		return nil, e
	}
	return f.child(ctx, c, out)
}

func (f *fnode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	f.fs.mu.Lock()
	ents, e := f.fs.readdir(f.n)
	f.fs.mu.Unlock()
	if e != 0 {
		return nil, e
	}
	list := make([]fuse.DirEntry, len(ents))
	for i, x := range ents {
		mode := uint32(syscall.S_IFREG)
		if x.Dir {
			mode = syscall.S_IFDIR
		}
		list[i] = fuse.DirEntry{Name: x.Name, Ino: x.Ino, Mode: mode}
	}
	return gofs.NewListDirStream(list), 0
}

func (f *fnode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	f.fs.mu.Lock()
	c, e := f.fs.create(f.n, name, flags&syscall.O_EXCL != 0, mode)
	if e == 0 && flags&syscall.O_TRUNC != 0 {
		e = f.fs.truncate(c, 0)
	}
	f.fs.mu.Unlock()
	if e != 0 {
		return nil, nil, 0, e
	}
	in, e := f.child(ctx, c, out)
	if e != 0 {
		return nil, nil, 0, e
	}
	return in, &handle{}, 0, 0
}

func (f *fnode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	f.fs.mu.Lock()
	c, e := f.fs.mkdir(f.n, name, mode)
	f.fs.mu.Unlock()
	if e != 0 {
		return nil, e
	}
	return f.child(ctx, c, out)
}

func (f *fnode) Unlink(ctx context.Context, name string) syscall.Errno {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return f.fs.unlink(f.n, name)
}

func (f *fnode) Rmdir(ctx context.Context, name string) syscall.Errno {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return f.fs.rmdir(f.n, name)
}

func (f *fnode) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	p2, ok := newParent.(*fnode)
	if !ok {
		return syscall.EXDEV
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return f.fs.rename(f.n, name, p2.n, newName, flags)
}

func (f *fnode) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	t, ok := target.(*fnode)
	if !ok {
		return nil, syscall.EXDEV
	}
	f.fs.mu.Lock()
	e := f.fs.link(t.n, f.n, name)
	f.fs.mu.Unlock()
	if e != 0 {
		return nil, e
	}
	return f.child(ctx, t.n, out)
}

func (f *fnode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.n.dir {
		return nil, 0, syscall.EISDIR
	}
	if e := f.fs.open(f.n); e != 0 {
		return nil, 0, e
	}
	if flags&syscall.O_TRUNC != 0 {
		if e := f.fs.truncate(f.n, 0); e != 0 {
			f.fs.closeFile(f.n)
			return nil, 0, e
		}
	}
	return &handle{}, 0, 0
}

func (f *fnode) Release(ctx context.Context, fh gofs.FileHandle) syscall.Errno {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	f.fs.closeFile(f.n)
	return 0
}

func (f *fnode) Flush(ctx context.Context, fh gofs.FileHandle) syscall.Errno {
	// close(2) makes nothing durable.
	return 0
}

func (f *fnode) Read(ctx context.Context, fh gofs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	b, e := f.fs.read(f.n, dest, off)
	if e != 0 {
		return nil, e
	}
	return fuse.ReadResultData(b), 0
}

func (f *fnode) Write(ctx context.Context, fh gofs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if e := f.fs.write(f.n, data, off); e != 0 {
		return 0, e
	}
	return uint32(len(data)), 0
}

func (f *fnode) Fsync(ctx context.Context, fh gofs.FileHandle, flags uint32) syscall.Errno {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	var pid uint32
	if c, ok := ctx.(*fuse.Context); ok {
		pid = c.Caller.Pid
	}
	return f.fs.fsync(f.n, pid)
}

func (f *fnode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return f.fs.attr(f.n, &out.Attr)
}

func (f *fnode) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if e := f.fs.setattr(f.n, in); e != 0 {
		return e
	}
	return f.fs.attr(f.n, &out.Attr)
}

func (f *fnode) Allocate(ctx context.Context, fh gofs.FileHandle, off uint64, size uint64, mode uint32) syscall.Errno {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.n.dir {
		return syscall.EISDIR
	}
	return f.fs.allocate(f.n, off, size, mode)
}

func (f *fnode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	return f.fs.statfs(out)
}
